// Package netguard keeps clients from holding a server's connections: it
// caps the connections open at once, for the whole server and for each
// client address, and holds request and response bodies to a minimum
// transfer rate, so that a transfer which stops is cut while a slow one that
// keeps moving is not. It knows nothing of what the server serves.
package netguard

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Limits caps the connections a listener hands out. Zero means no cap.
type Limits struct {
	// MaxConns is the most connections open at once. When it is reached, a
	// new connection takes the place of the one that has waited longest
	// without a request in progress; only when every connection is busy
	// with a request is the new one refused.
	MaxConns int
	// MaxConnsPerClient is the most connections open at once from one
	// client IP address; more are refused. Behind a proxy every connection
	// comes from the proxy's address, so this must then be off or above the
	// proxy's pool.
	MaxConnsPerClient int
	// WriteRate is the least a client must take of what the server sends
	// it: a write that cannot hand WriteRate.Bytes×Window bytes to the
	// client within a window fails with an error wrapping
	// os.ErrDeadlineExceeded, and the response is cut. A slow server (one
	// with nothing to send yet) is never held against the client. Zero
	// turns the check off.
	WriteRate BodyRate
}

// Listener caps the connections of an HTTP server. A refused connection is
// closed as soon as it is accepted: the client sees it closed (or reset)
// before any answer, and the server spends no file descriptor on it beyond
// that moment. Refusals and evictions are logged, at most one line per
// logEvery.
type Listener struct {
	net.Listener
	limits Limits
	log    *slog.Logger

	mu        sync.Mutex
	conns     map[*conn]struct{}
	perClient map[string]int
	refused   int       // refusals since the last warning
	evicted   int       // evictions since the last warning
	warned    time.Time // when the last warning was logged
}

// NewListener wraps ln. The server must report its connections' states to
// ConnState, which tells which connections may be evicted.
func NewListener(ln net.Listener, l Limits, log *slog.Logger) *Listener {
	if log == nil {
		log = slog.Default()
	}
	return &Listener{Listener: ln, limits: l, log: log, conns: map[*conn]struct{}{}, perClient: map[string]int{}}
}

// logEvery spaces the warnings about refused connections, which come in
// floods when they come at all.
const logEvery = 10 * time.Second

// Accept returns the next connection within the caps.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		gc := &conn{Conn: c, l: l, client: clientAddress(c.RemoteAddr()), rate: l.limits.WriteRate, perWindow: l.limits.WriteRate.perWindow()}
		gc.setState(http.StateNew)
		if reason := l.admit(gc); reason != "" {
			c.Close()
			l.note(&l.refused, gc.client, reason)
			continue
		}
		return gc, nil
	}
}

// ConnState is the http.Server hook that tells the listener which
// connections are waiting (new, or idle between requests) and so may give
// their place to a new one.
func (l *Listener) ConnState(c net.Conn, state http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if gc, ok := c.(*conn); ok {
		gc.setState(state)
	}
}

// admit counts c in, evicting a waiting connection when the server's cap is
// reached, or says which cap refuses it.
func (l *Listener) admit(c *conn) string {
	l.mu.Lock()
	if l.limits.MaxConnsPerClient > 0 && l.perClient[c.client] >= l.limits.MaxConnsPerClient {
		n := l.perClient[c.client]
		l.mu.Unlock()
		return fmt.Sprintf("the client has %d connections open, its cap", n)
	}
	if l.limits.MaxConns > 0 && len(l.conns) >= l.limits.MaxConns {
		victim := l.longestWaiting()
		if victim == nil {
			n := len(l.conns)
			l.mu.Unlock()
			return fmt.Sprintf("the server has %d connections open, its cap, all busy with requests", n)
		}
		l.forget(victim)
		l.mu.Unlock()
		victim.Conn.Close()
		l.note(&l.evicted, victim.client, "the server's connection cap is reached; the connection that waited longest gave way")
		l.mu.Lock()
	}
	l.conns[c] = struct{}{}
	l.perClient[c.client]++
	l.mu.Unlock()
	return ""
}

// longestWaiting is the connection without a request in progress that has
// waited longest, or nil. l.mu is held.
func (l *Listener) longestWaiting() *conn {
	var victim *conn
	var since int64
	for c := range l.conns {
		state, at := c.waiting()
		if state && (victim == nil || at < since) {
			victim, since = c, at
		}
	}
	return victim
}

// forget takes c out of the counts. l.mu is held.
func (l *Listener) forget(c *conn) {
	if _, ok := l.conns[c]; !ok {
		return
	}
	delete(l.conns, c)
	if l.perClient[c.client]--; l.perClient[c.client] <= 0 {
		delete(l.perClient, c.client)
	}
}

func (l *Listener) release(c *conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forget(c)
}

// note counts a refusal or eviction and logs the tally now and then.
func (l *Listener) note(counter *int, client, reason string) {
	l.mu.Lock()
	*counter++
	now := time.Now()
	if now.Sub(l.warned) < logEvery {
		l.mu.Unlock()
		return
	}
	refused, evicted := l.refused, l.evicted
	l.refused, l.evicted, l.warned = 0, 0, now
	l.mu.Unlock()
	l.log.Warn("connections over the cap; raise -max-conns or -max-conns-per-client if they are legitimate",
		"client", client, "reason", reason, "refused", refused, "evicted", evicted)
}

