package integration

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
)

// dialFrom connects to the server from a given loopback address, so that
// one test can play several clients: Linux answers on all of 127.0.0.0/8.
func (in *instance) dialFrom(t testing.TB, ip string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", strings.TrimPrefix(in.endpoint, "http://"))
	if err != nil {
		t.Fatalf("dial from %s: %v", ip, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByServer reports whether the server closed c (or never kept it)
// within wait: a read ends in EOF or a reset rather than a timeout.
func closedByServer(c net.Conn, wait time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(wait))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// rawHead is r's request line and headers as they go on the wire, with its
// Content-Length, for a test that then writes the body at its own pace.
func rawHead(r *http.Request) []byte {
	var head bytes.Buffer
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\n", r.Method, r.URL.RequestURI(), r.URL.Host)
	r.Header.Write(&head)
	fmt.Fprintf(&head, "Content-Length: %d\r\n\r\n", r.ContentLength)
	return head.Bytes()
}

// Keep-alive connections that sent one request and then nothing are closed
// once they have been idle for the idle timeout, so they cannot pile up.
func TestIdleConnectionsAreClosed(t *testing.T) {
	cfg := newConfig(t, backends[0])
	cfg.API.IdleTimeout = 500 * time.Millisecond
	in := start(t, backends[0], cfg)
	const n = 200
	conns := make([]net.Conn, n)
	for i := range conns {
		c := in.dialFrom(t, "127.0.0.1")
		fmt.Fprintf(c, "GET /sequencestore/1234567890 HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Fatalf("unsigned request: %d, want 403", resp.StatusCode)
		}
		conns[i] = c
	}
	for i, c := range conns {
		if !closedByServer(c, 10*time.Second) {
			t.Fatalf("connection %d still open 10s after its request; the idle timeout is 500ms", i)
		}
	}
}

// Connections over the per-client cap are closed on arrival. At the
// server's cap a new connection takes the place of one that waits without a
// request, so a client elsewhere is still served while others hold every
// place with idle connections.
func TestConnectionCaps(t *testing.T) {
	cfg := newConfig(t, backends[0])
	cfg.API.MaxConns, cfg.API.MaxConnsPerClient = 30, 10
	in := start(t, backends[0], cfg)
	// kept counts how many of conns the server kept open: those it refused
	// or evicted are closed, those it kept wait for their request's headers.
	kept := func(conns []net.Conn) int {
		open := make(chan bool, len(conns))
		for _, c := range conns {
			go func() { open <- !closedByServer(c, time.Second) }()
		}
		n := 0
		for range conns {
			if <-open {
				n++
			}
		}
		return n
	}
	var flood []net.Conn
	for range 25 {
		flood = append(flood, in.dialFrom(t, "127.0.0.2"))
	}
	if got, want := kept(flood), 10; got != want {
		t.Fatalf("the server kept %d of 25 connections from one client, want %d (the per-client cap)", got, want)
	}
	for _, ip := range []string{"127.0.0.3", "127.0.0.4"} {
		for range 10 {
			flood = append(flood, in.dialFrom(t, ip))
		}
	}
	if got, want := kept(flood), 30; got != want {
		t.Fatalf("the server holds %d connections, want %d (its cap)", got, want)
	}
	// Every place is taken by a connection that sends nothing; a signed
	// request from another address is served at once.
	c := in.goClient(in.rootKey())
	if _, err := c.ListSequenceStores(context.Background(), &omics.ListSequenceStoresInput{}); err != nil {
		t.Fatalf("a signed request while idle connections fill the server's cap: %v", err)
	}
	if got, want := kept(flood), 29; got != want {
		t.Fatalf("after the signed request the flood holds %d connections, want %d (one gave way)", got, want)
	}
}

// A request that declares a large body and carries a wrong signature costs
// the server nothing proportional to the length it declares: the body is
// buffered only as it arrives, and it never arrives.
func TestDeclaredLengthAllocatesNothing(t *testing.T) {
	in := start(t, backends[0], nil)
	key := in.rootKey()
	const conns, declared = 40, 4 << 20
	// A well-formed signature with a wrong secret: the key is known, so the
	// server must read the body to hash it before it can say no.
	r, _ := http.NewRequest("POST", in.endpoint+"/sequencestore", nil)
	r.Header.Set("Content-Type", "application/json")
	r.ContentLength = declared
	signNow(t, r, key.ID, "wrong", strings.Repeat("0", 64))
	head := append(rawHead(r), `{"name":`...)

	before := heapInUse()
	for range conns {
		c := in.dialFrom(t, "127.0.0.1")
		if _, err := c.Write(head); err != nil {
			t.Fatal(err)
		}
	}
	// Each request is read up to its first body bytes within moments; give
	// them a second, then see what they hold.
	limit := before + 32<<20
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if got := heapInUse(); got > limit {
			t.Fatalf("%d connections declaring %d-byte bodies took the heap from %d to %d MiB", conns, declared, before>>20, got>>20)
		}
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// A part upload that keeps moving succeeds however long it takes in all; one
// that stalls is cut with RequestTimeoutException once a window passes
// without the minimum rate.
func TestSlowBodiesAreCutOnlyWhenStalled(t *testing.T) {
	cfg := newConfig(t, backends[0])
	cfg.API.MinBodyRate, cfg.API.BodyRateWindow = 32<<10, time.Second
	in := start(t, backends[0], cfg)
	key := in.rootKey()
	c := in.goClient(key)
	ctx := context.Background()
	store := newStore(t, c, "")
	upload := newFASTQUpload(t, c, store)
	record := "@r\nACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACG\n+\nIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIII\n"
	part := []byte(strings.Repeat(record, (640<<10)/len(record)))

	// send writes a signed UploadReadSetPart's headers, then the body in
	// chunks with pause between them, stopping after stopAfter bytes; it
	// returns the response.
	send := func(number, chunk int, pause time.Duration, stopAfter int) *http.Response {
		t.Helper()
		url := fmt.Sprintf("%s/sequencestore/%s/upload/%s/part?partSource=SOURCE1&partNumber=%d", in.endpoint, store, upload, number)
		r, _ := http.NewRequest("PUT", url, nil)
		r.ContentLength = int64(len(part))
		r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		signNow(t, r, key.ID, key.Secret, "UNSIGNED-PAYLOAD")
		conn := in.dialFrom(t, "127.0.0.1")
		conn.Write(rawHead(r))
		for sent := 0; sent < stopAfter; sent += chunk {
			if _, err := conn.Write(part[sent:min(sent+chunk, stopAfter)]); err != nil {
				break // the server gave up on the body
			}
			time.Sleep(pause)
		}
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no response to the upload: %v", err)
		}
		return resp
	}

	// 640 KiB in 64 KiB steps a quarter second apart: about 256 KiB/s,
	// well over the minimum, and longer in all than any one window.
	resp := send(1, 64<<10, 250*time.Millisecond, len(part))
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("a slow but steady part: %d %s", resp.StatusCode, body)
	}

	resp = send(2, 16<<10, 0, 16<<10)
	if got, want := resp.Header.Get("X-Amzn-ErrorType"), "RequestTimeoutException"; resp.StatusCode != 408 || got != want {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("a stalled part: %d %s %s, want 408 %s", resp.StatusCode, got, body, want)
	}
	parts, err := c.ListReadSetUploadParts(ctx, &omics.ListReadSetUploadPartsInput{SequenceStoreId: aws.String(store), UploadId: aws.String(upload), PartSource: "SOURCE1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(parts.Parts) != 1 || *parts.Parts[0].PartNumber != 1 {
		t.Fatalf("parts after a steady and a stalled upload: %+v", parts.Parts)
	}
}

// Headers are capped well below net/http's 1 MiB default: a signed request
// needs a few KiB.
func TestOversizedHeadersAreRefused(t *testing.T) {
	in := start(t, backends[0], nil)
	c := in.dialFrom(t, "127.0.0.1")
	fmt.Fprintf(c, "GET /sequencestore/1234567890 HTTP/1.1\r\nHost: x\r\nX-Padding: %s\r\n\r\n", strings.Repeat("a", 200<<10))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("200 KiB of headers: %d, want 431", resp.StatusCode)
	}
}

// A client that stops reading a download has its response cut once a window
// passes without the minimum rate, rather than holding the connection and
// the open object forever; one that reads gets everything (the other tests'
// downloads).
func TestStalledDownloadIsCut(t *testing.T) {
	cfg := newConfig(t, backends[0])
	cfg.API.MinBodyRate, cfg.API.BodyRateWindow = 256<<10, time.Second
	in := start(t, backends[0], cfg)
	key := in.rootKey()
	c := in.goClient(key)
	store := newStore(t, c, "")
	fastq := t.TempDir() + "/r.fastq"
	writeFASTQ(t, fastq, 40000, 0)
	id := uploadFiles(t, c, store, "FASTQ", "", 64<<20, fastq)
	if md := waitIngested(t, c, store, id); md.Status != "ACTIVE" {
		t.Fatalf("read set %s", md.Status)
	}

	r, _ := http.NewRequest("GET", fmt.Sprintf("%s/sequencestore/%s/readset/%s?partNumber=1&file=SOURCE1", in.endpoint, store, id), nil)
	signNow(t, r, key.ID, key.Secret, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	conn := in.dialFrom(t, "127.0.0.1")
	conn.(*net.TCPConn).SetReadBuffer(16 << 10)
	if err := r.Write(conn); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 4<<10), r)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GetReadSet: %v %v", resp, err)
	}
	time.Sleep(4 * time.Second) // the client stops reading for four windows
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil || n >= resp.ContentLength {
		t.Fatalf("after stalling, the client read %d of %d bytes (%v); want the response cut", n, resp.ContentLength, err)
	}
}
