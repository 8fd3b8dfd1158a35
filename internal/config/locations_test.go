package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/location"
)

func TestTransferSettings(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	clear := map[string]string{"SEQSTORE_FILE_ROOT": "", "SEQSTORE_LOCATIONS": "", "SEQSTORE_TRANSFER_PART_SIZE": "", "SEQSTORE_TRANSFER_CONCURRENCY": ""}
	for _, c := range []struct {
		name    string
		env     map[string]string
		args    []string
		want    location.Config
		wantErr string
	}{
		{name: "the defaults reach no files", want: location.Config{PartSize: 8 << 20, Concurrency: 4}},
		{name: "file roots from flags, made absolute", args: []string{"-file-root", "/data/in", "-file-root", "rel"},
			want: location.Config{PartSize: 8 << 20, Concurrency: 4, FileRoots: []location.FileRoot{{Dir: "/data/in"}, {Dir: filepath.Join(wd, "rel")}}}},
		{name: "file roots from the variable", env: map[string]string{"SEQSTORE_FILE_ROOT": "/a:/b"},
			want: location.Config{PartSize: 8 << 20, Concurrency: 4, FileRoots: []location.FileRoot{{Dir: "/a"}, {Dir: "/b"}}}},
		{name: "the flag replaces the variable's roots", env: map[string]string{"SEQSTORE_FILE_ROOT": "/a:/b"}, args: []string{"-file-root", "/c"},
			want: location.Config{PartSize: 8 << 20, Concurrency: 4, FileRoots: []location.FileRoot{{Dir: "/c"}}}},
		{name: "part size and concurrency from flags", args: []string{"-transfer-part-size", "16MiB", "-transfer-concurrency", "8"},
			want: location.Config{PartSize: 16 << 20, Concurrency: 8}},
		{name: "part size and concurrency from variables", env: map[string]string{"SEQSTORE_TRANSFER_PART_SIZE": "1GiB", "SEQSTORE_TRANSFER_CONCURRENCY": "2"},
			want: location.Config{PartSize: 1 << 30, Concurrency: 2}},
		{name: "a part too small", args: []string{"-transfer-part-size", "1KiB"}, wantErr: "-transfer-part-size 1KiB: use between 64KiB and 5GiB"},
		{name: "a part size that is no size", env: map[string]string{"SEQSTORE_TRANSFER_PART_SIZE": "big"}, wantErr: "SEQSTORE_TRANSFER_PART_SIZE"},
		{name: "no concurrency", args: []string{"-transfer-concurrency", "0"}, wantErr: "-transfer-concurrency 0: use between 1 and 64"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range clear {
				t.Setenv(k, v)
			}
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			cfg, err := parse(t, c.args...)
			checkLocations(t, cfg, err, c.want, c.wantErr)
		})
	}
}