// clientAddress is the part of a remote address that names the client: its
// IP, without the port.
func clientAddress(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// conn gives its place back when it is closed, once, and knows whether it
// is waiting for a request.
type conn struct {
	net.Conn
	l      *Listener
	client string
	once   sync.Once
	// state packs whether the connection waits (bit 0) with when it began
	// to (the other bits, Unix nanoseconds >> 1), so both change at once.
	state atomic.Int64

	// The write deadline, moved on as the client takes what is sent; the
	// server writes from one goroutine at a time.
	rate      BodyRate
	perWindow int64 // 0: no write deadline
	armedAt   time.Time
	written   int64 // bytes written since armedAt
}

func (c *conn) setState(s http.ConnState) {
	waiting := int64(0)
	if s == http.StateNew || s == http.StateIdle {
		waiting = 1
	}
	c.state.Store(time.Now().UnixNano()&^1 | waiting)
}

func (c *conn) waiting() (bool, int64) {
	v := c.state.Load()
	return v&1 == 1, v &^ 1
}

func (c *conn) Close() error {
	c.once.Do(func() { c.l.release(c) })
	return c.Conn.Close()
}

// arm starts a new write window when the last one was filled, or when half
// of it passed (the server had nothing to send: not the client's doing).
func (c *conn) arm() {
	now := time.Now()
	if c.written >= c.perWindow || now.Sub(c.armedAt) >= c.rate.Window/2 {
		c.Conn.SetWriteDeadline(now.Add(c.rate.Window))
		c.armedAt, c.written = now, 0
	}
}

// tooSlow names a write deadline's error.
func (c *conn) tooSlow(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("the client took less than %d bytes a second over %s: %w", c.rate.Bytes, c.rate.Window, err)
	}
	return err
}

// Write sends p in pieces of a window's worth, each given a window to go.
func (c *conn) Write(p []byte) (int, error) {
	if c.perWindow == 0 {
		return c.Conn.Write(p)
	}
	total := 0
	for len(p) > 0 {
		c.arm()
		n, err := c.Conn.Write(p[:min(int64(len(p)), c.perWindow)])
		c.written += int64(n)
		total += n
		p = p[n:]
		if err != nil {
			return total, c.tooSlow(err)
		}
	}
	return total, nil
}

// ReadFrom hands a copy to the connection underneath when it has a ReadFrom
// of its own: net/http's responses copy a file through it, and a TCP
// connection's does so with sendfile. Without it every download would go
// through user space. Under a write rate the copy goes in pieces of a
// window's worth, each a LimitedReader over the same source, which keeps
// sendfile.
func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	rf, ok := c.Conn.(io.ReaderFrom)
	if !ok {
		return io.Copy(writerOnly{c}, r)
	}
	if c.perWindow == 0 {
		return rf.ReadFrom(r)
	}
	remain := int64(-1) // unknown: to the end of r
	if lr, ok := r.(*io.LimitedReader); ok {
		r, remain = lr.R, lr.N
	}
	var total int64
	for remain != 0 {
		c.arm()
		piece := c.perWindow
		if remain > 0 {
			piece = min(piece, remain)
		}
		n, err := rf.ReadFrom(&io.LimitedReader{R: r, N: piece})
		c.written += n
		total += n
		if remain > 0 {
			remain -= n
		}
		if err != nil {
			return total, c.tooSlow(err)
		}
		if n < piece {
			break // the source ended
		}
	}
	return total, nil
}

// writerOnly hides every method but Write, so io.Copy cannot come back to
// ReadFrom.
type writerOnly struct{ io.Writer }

// BodyRate is the least a request body must deliver: Bytes per second,
// judged over each Window. A body that brings fewer than Bytes×Window bytes
// within a window fails its next Read with an error wrapping
// os.ErrDeadlineExceeded. Zero Bytes or Window turns the check off.
type BodyRate struct {
	Bytes  int64
	Window time.Duration
}

// perWindow is the bytes a window must carry; 0 when the check is off.
func (r BodyRate) perWindow() int64 {
	if r.Bytes <= 0 || r.Window <= 0 {
		return 0
	}
	return max(1, r.Bytes*int64(r.Window/time.Second))
}

// Handler wraps h so that every request body is held to rate. It sets the
// connection's read deadline as the body arrives, so a body that stalls
// unblocks the handler's Read without any goroutine watching it.
func Handler(h http.Handler, rate BodyRate) http.Handler {
	perWindow := rate.perWindow()
	if perWindow == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		b := &rateBody{ReadCloser: r.Body, rc: rc, rate: rate, perWindow: perWindow, remaining: r.ContentLength}
		if err := b.startWindow(); err != nil {
			// The connection cannot take deadlines (not a plain one):
			// serve without the check rather than not at all.
			h.ServeHTTP(w, r)
			return
		}
		r.Body = b
		h.ServeHTTP(w, r)
		// What the handler left unread is drained by the server before
		// the connection is reused; the deadline keeps a stalled client
		// from holding it there.
		if !b.done {
			b.startWindow()
		}
	})
}

// rateBody moves the read deadline forward each time a window's worth of
// bytes has arrived.
type rateBody struct {
	io.ReadCloser
	rc        *http.ResponseController
	rate      BodyRate
	perWindow int64
	got       int64 // bytes in the current window
	remaining int64 // bytes still to come; negative when unknown
	done      bool
}

func (b *rateBody) startWindow() error {
	b.got = 0
	return b.rc.SetReadDeadline(time.Now().Add(b.rate.Window))
}

func (b *rateBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.done {
		return n, err
	}
	b.got += int64(n)
	if b.remaining > 0 {
		b.remaining -= int64(n)
	}
	switch {
	case err == io.EOF || b.remaining == 0:
		// The whole body is in: the connection's own timeouts take over
		// (a deadline left set would cut the server's wait for the next
		// request, or cancel a handler still at work).
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	case err != nil && errors.Is(err, os.ErrDeadlineExceeded):
		err = fmt.Errorf("the request body arrived at less than %d bytes a second over %s: %w", b.rate.Bytes, b.rate.Window, err)
	case b.got >= b.perWindow:
		b.startWindow()
	}
	return n, err
}
