// Package netguard keeps clients from holding a server's connections: it
// caps the connections open at once, for the whole server and for each
// client address, and holds request bodies to a minimum transfer rate, so
// that a body which stops arriving is cut while a slow one that keeps
// moving is not. It knows nothing of what the server serves.
package netguard

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// Limits caps the connections a listener hands out. Zero means no cap.
type Limits struct {
	// MaxConns is the most connections open at once.
	MaxConns int
	// MaxConnsPerClient is the most connections open at once from one
	// client IP address. Behind a proxy every connection comes from the
	// proxy's address, so this must then be off or above the proxy's pool.
	MaxConnsPerClient int
}

// Listener wraps ln so that a connection over a cap is closed as soon as it
// is accepted: the client sees the connection closed (or reset) before any
// answer, and the server spends no file descriptor on it beyond that
// moment. Refusals are logged, at most one line per logEvery.
func Listener(ln net.Listener, l Limits, log *slog.Logger) net.Listener {
	if log == nil {
		log = slog.Default()
	}
	return &listener{Listener: ln, limits: l, log: log, perClient: map[string]int{}}
}

// logEvery spaces the warnings about refused connections, which come in
// floods when they come at all.
const logEvery = 10 * time.Second

type listener struct {
	net.Listener
	limits Limits
	log    *slog.Logger

	mu        sync.Mutex
	open      int
	perClient map[string]int
	refused   int       // refusals since the last warning
	warned    time.Time // when the last warning was logged
}

// Accept returns the next connection within the caps.
func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client := clientAddress(c.RemoteAddr())
		if reason := l.admit(client); reason != "" {
			c.Close()
			l.refuse(client, reason)
			continue
		}
		return &conn{Conn: c, l: l, client: client}, nil
	}
}

// admit counts a new connection from client, or says which cap it hits.
func (l *listener) admit(client string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limits.MaxConns > 0 && l.open >= l.limits.MaxConns {
		return fmt.Sprintf("the server has %d connections open, its cap", l.open)
	}
	if l.limits.MaxConnsPerClient > 0 && l.perClient[client] >= l.limits.MaxConnsPerClient {
		return fmt.Sprintf("the client has %d connections open, its cap", l.perClient[client])
	}
	l.open++
	l.perClient[client]++
	return ""
}

func (l *listener) release(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.perClient[client]--; l.perClient[client] <= 0 {
		delete(l.perClient, client)
	}
}

func (l *listener) refuse(client, reason string) {
	l.mu.Lock()
	l.refused++
	now := time.Now()
	if now.Sub(l.warned) < logEvery {
		l.mu.Unlock()
		return
	}
	n := l.refused
	l.refused, l.warned = 0, now
	l.mu.Unlock()
	l.log.Warn("refusing connections over the cap; raise -max-conns or -max-conns-per-client if they are legitimate",
		"client", client, "reason", reason, "refused", n)
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

// conn gives its place back when it is closed, once.
type conn struct {
	net.Conn
	l      *listener
	client string
	once   sync.Once
}

func (c *conn) Close() error {
	c.once.Do(func() { c.l.release(c.client) })
	return c.Conn.Close()
}

// BodyRate is the least a request body must deliver: Bytes per second,
// judged over each Window. A body that brings fewer than Bytes×Window bytes
// within a window fails its next Read with an error wrapping
// os.ErrDeadlineExceeded. Zero Bytes or Window turns the check off.
type BodyRate struct {
	Bytes  int64
	Window time.Duration
}

// Handler wraps h so that every request body is held to rate. It sets the
// connection's read deadline as the body arrives, so a body that stalls
// unblocks the handler's Read without any goroutine watching it.
func Handler(h http.Handler, rate BodyRate) http.Handler {
	if rate.Bytes <= 0 || rate.Window <= 0 {
		return h
	}
	perWindow := rate.Bytes * int64(rate.Window/time.Second)
	if perWindow <= 0 {
		perWindow = 1
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
