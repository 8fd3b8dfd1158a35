package omicsapi

import (
	"context"
	"log/slog"
	"net/http"
)

// OperationName returns the name of the operation the router would serve r
// with, or "" when none matches: for layers outside the router (metrics)
// that label by operation.
func OperationName(r *http.Request) string {
	var buf [maxPathSegments]string
	segs, ok := splitPath(r.URL.EscapedPath(), buf[:0])
	if !ok {
		return ""
	}
	if op, _, _ := matchRoute(r.Method, segs); op != nil {
		return op.Name
	}
	return ""
}

// LogRequestIDs wraps a log handler so that every line logged with a
// request's context (InfoContext and the like, anywhere below the handler)
// carries the request's ID as request_id, the x-amzn-RequestId its client
// was sent: one ID finds every line of a request.
func LogRequestIDs(h slog.Handler) slog.Handler {
	return requestIDHandler{h}
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" && !hasRequestID(r) {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// hasRequestID reports whether the line names its request already, as the
// router's own lines do.
func hasRequestID(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == "request_id"
		return !found
	})
	return found
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
