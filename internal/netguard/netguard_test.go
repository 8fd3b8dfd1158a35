package netguard

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// kept dials from each address in turn and reports, per connection, whether
// the listener kept it: refused connections are closed at once.
func kept(t *testing.T, ln net.Listener, from []string) []bool {
	t.Helper()
	var conns []net.Conn
	for _, ip := range from {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns = append(conns, c)
	}
	out := make([]bool, len(conns))
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		out[i] = errors.As(err, &ne) && ne.Timeout()
	}
	return out
}

// listen returns a Listener with limits on a fresh loopback port, closed
// when the test ends.
func listen(t *testing.T, limits Limits) *Listener {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := NewListener(raw, limits, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { ln.Close() })
	return ln
}

// connect dials ln and accepts the connection: the client's end and the
// server's.
func connect(t *testing.T, ln *Listener) (client, server net.Conn) {
	t.Helper()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return client, server
}

func TestListenerCaps(t *testing.T) {
	tests := []struct {
		name   string
		limits Limits
		busy   bool // the server marks every connection busy with a request
		from   []string
		want   string // per connection: + kept, - refused or evicted
	}{
		{"no caps keep everything", Limits{}, false, []string{"127.0.0.2", "127.0.0.2", "127.0.0.2"}, "+++"},
		{"the per-client cap refuses one client's extra", Limits{MaxConnsPerClient: 2}, false, []string{"127.0.0.2", "127.0.0.2", "127.0.0.2", "127.0.0.3"}, "++-+"},
		{"the per-client cap refuses even busy clients' extra", Limits{MaxConnsPerClient: 1}, true, []string{"127.0.0.2", "127.0.0.2"}, "+-"},
		{"at the server cap a new connection evicts the longest waiting", Limits{MaxConns: 2}, false, []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}, "-++"},
		{"at the server cap with every connection busy the new one is refused", Limits{MaxConns: 2}, true, []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}, "++-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln := listen(t, tt.limits)
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					if tt.busy {
						ln.ConnState(c, http.StateActive)
					}
					t.Cleanup(func() { c.Close() })
				}
			}()
			var got strings.Builder
			for _, k := range kept(t, ln, tt.from) {
				if k {
					got.WriteByte('+')
				} else {
					got.WriteByte('-')
				}
			}
			if got.String() != tt.want {
				t.Fatalf("kept %s, want %s", got.String(), tt.want)
			}
		})
	}
}

func TestListenerGivesPlacesBack(t *testing.T) {
	ln := listen(t, Limits{MaxConns: 1})
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			ln.ConnState(c, http.StateActive) // busy: never evicted
			accepted <- c
		}
	}()
	for i := range 3 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		select {
		case s := <-accepted:
			s.Close() // twice, as servers may: the place comes back once
			s.Close()
		case <-time.After(5 * time.Second):
			t.Fatalf("connection %d was not accepted after the one before it closed", i)
		}
		c.Close()
	}
}

// A body that keeps to the rate is read whole however long it takes; one
// that stalls fails its read with os.ErrDeadlineExceeded within a window.
func TestBodyRate(t *testing.T) {
	got := make(chan error, 1)
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.Copy(io.Discard, r.Body)
		got <- err
	}), BodyRate{Bytes: 1 << 10, Window: time.Second})
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(raw)
	defer srv.Close()

	send := func(chunks int, pause time.Duration, stall bool) error {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", (chunks+1)<<10)
		for range chunks {
			c.Write(make([]byte, 1<<10))
			time.Sleep(pause)
		}
		if !stall {
			c.Write(make([]byte, 1<<10))
		}
		select {
		case err := <-got:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("the handler is still reading 10s later")
			return nil
		}
	}
	// 2.5 s in all at 2 KiB/s: longer than a window, faster than the rate.
	if err := send(5, 500*time.Millisecond, false); err != nil {
		t.Fatalf("a steady body: %v", err)
	}
	if err := send(1, 0, true); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a stalled body: %v, want os.ErrDeadlineExceeded", err)
	}
}

// The connections it hands out keep the TCP connection's ReadFrom, which
// net/http uses to send files with sendfile.
func TestConnKeepsReadFrom(t *testing.T) {
	client, server := connect(t, listen(t, Limits{MaxConns: 4}))
	rf, ok := server.(io.ReaderFrom)
	if !ok {
		t.Fatal("the accepted connection has no ReadFrom")
	}
	f, err := os.CreateTemp(t.TempDir(), "payload")
	if err != nil {
		t.Fatal(err)
	}
	payload := strings.Repeat("ACGT", 1<<16)
	f.WriteString(payload)
	f.Seek(0, io.SeekStart)
	got := make(chan string, 1)
	go func() { b, _ := io.ReadAll(io.LimitReader(client, int64(len(payload)))); got <- string(b) }()
	if n, err := rf.ReadFrom(&io.LimitedReader{R: f, N: int64(len(payload))}); err != nil || n != int64(len(payload)) {
		t.Fatalf("ReadFrom: %d %v", n, err)
	}
	if <-got != payload {
		t.Fatal("the client received other bytes")
	}
}

// A client that stops taking a response has the server's write cut within
// a window or two, through Write and through the sendfile path alike; one
// that keeps reading gets everything.
func TestWriteRate(t *testing.T) {
	const size = 64 << 20 // far more than the socket buffers hold
	payload := make([]byte, size)
	f, err := os.CreateTemp(t.TempDir(), "payload")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(payload)
	tests := []struct {
		name     string
		sendfile bool
		reads    bool
	}{
		{"a stalled client, Write", false, false},
		{"a stalled client, sendfile", true, false},
		{"a reading client, Write", false, true},
		{"a reading client, sendfile", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := connect(t, listen(t, Limits{WriteRate: BodyRate{Bytes: 256 << 10, Window: time.Second}}))
			read := make(chan int64, 1)
			if tt.reads {
				go func() { n, _ := io.Copy(io.Discard, client); read <- n }()
			}
			var n int64
			var err error
			if tt.sendfile {
				f.Seek(0, io.SeekStart)
				n, err = server.(io.ReaderFrom).ReadFrom(&io.LimitedReader{R: f, N: size})
			} else {
				var k int
				k, err = server.Write(payload)
				n = int64(k)
			}
			if !tt.reads {
				if !errors.Is(err, os.ErrDeadlineExceeded) || n >= size {
					t.Fatalf("wrote %d of %d bytes to a client that reads nothing, error %v; want the write cut", n, size, err)
				}
				return
			}
			if err != nil || n != size {
				t.Fatalf("wrote %d of %d bytes to a reading client: %v", n, size, err)
			}
			server.Close()
			if got := <-read; got != size {
				t.Fatalf("the client read %d bytes, want %d", got, size)
			}
		})
	}
}
