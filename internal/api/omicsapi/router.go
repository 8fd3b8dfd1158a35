package omicsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RouterOptions are the hooks of the hand-written server layer.
type RouterOptions struct {
	// Authenticate runs after routing and before the request body is read.
	// It may replace r.Body (the SigV4 layer wraps the UploadReadSetPart body
	// to check its hash as it streams). The context it returns is the one
	// handlers get; derive it from r.Context(), which carries RequestID. A
	// *Error it returns is sent as is (any Code and Status, e.g. 403
	// InvalidSignatureException); other errors go through MapError.
	Authenticate func(r *http.Request, op *Operation) (context.Context, error)

	// MapError turns a handler's (or Authenticate's, or a wrapped body's read)
	// error into an API error.
	// When it is nil or returns nil: an *Error in the chain passes through,
	// anything else becomes a 500 InternalServerException with a generic
	// message and is logged with the request id.
	MapError func(error) *Error

	// Logger gets one line per request: a failed one (4xx) at Info, with
	// the operation, status, error code, caller's access key ID (see
	// SetCaller), remote address, duration and request id; a 5xx the same
	// at Error with the underlying error; a successful one at Debug.
	// Default: slog.Default().
	Logger *slog.Logger

	// Extra are operations of seqstore's own served beside the model's.
	Extra []ExtraRoute

	// MaxBodyBytes caps JSON request bodies (the streamed UploadReadSetPart
	// body is not capped here). Default: DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// DefaultMaxBodyBytes is ample for the largest JSON request of the model: a
// 100 000-character S3 access policy, or 100 import sources.
const DefaultMaxBodyBytes = 4 << 20

// NewRouter returns the http.Handler that serves the storage API with h. It
// routes on method and path only: clients prepend host prefixes
// (control-storage-, storage-, tags-) even to custom endpoints.
func NewRouter(h Handler, opts RouterOptions) http.Handler {
	rt := &router{h: h, opts: opts, log: opts.Logger, maxBody: opts.MaxBodyBytes}
	if rt.log == nil {
		rt.log = slog.Default()
	}
	if rt.maxBody <= 0 {
		rt.maxBody = DefaultMaxBodyBytes
	}
	return rt
}

type router struct {
	h       Handler
	opts    RouterOptions
	log     *slog.Logger
	maxBody int64
}

// serveFunc binds, validates and answers one operation (generated).
type serveFunc func(rt *router, w http.ResponseWriter, r *http.Request, st *requestState)

// jsonAppender is a generated output type.
type jsonAppender interface {
	appendJSON(b []byte) []byte
}

// requestState is what the router knows about one request.
type requestState struct {
	id       string
	op       *Operation
	ctx      context.Context
	start    time.Time
	status   int
	segs     []string // escaped path segments
	segBuf   [maxPathSegments]string
	check    validator
	code     string // the error code sent, if any
	err      error  // what a 5xx answer hides from the client
	panicked any    // what the handler panicked with, if it did
	stack    []byte // where it panicked
	caller   string // the access key ID the request claims
}

type requestStateKey struct{}

// RequestID returns the id sent as x-amzn-RequestId for the request ctx
// belongs to, or "" outside a request.
func RequestID(ctx context.Context) string {
	if st, ok := ctx.Value(requestStateKey{}).(*requestState); ok {
		return st.id
	}
	return ""
}

// SetCaller records, for the request's log line, the access key ID the
// request ctx belongs to claims. Never pass a secret.
func SetCaller(ctx context.Context, accessKeyID string) {
	if st, ok := ctx.Value(requestStateKey{}).(*requestState); ok {
		st.caller = accessKeyID
	}
}

// OperationOf returns the operation of the request ctx belongs to, or nil.
func OperationOf(ctx context.Context) *Operation {
	if st, ok := ctx.Value(requestStateKey{}).(*requestState); ok {
		return st.op
	}
	return nil
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st := &requestState{id: newRequestID(), start: time.Now()}
	st.check.reset()
	w.Header().Set("X-Amzn-Requestid", st.id)
	st.ctx = context.WithValue(r.Context(), requestStateKey{}, st)
	defer rt.finish(w, r, st)

	var serve serveFunc
	var allow string
	if segs, ok := splitPath(r.URL.EscapedPath(), st.segBuf[:0]); ok {
		st.segs = segs
		st.op, serve, allow = matchRoute(r.Method, segs)
		if st.op == nil && allow == "" {
			var route *ExtraRoute
			if route, allow = matchExtra(rt.opts.Extra, r.Method, segs); route != nil {
				st.op = route.Op
				rt.serveExtra(w, r, st, route)
				return
			}
		}
	}
	if st.op == nil {
		if allow != "" {
			w.Header().Set("Allow", allow)
			rt.writeError(w, st, NewError(http.StatusMethodNotAllowed, CodeMethodNotAllowedException,
				"%s is not allowed on %s: the storage API takes %s there", r.Method, r.URL.EscapedPath(), allow))
			return
		}
		rt.writeError(w, st, NewError(http.StatusNotFound, CodeUnknownOperationException,
			"no storage operation is served at %s %s", r.Method, r.URL.EscapedPath()))
		return
	}
	r, ok := rt.authenticate(w, r, st)
	if !ok {
		return
	}
	serve(rt, w, r, st)
}

// authenticate runs Options.Authenticate, if any, and takes the context it
// returns as the request's; on failure it has answered and reports false.
// The request it returns is the one to use from then on, so a Body that
// Authenticate wraps is the Body that binding reads.
func (rt *router) authenticate(w http.ResponseWriter, r *http.Request, st *requestState) (*http.Request, bool) {
	if rt.opts.Authenticate == nil {
		return r, true
	}
	r = r.WithContext(st.ctx)
	ctx, err := rt.opts.Authenticate(r, st.op)
	if err != nil {
		rt.writeHandlerError(w, st, err)
		return r, false
	}
	if ctx != nil {
		if ctx.Value(requestStateKey{}) == nil {
			ctx = context.WithValue(ctx, requestStateKey{}, st)
		}
		st.ctx = ctx
	}
	return r, true
}

// finish turns a handler panic into a 500 and writes the access line.
func (rt *router) finish(w http.ResponseWriter, r *http.Request, st *requestState) {
	if p := recover(); p != nil {
		if p == http.ErrAbortHandler {
			panic(p)
		}
		// Logged with the request's line, the one line of a failed request.
		st.panicked, st.stack = p, debug.Stack()
		if st.status != 0 {
			// The answer has begun: cut the connection, so that the
			// client sees a failed response rather than a short payload
			// that might look whole (a stream without Content-Length).
			rt.logAccess(r, st)
			panic(http.ErrAbortHandler)
		}
		rt.writeError(w, st, NewInternalServerException("internal error (request id %s)", st.id))
	}
	rt.logAccess(r, st)
}

// logAccess writes the line of a request: at Debug when it succeeded, at
// Info when the client's request failed, at Error when the server failed
// (a 5xx, or a panic after the answer began). An operator looking into a
// failure finds who sent it, from where, and what it was told.
func (rt *router) logAccess(r *http.Request, st *requestState) {
	level, msg := slog.LevelDebug, "request"
	switch {
	case st.status >= 500 || st.panicked != nil:
		level, msg = slog.LevelError, "request failed"
	case st.status >= 400:
		level, msg = slog.LevelInfo, "request refused"
	}
	if !rt.log.Enabled(st.ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method), slog.String("op", st.opName()),
		slog.Int("status", st.status), slog.Duration("duration", time.Since(st.start)),
		slog.String("request_id", st.id),
	}
	if level > slog.LevelDebug {
		attrs = append(attrs, slog.String("code", st.code), slog.String("access_key_id", st.caller),
			slog.String("remote_addr", r.RemoteAddr))
	}
	if st.err != nil {
		attrs = append(attrs, slog.Any("error", st.err))
	}
	if st.panicked != nil {
		attrs = append(attrs, slog.Any("panic", st.panicked), slog.String("stack", string(st.stack)))
	}
	rt.log.LogAttrs(st.ctx, level, msg, attrs...)
}

