package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/testutil"
)

// modelPath is the shared model as the go:generate line in omicsapi names it:
// the shared folder sits beside the repository.
const modelPath = "../../../../shared/spec/omics-2022-11-28.service-2.json"

// TestGeneratedCodeMatchesModel regenerates package omicsapi into a temporary
// directory and fails when the committed files differ, so the generated code
// never drifts from the model or the generator.
func TestGeneratedCodeMatchesModel(t *testing.T) {
	testutil.RequireDir(t, filepath.Dir(modelPath))
	dir := t.TempDir()
	if err := run(modelPath, "", dir); err != nil {
		t.Fatal(err)
	}
	fresh, _ := filepath.Glob(filepath.Join(dir, "*_gen.go"))
	committed, _ := filepath.Glob("../omicsapi/*_gen.go")
	names := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			out = append(out, filepath.Base(p))
		}
		sort.Strings(out)
		return out
	}
	if got, want := strings.Join(names(committed), " "), strings.Join(names(fresh), " "); got != want {
		t.Fatalf("committed generated files %s, generator writes %s: run go generate ./internal/api/omicsapi", got, want)
	}
	for _, name := range names(fresh) {
		want, _ := os.ReadFile(filepath.Join(dir, name))
		got, _ := os.ReadFile(filepath.Join("../omicsapi", name))
		if !bytes.Equal(got, want) {
			t.Errorf("omicsapi/%s differs from what the model generates: run go generate ./internal/api/omicsapi", name)
		}
	}
}

func TestGenerationIsDeterministic(t *testing.T) {
	testutil.RequireDir(t, filepath.Dir(modelPath))
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
	testutil.RequireDir(t, filepath.Dir(modelPath))
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