func TestLocationsFile(t *testing.T) {
	t.Setenv("SEQSTORE_FILE_ROOT", "")
	t.Setenv("SEQSTORE_LOCATIONS", "")
	full := `{
  "fileRoots": [{"dir": "/srv/shared"}, {"dir": "/srv/lab-a", "accounts": ["111122223333"]}],
  "buckets": [
    {"name": "lab-a", "endpoint": "https://minio.example:9000", "region": "eu-west-1", "pathStyle": true,
     "accessKeyId": "AKID", "secretAccessKey": "SECRET", "accounts": ["111122223333", "444455556666"]},
    {"name": "references", "profile": "readonly"}
  ],
  "denyUnlistedBuckets": true
}`
	for _, c := range []struct {
		name    string
		json    string
		want    location.Config
		wantErr string
	}{
		{name: "every field", json: full, want: location.Config{
			PartSize: 8 << 20, Concurrency: 4,
			FileRoots: []location.FileRoot{{Dir: "/cli"}, {Dir: "/srv/shared"}, {Dir: "/srv/lab-a", Accounts: []string{"111122223333"}}},
			Buckets: []location.Bucket{
				{Name: "lab-a", Endpoint: "https://minio.example:9000", Region: "eu-west-1", PathStyle: true, AccessKeyID: "AKID", SecretAccessKey: "SECRET", Accounts: []string{"111122223333", "444455556666"}},
				{Name: "references", Profile: "readonly"},
			},
			DenyUnlistedBuckets: true,
		}},
		{name: "the example of the flag's help", json: locationsUsage[strings.Index(locationsUsage, "{") : strings.LastIndex(locationsUsage, "}")+1], want: location.Config{
			PartSize: 8 << 20, Concurrency: 4,
			FileRoots: []location.FileRoot{{Dir: "/cli"}, {Dir: "/abs/dir", Accounts: []string{"111122223333"}}},
			Buckets: []location.Bucket{
				{Name: "b", Endpoint: "http://host:9000", Region: "us-east-1", PathStyle: true, AccessKeyID: "...", SecretAccessKey: "...", Accounts: []string{"111122223333"}},
				{Name: "c", Profile: "p"},
			},
			DenyUnlistedBuckets: true,
		}},
		{name: "a profile and keys", json: `{"buckets": [{"name": "b", "profile": "p", "accessKeyId": "A", "secretAccessKey": "S"}]}`, wantErr: "give a profile or keys, not both"},
		{name: "a misspelt field", json: `{"buckets": [{"name": "b", "pathStile": true}]}`, wantErr: `unknown field "pathStile"`},
		{name: "a relative directory", json: `{"fileRoots": [{"dir": "data"}]}`, wantErr: `dir "data" must be an absolute path`},
		{name: "an account that is no account ID", json: `{"fileRoots": [{"dir": "/d", "accounts": ["lab-a"]}]}`, wantErr: `account "lab-a" is not a 12-digit account ID`},
		{name: "half a key", json: `{"buckets": [{"name": "b", "accessKeyId": "AKID"}]}`, wantErr: "together"},
		{name: "a bucket without a name", json: `{"buckets": [{"region": "us-east-1"}]}`, wantErr: "name is missing"},
		{name: "an endpoint that is no URL", json: `{"buckets": [{"name": "b", "endpoint": "minio:9000"}]}`, wantErr: "must be an http:// or https:// URL"},
		{name: "two objects", json: `{} {}`, wantErr: "more than one JSON object"},
		{name: "not JSON", json: `fileRoots: /d`, wantErr: "not the JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "locations.json")
			if err := os.WriteFile(path, []byte(c.json), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := parse(t, "-file-root", "/cli", "-locations", path)
			if err != nil && !strings.Contains(err.Error(), path) {
				t.Errorf("%v does not name the file", err)
			}
			checkLocations(t, cfg, err, c.want, c.wantErr)
		})
	}
	if _, err := parse(t, "-locations", filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("a missing -locations file: %v", err)
	}
}

// TestREADMELocationsExample keeps the README's example of a -locations
// file one the server accepts.
func TestREADMELocationsExample(t *testing.T) {
	t.Setenv("SEQSTORE_FILE_ROOT", "")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "### Where import and export jobs read and write")
	if !ok {
		t.Fatal("the README has no section on where jobs read and write")
	}
	_, rest, ok = strings.Cut(rest, "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("the section has no JSON example")
	}
	path := filepath.Join(t.TempDir(), "locations.json")
	if err := os.WriteFile(path, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := parse(t, "-locations", path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Locations()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.FileRoots) != 2 || len(got.Buckets) != 2 || !got.DenyUnlistedBuckets || got.Buckets[0].Accounts[0] != "111122223333" {
		t.Errorf("the example reads as %+v", got)
	}
}

// checkLocations compares what parse gave with the location configuration
// or the error wanted.
func checkLocations(t *testing.T, cfg *Config, err error, want location.Config, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("got %v, want an error containing %q", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Locations()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}