func (st *requestState) opName() string {
	if st.op == nil {
		return ""
	}
	return st.op.Name
}

// splitPath splits an escaped path into its segments, into buf. ok is false
// when the path is not absolute or has more segments than any route.
func splitPath(p string, buf []string) (segs []string, ok bool) {
	if p == "" || p[0] != '/' {
		return nil, false
	}
	p = p[1:]
	for {
		if len(buf) == cap(buf) {
			return nil, false
		}
		i := strings.IndexByte(p, '/')
		if i < 0 {
			return append(buf, p), true
		}
		buf = append(buf, p[:i])
		p = p[i+1:]
	}
}

// newRequestID returns a random id in UUID version 4 form. It is an id for
// logs, not a secret, so the fast non-cryptographic generator does.
func newRequestID() string {
	var u [16]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		u[i] = byte(hi >> (8 * i))
		u[8+i] = byte(lo >> (8 * i))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hexDigits[c>>4], hexDigits[c&0xf]
		j += 2
	}
	return string(b[:])
}

var bufferPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledBuffer keeps one huge response from pinning its buffer forever.
const maxPooledBuffer = 256 << 10

func (rt *router) writeJSON(w http.ResponseWriter, st *requestState, status int, out jsonAppender) {
	bp := bufferPool.Get().(*[]byte)
	b := out.appendJSON((*bp)[:0])
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	st.status = status
	w.Write(b)
	if cap(b) <= maxPooledBuffer {
		*bp = b[:0]
		bufferPool.Put(bp)
	}
}

func (rt *router) writeNoContent(w http.ResponseWriter, st *requestState, status int) {
	w.WriteHeader(status)
	st.status = status
}

