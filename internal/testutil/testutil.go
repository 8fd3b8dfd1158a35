// Package testutil holds the few helpers that tests across seqstore share:
// finding the external tools (samtools, seqkit, ...) and Debian's test data
// that the tests compare against.
package testutil

import (
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// EnvWithoutAWS is the process environment less every AWS_ variable, for
// running a real AWS client against a test server: a developer who pasted
// seqstore's export lines (AWS_ENDPOINT_URL_OMICS,
// AWS_DISABLE_HOST_PREFIX_INJECTION, keys) must not steer the client away
// from what the test sets up.
func EnvWithoutAWS() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}

// InCI reports whether the tests run under the project's CI script, where
// every tool and data package is installed and a missing one is a failure,
// not a reason to skip.
func InCI() bool { return os.Getenv("CI") != "" }

// RequireTool returns the path of an external command the test needs. Outside
// CI a missing tool skips the test; in CI it fails it, so that a missing
// install step in .ci/run cannot hide behind a skip.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if InCI() {
			t.Fatalf("%s is not installed; .ci/run must install it", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

// RequireDir returns dir when it exists (a data package's folder such as
// Debian's htslib-test). It skips or fails like RequireTool.
func RequireDir(t testing.TB, dir string) string {
	t.Helper()
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if InCI() {
			t.Fatalf("%s is missing; .ci/run must install the package that provides it", dir)
		}
		t.Skipf("%s is missing", dir)
	}
	return dir
}

// Glob returns the files matching pattern, failing the test when none match.
func Glob(t testing.TB, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) == 0 {
		t.Fatalf("no files match %s", pattern)
	}
	return m
}

// Run runs a command and returns its standard output, failing the test with
// the command's standard error when it exits non-zero.
func Run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr []byte
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = ee.Stderr
	}
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr)
	}
	return out
}

// HiSeqXReads returns the Illumina HiSeq X reads that Debian's
// seqkit-examples ships, uncompressed: real reads, small enough for a unit
// test. Without the package the test skips, or fails in CI.
func HiSeqXReads(t testing.TB) []byte {
	t.Helper()
	dir := RequireDir(t, "/usr/share/doc/seqkit-examples/tests")
	return Gunzip(t, filepath.Join(dir, "Illimina1.8.fq.gz"))
}

// Gunzip returns the uncompressed content of a gzipped file.
func Gunzip(t testing.TB, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// GunzipTo writes a gzipped file uncompressed into dir, under its name less
// ".gz", and returns the new file's path.
func GunzipTo(t testing.TB, src, dir string) string {
	t.Helper()
	dst := filepath.Join(dir, strings.TrimSuffix(filepath.Base(src), ".gz"))
	if err := os.WriteFile(dst, Gunzip(t, src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// Get fetches url and returns its status and body.
func Get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
