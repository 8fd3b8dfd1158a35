package omicsapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
)

// ExtraRoute is an operation of seqstore's own, outside the HealthOmics
// model, served by the same router as the model's: routed on method and
// path, authenticated by RouterOptions.Authenticate, and answered with
// JSON, or with an error in the model's JSON shape through MapError.
type ExtraRoute struct {
	// Op names it and gives its Method and URI, a template whose
	// {name} segments are labels, e.g. "/sequencestore/{sequenceStoreId}/readset/{id}/qc".
	Op *Operation
	// Serve answers a request: labels holds the URI's labels,
	// unescaped. What it returns is sent as the JSON body with
	// Op.SuccessCode (200 if unset).
	Serve func(ctx context.Context, labels map[string]string) ([]byte, error)
}

// matchExtra finds the extra route of a path. allow lists the method the
// path takes when it matches with another method.
func matchExtra(routes []ExtraRoute, method string, segs []string) (route *ExtraRoute, allow string) {
	for i := range routes {
		r := &routes[i]
		if !templateMatches(r.Op.URI, segs) {
			continue
		}
		if r.Op.Method == method {
			return r, ""
		}
		allow = r.Op.Method
	}
	return nil, allow
}

func templateMatches(template string, segs []string) bool {
	parts := strings.Split(strings.TrimPrefix(template, "/"), "/")
	if len(parts) != len(segs) {
		return false
	}
	for i, p := range parts {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" {
				return false
			}
			continue
		}
		if p != segs[i] {
			return false
		}
	}
	return true
}

// serveExtra authenticates a request of an extra route and answers it.
func (rt *router) serveExtra(w http.ResponseWriter, r *http.Request, st *requestState, route *ExtraRoute) {
	labels := map[string]string{}
	c := &st.check
	for i, p := range strings.Split(strings.TrimPrefix(route.Op.URI, "/"), "/") {
		if strings.HasPrefix(p, "{") {
			name := strings.Trim(p, "{}")
			labels[name] = c.label(name, st.segs[i])
		}
	}
	if _, ok := rt.authenticate(w, r, st); !ok {
		return
	}
	if c.failed() {
		rt.writeError(w, st, c.err())
		return
	}
	body, err := route.Serve(st.ctx, labels)
	if err != nil {
		rt.writeHandlerError(w, st, err)
		return
	}
	status := route.Op.SuccessCode
	if status == 0 {
		status = http.StatusOK
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	st.status = status
	w.Write(body)
}
