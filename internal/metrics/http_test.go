package metrics

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The middleware counts each request by operation and status, the body
// bytes read and written (through io.Copy's ReadFrom path too, which a
// stored file's sendfile takes), and a handler that aborts as a 500.
func TestHTTP(t *testing.T) {
	file := filepath.Join(t.TempDir(), "payload")
	if err := os.WriteFile(file, bytes.Repeat([]byte("x"), 5000), 0o600); err != nil {
		t.Fatal(err)
	}
	m := New()
	h := m.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/echo":
			io.Copy(w, r.Body)
		case "/file":
			f, _ := os.Open(file)
			defer f.Close()
			io.Copy(w, f)
		case "/missing":
			http.Error(w, "no such thing", http.StatusNotFound)
		case "/abort":
			panic(http.ErrAbortHandler)
		}
	}), func(r *http.Request) string { return strings.TrimPrefix(r.URL.Path, "/") })
	srv := httptest.NewServer(h)
	defer srv.Close()

	for _, c := range []struct {
		path   string
		body   string
		status int
	}{
		{"/echo", "hello", 200},
		{"/echo", "again", 200},
		{"/file", "", 200},
		{"/missing", "", 404},
		{"/abort", "", 0}, // the connection is cut
	} {
		resp, err := http.Post(srv.URL+c.path, "text/plain", strings.NewReader(c.body))
		if c.status == 0 {
			if err == nil {
				resp.Body.Close()
				t.Fatalf("POST %s: answered %d, want the connection cut", c.path, resp.StatusCode)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Fatalf("POST %s: %d, want %d", c.path, resp.StatusCode, c.status)
		}
	}
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"echo 200", testutil.ToFloat64(m.requests.WithLabelValues("echo", "200")), 2},
		{"missing 404", testutil.ToFloat64(m.requests.WithLabelValues("missing", "404")), 1},
		{"abort 500", testutil.ToFloat64(m.requests.WithLabelValues("abort", "500")), 1},
		{"echo bytes in", testutil.ToFloat64(m.bytesIn.WithLabelValues("echo")), 10},
		{"echo bytes out", testutil.ToFloat64(m.bytesOut.WithLabelValues("echo")), 10},
		{"file bytes out", testutil.ToFloat64(m.bytesOut.WithLabelValues("file")), 5000},
		{"in flight", testutil.ToFloat64(m.inFlight), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}
