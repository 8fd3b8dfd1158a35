package omicsapi

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLogRequestIDs(t *testing.T) {
	inRequest := context.WithValue(context.Background(), requestStateKey{}, &requestState{id: "req-1"})
	for _, c := range []struct {
		name string
		log  func(l *slog.Logger)
		want string // the line, after the time
	}{
		{"a line in a request names it", func(l *slog.Logger) { l.InfoContext(inRequest, "store created", "store", "1") },
			`level=INFO msg="store created" store=1 request_id=req-1`},
		{"a line that names it already keeps one", func(l *slog.Logger) { l.InfoContext(inRequest, "request", "request_id", "req-1") },
			`level=INFO msg=request request_id=req-1`},
		{"a line outside a request is left alone", func(l *slog.Logger) { l.InfoContext(context.Background(), "ingesting") },
			`level=INFO msg=ingesting`},
		{"a line without a context is left alone", func(l *slog.Logger) { l.Info("ingesting") },
			`level=INFO msg=ingesting`},
		{"With keeps the wrapper", func(l *slog.Logger) { l.With("account", "a").InfoContext(inRequest, "deleted") },
			`level=INFO msg=deleted account=a request_id=req-1`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey && len(groups) == 0 {
					return slog.Attr{}
				}
				return a
			}})
			c.log(slog.New(LogRequestIDs(h)))
			if got := strings.TrimSpace(buf.String()); got != c.want {
				t.Errorf("logged %q, want %q", got, c.want)
			}
		})
	}
}

func TestOperationName(t *testing.T) {
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/sequencestore/1234567890", "GetSequenceStore"},
		{"POST", "/sequencestore", "CreateSequenceStore"},
		{"DELETE", "/sequencestore", ""},
		{"GET", "/healthz", ""},
		{"GET", "/" + strings.Repeat("a/", 100), ""},
	} {
		if got := OperationName(httptest.NewRequest(c.method, c.path, nil)); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.method, c.path, got, c.want)
		}
	}
}
