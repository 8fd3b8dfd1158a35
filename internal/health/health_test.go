package health

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHandler(t *testing.T) {
	ok := Check{Name: "object store", Run: func(context.Context) error { return nil }}
	down := Check{Name: "metadata store", Run: func(context.Context) error { return errors.New("connection refused") }}
	hung := Check{Name: "metadata store", Run: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api") })
	for _, c := range []struct {
		name   string
		checks []Check
		next   http.Handler
		path   string
		status int
		body   []string // substrings the body must hold
	}{
		{"alive whatever the stores", []Check{down}, api, HealthPath, 200, []string{"ok"}},
		{"ready", []Check{ok, ok}, api, ReadyPath, 200, []string{"ready"}},
		{"a store down: 503 naming it", []Check{ok, down}, api, ReadyPath, 503, []string{"not ready", "metadata store: connection refused"}},
		{"a hung store is cut at the timeout", []Check{hung}, api, ReadyPath, 503, []string{"metadata store: context deadline exceeded"}},
		{"every failure is named", []Check{down, down}, nil, ReadyPath, 503, []string{"refused\nmetadata store: connection"}},
		{"other paths pass through", []Check{down}, api, "/sequencestore", 200, []string{"api"}},
		{"other paths without next: 404", nil, nil, "/metrics", 404, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := &Checker{Checks: c.checks, Timeout: 50 * time.Millisecond, Reuse: time.Nanosecond}
			srv := httptest.NewServer(h.Handler(c.next))
			defer srv.Close()
			resp, err := http.Get(srv.URL + c.path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("GET %s: %d %q, want %d", c.path, resp.StatusCode, b, c.status)
			}
			for _, want := range c.body {
				if !strings.Contains(string(b), want) {
					t.Errorf("GET %s: body %q lacks %q", c.path, b, want)
				}
			}
		})
	}
}

// Probes in quick succession share one run of the checks.
func TestReadyReusesAnAnswer(t *testing.T) {
	runs := 0
	h := &Checker{Checks: []Check{{Name: "store", Run: func(context.Context) error { runs++; return nil }}}, Reuse: time.Hour}
	for range 3 {
		if reasons := h.Ready(context.Background()); reasons != nil {
			t.Fatal(reasons)
		}
	}
	if runs != 1 {
		t.Errorf("three probes ran the checks %d times, want 1", runs)
	}
	h.Reuse = time.Nanosecond
	time.Sleep(time.Microsecond)
	h.Ready(context.Background())
	if runs != 2 {
		t.Errorf("a probe after the answer expired ran the checks %d times in all, want 2", runs)
	}
}
