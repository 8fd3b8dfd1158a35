package metrics

import (
	"io"
	"net/http"
	"strconv"
	"time"
)

// HTTP counts the requests next serves: their number, latency and body
// bytes both ways by operation (which operation names, "" for a request
// that names none) and status code. It sits outside the API's router, so it
// sees every answer, refusals included.
func (m *Metrics) HTTP(next http.Handler, operation func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		op := operation(r)
		if op == "" {
			op = "unknown"
		}
		m.inFlight.Inc()
		body := &countingBody{ReadCloser: r.Body}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = body
		}
		cw := &countingWriter{ResponseWriter: w}
		defer func() {
			m.inFlight.Dec()
			status := cw.status
			if status == 0 {
				// The router always answers, unless it let a panic
				// through to cut the connection.
				status = http.StatusInternalServerError
			}
			code := strconv.Itoa(status)
			m.requests.WithLabelValues(op, code).Inc()
			m.latency.WithLabelValues(op, code).Observe(time.Since(start).Seconds())
			m.bytesIn.WithLabelValues(op).Add(float64(body.n))
			m.bytesOut.WithLabelValues(op).Add(float64(cw.n))
		}()
		next.ServeHTTP(cw, r)
	})
}

// countingBody counts the bytes of a request body the handler reads.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// countingWriter notes the status and counts the body bytes written. It
// unwraps for http.ResponseController, so deadlines and flushes reach the
// connection beneath.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// ReadFrom keeps the connection's own ReadFrom (sendfile, for a stored
// file) in reach of io.Copy.
func (w *countingWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.n += n
	return n, err
}

func (w *countingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
