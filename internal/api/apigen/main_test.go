package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// modelPath is the model as the go:generate line in omicsapi names it: the
// repository keeps its own copy, so these tests need nothing beside it.
const modelPath = "../../../api/omics/2022-11-28/service-2.json"

// regenerate is what to run when the committed code and the model disagree.
const regenerate = "go generate ./internal/api/omicsapi"

// committedDir holds the generated code as committed.
const committedDir = "../omicsapi"

// TestGeneratedCodeMatchesModel regenerates package omicsapi from the model
// and fails when the committed files differ, so the generated code never
// drifts from the model or the generator.
func TestGeneratedCodeMatchesModel(t *testing.T) {
	drift, err := generatedDrift(modelPath, committedDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range drift {
		t.Errorf("%s: run %s from the repository root", d, regenerate)
	}
}

// TestDriftIsReported checks that the comparison above can fail: a model that
// gains one enum value, or loses an operation, must be reported against the
// committed code.
func TestDriftIsReported(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(m map[string]any)
		wants string // a file the drift must name
	}{
		{"an enum value added", func(m map[string]any) {
			shape := m["shapes"].(map[string]any)["ReadSetStatus"].(map[string]any)
			shape["enum"] = append(shape["enum"].([]any), "MELTED")
		}, "enums_gen.go"},
		{"a storage operation removed", func(m map[string]any) {
			delete(m["operations"].(map[string]any), "GetReadSetMetadata")
		}, "handler_gen.go"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			data, err := os.ReadFile(modelPath)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			tc.edit(m)
			dir := t.TempDir()
			edited := filepath.Join(dir, "service-2.json")
			out, _ := json.Marshal(m)
			if err := os.WriteFile(edited, out, 0o644); err != nil {
				t.Fatal(err)
			}
			pag, err := os.ReadFile(defaultPaginators(modelPath))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(defaultPaginators(edited), pag, 0o644); err != nil {
				t.Fatal(err)
			}
			drift, err := generatedDrift(edited, committedDir)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(drift, "\n"), tc.wants) {
				t.Errorf("drift %q does not name %s", drift, tc.wants)
			}
		})
	}
}

// generatedDrift regenerates the code from model into a temporary directory
// and describes every way the code in committed differs from it.
func generatedDrift(model, committed string) ([]string, error) {
	dir, err := os.MkdirTemp("", "apigen-drift-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := run(model, "", dir); err != nil {
		return nil, err
	}
	fresh, _ := filepath.Glob(filepath.Join(dir, "*_gen.go"))
	kept, _ := filepath.Glob(filepath.Join(committed, "*_gen.go"))
	names := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			out = append(out, filepath.Base(p))
		}
		sort.Strings(out)
		return out
	}
	if got, want := strings.Join(names(kept), " "), strings.Join(names(fresh), " "); got != want {
		return []string{fmt.Sprintf("committed generated files are %s, the generator writes %s", got, want)}, nil
	}
	var drift []string
	for _, name := range names(fresh) {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		got, err := os.ReadFile(filepath.Join(committed, name))
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(got, want) {
			drift = append(drift, fmt.Sprintf("omicsapi/%s differs from what %s generates", name, model))
		}
	}
	return drift, nil
}

func TestGenerationIsDeterministic(t *testing.T) {
	first, err := generateFiles(modelPath, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, err := generateFiles(modelPath, "")
		if err != nil {
			t.Fatal(err)
		}
		for name, src := range first {
			if !bytes.Equal(src, again[name]) {
				t.Fatalf("%s differs between two runs", name)
			}
		}
	}
}

func TestStorageScope(t *testing.T) {
	m, err := loadModel(modelPath, defaultPaginators(modelPath))
	if err != nil {
		t.Fatal(err)
	}
	ops := m.storageOperations()
	if got, want := len(ops), 41; got != want {
		t.Errorf("%d storage operations, want %d", got, want)
	}
	if got, want := len(m.paginators) > 0, true; got != want {
		t.Errorf("no paginators read")
	}
}

func TestEnumConstName(t *testing.T) {
	for _, tc := range []struct{ typ, value, want string }{
		{"ReadSetStatus", "PROCESSING_UPLOAD", "ReadSetStatusProcessingUpload"},
		{"ETagAlgorithm", "FASTQ_MD5up", "ETagAlgorithmFastqMd5up"},
		{"FileType", "UBAM", "FileTypeUbam"},
		{"ETagAlgorithmFamily", "SHA256up", "ETagAlgorithmFamilySha256up"},
	} {
		if got := enumConstName(tc.typ, tc.value); got != tc.want {
			t.Errorf("enumConstName(%s, %s) = %s, want %s", tc.typ, tc.value, got, tc.want)
		}
	}
}

func TestExported(t *testing.T) {
	for in, want := range map[string]string{"id": "Id", "eTagAlgorithmFamily": "ETagAlgorithmFamily", "s3AccessPointArn": "S3AccessPointArn"} {
		if got := exported(in); got != want {
			t.Errorf("exported(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestRE2TranslationKeepsMeaning checks the rewrite of .{1,1024} on values
// around the bounds, against a reference built without counted repetition.
func TestRE2TranslationKeepsMeaning(t *testing.T) {
	model := `s3://([a-z0-9][a-z0-9-.]{1,61}[a-z0-9])/(.{1,1024})`
	re, err := anchored(model)
	if err != nil {
		t.Fatal(err)
	}
	bucket := regexp.MustCompile(`^s3://[a-z0-9][a-z0-9-.]{1,61}[a-z0-9]/`)
	for _, n := range []int{0, 1, 2, 999, 1000, 1001, 1023, 1024, 1025, 2000} {
		value := "s3://my-bucket/" + strings.Repeat("k", n)
		want := bucket.MatchString(value) && n >= 1 && n <= 1024
		if got := re.MatchString(value); got != want {
			t.Errorf("key of %d characters: match %v, want %v", n, got, want)
		}
	}
	if got := re2Translation(`a.{1,800}`); got != `a.{1,800}` {
		t.Errorf("a repeat within RE2's limit was rewritten: %s", got)
	}
}

func TestFirstSentence(t *testing.T) {
	got := firstSentence(`<p>Gets a read set. More text.</p> <p>For more, see <a href="x">docs</a>.</p>`)
	if want := "Gets a read set."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