// writeStream sends a payload with its length (unless negative) and closes
// it. A payload that ends early cuts the response short of its
// Content-Length, which clients detect; that is logged.
func (rt *router) writeStream(w http.ResponseWriter, st *requestState, status int, payload io.ReadCloser, length int64) {
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	if payload == nil {
		h.Set("Content-Length", "0")
		w.WriteHeader(status)
		st.status = status
		return
	}
	defer payload.Close()
	if length >= 0 {
		h.Set("Content-Length", strconv.FormatInt(length, 10))
	}
	w.WriteHeader(status)
	st.status = status
	n, err := io.Copy(w, payload)
	if err != nil || (length >= 0 && n != length) {
		rt.log.LogAttrs(st.ctx, slog.LevelWarn, "omicsapi: payload stream cut short",
			slog.String("request_id", st.id), slog.String("op", st.opName()),
			slog.Int64("sent", n), slog.Int64("length", length), slog.Any("error", err))
	}
}

// writeError sends e as restJson1 clients read errors: the code in
// X-Amzn-ErrorType (botocore and the Go SDK read it first) and in the body's
// "__type" (a fallback for the JavaScript SDK), the message in "message".
func (rt *router) writeError(w http.ResponseWriter, st *requestState, e *Error) {
	status := statusOf(e)
	b := make([]byte, 0, 64+len(e.Code)+len(e.Message))
	b = append(b, `{"__type":`...)
	b = appendString(b, e.Code)
	b = append(b, `,"message":`...)
	b = appendString(b, e.Message)
	b = append(b, '}')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", e.Code)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	st.status = status
	st.code = e.Code
	w.Write(b)
}

// statusOf is e's HTTP status: its own, else the model's for its code, else 500.
func statusOf(e *Error) int {
	if e.Status != 0 {
		return e.Status
	}
	if status := modeledErrorStatus[e.Code]; status != 0 {
		return status
	}
	return http.StatusInternalServerError
}

// writeHandlerError maps err (see RouterOptions.MapError) and sends it.
func (rt *router) writeHandlerError(w http.ResponseWriter, st *requestState, err error) {
	rt.writeError(w, st, rt.apiError(st, err))
}

func (rt *router) apiError(st *requestState, err error) *Error {
	var e *Error
	if rt.opts.MapError != nil {
		e = rt.opts.MapError(err)
	}
	if e == nil && !errors.As(err, &e) {
		e = NewInternalServerException("internal error (request id %s)", st.id)
	}
	if statusOf(e) >= 500 {
		st.err = err // logged with the request's line
	}
	return e
}

// decodeBody reads the JSON body into in. An empty body means {}; unknown
// members are ignored. It returns the error to send, or nil.
func (rt *router) decodeBody(r *http.Request, st *requestState, in any) *Error {
	if r.ContentLength > rt.maxBody {
		return NewValidationException("The request body of %d bytes is larger than the %d bytes this server accepts", r.ContentLength, rt.maxBody)
	}
	bp := bufferPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBuffer {
			bufferPool.Put(bp)
		}
	}()
	buf := bytes.NewBuffer((*bp)[:0])
	n, err := buf.ReadFrom(io.LimitReader(r.Body, rt.maxBody+1))
	*bp = buf.Bytes()[:0]
	if err != nil {
		// A body wrapper's error (the SigV4 layer's payload-hash check) is
		// mapped like a handler's; a plain read failure is the client's.
		if rt.opts.MapError != nil {
			if e := rt.opts.MapError(err); e != nil {
				return e
			}
		}
		var e *Error
		if errors.As(err, &e) {
			return e
		}
		return NewValidationException("The request body could not be read: %v", err)
	}
	if n > rt.maxBody {
		return NewValidationException("The request body is larger than the %d bytes this server accepts", rt.maxBody)
	}
	data := bytes.TrimSpace(buf.Bytes())
	if len(data) == 0 {
		return nil // botocore sends no body at all when no body member is set
	}
	err = json.Unmarshal(data, in)
	if err == nil {
		return nil
	}
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		return NewValidationException("The request body is not valid JSON: %v (at byte offset %d)", syntaxErr, syntaxErr.Offset)
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return NewValidationException("The request body must be a JSON object, not %s", typeErr.Value)
	case errors.As(err, &typeErr):
		c := &st.check
		value := "of type " + typeErr.Value
		if kind, rest, ok := strings.Cut(typeErr.Value, " "); ok {
			value = quoteValue(strings.Trim(rest, `"`)) + " of type " + kind
		}
		c.fail(typeErr.Field, value, "Member must be "+describeType(typeErr.Type))
		return c.err()
	}
	return NewValidationException("The request body could not be decoded: %v", err)
}

// describeType names what a member of Go type t must be, for messages.
func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return "a timestamp in RFC 3339 form such as 2024-01-12T04:50:33.548Z"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int32:
		return "an integer"
	case reflect.Int64:
		return "a long integer"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice:
		return "a JSON array"
	case reflect.Struct, reflect.Map:
		return "a JSON object"
	}
	return "of type " + t.String()
}
