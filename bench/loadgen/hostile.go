package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// hostileOptions shape the -hostile run: what the attackers do while the
// signed GetSequenceStore traffic is measured.
type hostileOptions struct {
	idle       int   // keep-alive connections that send one unsigned request, then nothing
	slow       int   // signed part uploads trickling in at slowRate
	slowRate   int64 // bytes a second per slow upload
	slowSize   int   // bytes of each slow part
	poisonGiB  int   // GiB of 'A' in the poison FASTQ's one line (0: no poison upload)
	asLimitMiB int   // address-space limit of the seqstore it starts (0: none)
}

// Targets of the hostile run (bench/README.md says why).
const (
	hostileTargetErrors = 0
	hostileTargetRSS    = 300 << 20
)

// Attackers come from their own loopback addresses, so that the per-client
// connection cap sees them as the distinct clients they stand for while the
// signed traffic keeps 127.0.0.1; idle connections are spread over several.
const (
	idlePerAddress = 100
	slowAddress    = "127.0.0.3"
	poisonAddress  = "127.0.0.4"
)

func idleAddress(i int) string { return fmt.Sprintf("127.0.1.%d", 1+i/idlePerAddress) }

// runHostile measures signed GetSequenceStore traffic while idle
// connections, slow uploads and a poison upload press on the server.
func runHostile(ctx context.Context, o options, h hostileOptions, out io.Writer) (bool, error) {
	if o.endpoint != "" {
		return false, errors.New("-hostile starts its own seqstore (its peak RSS is part of the report); drop -endpoint")
	}
	dir, bin, err := prepare(ctx, o, out)
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	accessKeyID, secret := randomCredentials()
	server, err := startSeqstore(ctx, bin, dir, accessKeyID, secret, o.serverProcs, h.asLimitMiB)
	if err != nil {
		return false, err
	}
	defer server.stop()
	sig := newSigning(accessKeyID, secret, o.region)
	api := &apiClient{endpoint: server.endpoint, signing: sig, http: &http.Client{Timeout: 30 * time.Second}}
	storeID, err := api.createSequenceStore(ctx, "hostile")
	if err != nil {
		return false, err
	}
	addr := strings.TrimPrefix(server.endpoint, "http://")
	fmt.Fprintf(out, "seqstore at %s (address-space limit %d MiB); attackers: %d idle connections, %d slow uploads at %d B/s, poison upload of %d GiB\n",
		server.endpoint, h.asLimitMiB, h.idle, h.slow, h.slowRate, h.poisonGiB)

	attackCtx, stopAttack := context.WithCancel(ctx)
	defer stopAttack()
	var wg sync.WaitGroup
	// The high-water mark dies with the process, so it is sampled.
	var peak atomic.Int64
	wg.Go(func() {
		for attackCtx.Err() == nil && server.alive() {
			peak.Store(max(peak.Load(), server.peakRSS()))
			select {
			case <-attackCtx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	})

	idle, idleRefused := openIdle(attackCtx, addr, h.idle)
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	fmt.Fprintf(out, "idle: %d connections held open, %d refused or failed\n", len(idle), idleRefused)

	slow := &slowUploads{}
	if h.slow > 0 {
		uploadID, err := api.createUpload(ctx, storeID, "slow")
		if err != nil {
			return false, err
		}
		for i := range h.slow {
			wg.Go(func() { slow.run(attackCtx, sig, addr, storeID, uploadID, i+1, h) })
		}
	}

	poison := make(chan string, 1)
	if h.poisonGiB > 0 {
		// Made before the clock starts: compressing a GiB is the
		// attacker's cost, and would only slow this process's client.
		data, err := poisonFASTQ(h.poisonGiB)
		if err != nil {
			return false, err
		}
		wg.Go(func() { poison <- poisonUpload(attackCtx, api, sig, addr, storeID, data) })
	} else {
		poison <- "not sent"
	}

	fmt.Fprintf(out, "measuring signed GetSequenceStore on %d connections for %s ...\n", o.conns, o.duration)
	d := newDriver(server.endpoint+"/sequencestore/"+storeID, sig, loadConfig{Conns: o.conns, Duration: o.duration})
	r, err := d.measure(ctx)
	d.close()
	if err != nil {
		return false, err
	}
	alive := server.alive()
	rss := max(peak.Load(), server.peakRSS())
	stopAttack()
	wg.Wait()

	fmt.Fprintf(out, "\nsigned traffic: %d requests, %.0f req/s, p50 %s, p99 %s, errors %d (target %d)",
		r.Requests, r.RequestsPerSecond(), ms(r.Percentile(0.5)), ms(r.Percentile(0.99)), r.Errors, hostileTargetErrors)
	if r.FirstError != "" {
		fmt.Fprintf(out, "; the first: %s", r.FirstError)
	}
	fmt.Fprintf(out, "\nslow uploads: %d succeeded, %d failed", slow.ok.Load(), slow.failed.Load())
	if e := slow.firstError(); e != "" {
		fmt.Fprintf(out, " (the first: %s)", e)
	}
	fmt.Fprintf(out, ", %d still running when the run ended\n", int64(h.slow)-slow.ok.Load()-slow.failed.Load())
	fmt.Fprintf(out, "poison upload: %s\n", <-poison)
	fmt.Fprintf(out, "server alive at the end: %v\n", alive)
	fmt.Fprintf(out, "seqstore peak RSS (VmHWM): %.1f MiB (target < %d MiB)\n", float64(rss)/(1<<20), hostileTargetRSS>>20)
	ok := alive && r.Errors == hostileTargetErrors && rss < hostileTargetRSS
	fmt.Fprintf(out, "verdict: %s\n", passFail(ok))
	if !alive {
		fmt.Fprintf(out, "seqstore died: %s\n", server.deathNote())
	}
	return ok, nil
}

// openIdle opens n connections, each sending one unsigned request and
// reading its 403, then sending nothing more, as a crowd of abandoned
// keep-alive clients does. It returns those the server kept.
func openIdle(ctx context.Context, addr string, n int) (held []net.Conn, refused int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := dialFrom(ctx, idleAddress(i), addr)
			if err == nil {
				_, err = fmt.Fprintf(c, "GET /sequencestore/0000000000 HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
			}
			if err == nil {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, err = http.ReadResponse(bufio.NewReader(c), nil)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				refused++
				if c != nil {
					c.Close()
				}
				return
			}
			held = append(held, c)
		})
	}
	wg.Wait()
	return held, refused
}

func dialFrom(ctx context.Context, local, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	return d.DialContext(ctx, "tcp", addr)
}

// createUpload starts a FASTQ multipart upload and returns its ID.
func (c *apiClient) createUpload(ctx context.Context, storeID, name string) (string, error) {
	return c.create(ctx, "CreateMultipartReadSetUpload", "/sequencestore/"+storeID+"/upload", map[string]string{
		"sourceFileType": "FASTQ", "subjectId": "s", "sampleId": "s", "name": name,
	}, "uploadId")
}

// slowUploads counts what the slow uploads came to.
type slowUploads struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	first      string
}

func (s *slowUploads) fail(msg string) {
	s.failed.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first == "" {
		s.first = msg
	}
}

func (s *slowUploads) firstError() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first
}

// run sends one part, signed UNSIGNED-PAYLOAD as the SDKs sign parts, at
// h.slowRate bytes a second.
func (s *slowUploads) run(ctx context.Context, sig *signing, addr, storeID, uploadID string, number int, h hostileOptions) {
	part := bytes.Repeat([]byte("@r\nACGTACGTAC\n+\nIIIIIIIIII\n"), h.slowSize/26+1)[:h.slowSize]
	url := fmt.Sprintf("http://%s/sequencestore/%s/upload/%s/part?partSource=SOURCE1&partNumber=%d", addr, storeID, uploadID, number)
	body := &paced{r: bytes.NewReader(part), rate: h.slowRate, ctx: ctx}
	resp, err := sendPart(ctx, sig, slowAddress, url, body, int64(len(part)))
	switch {
	case ctx.Err() != nil:
		return // still running when the run ended
	case err != nil:
		s.fail(err.Error())
	case resp.StatusCode != http.StatusOK:
		s.fail(fmt.Sprintf("HTTP %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType")))
	default:
		s.ok.Add(1)
	}
}

// sendPart sends a signed UploadReadSetPart from the local address.
func sendPart(ctx context.Context, sig *signing, local, url string, body io.Reader, size int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if err := sig.sign(ctx, req, "UNSIGNED-PAYLOAD"); err != nil {
		return nil, err
	}
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) { return dialFrom(ctx, local, addr) },
	}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

// paced reads from r at about rate bytes a second, in tenth-of-a-second
// steps.
type paced struct {
	r    io.Reader
	rate int64
	ctx  context.Context
	next time.Time
}

func (p *paced) Read(b []byte) (int, error) {
	if wait := time.Until(p.next); wait > 0 {
		select {
		case <-time.After(wait):
		case <-p.ctx.Done():
			return 0, p.ctx.Err()
		}
	}
	step := max(1, int(p.rate/10))
	n, err := p.r.Read(b[:min(len(b), step)])
	p.next = time.Now().Add(time.Duration(n) * time.Second / time.Duration(p.rate))
	return n, err
}

// poisonFASTQ is the gzip of "@r\n" and then gib GiB of 'A' with no newline:
// about a megabyte that expands to one endless line. It is made on the fly.
func poisonFASTQ(gib int) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	zw.Write([]byte("@r\n"))
	block := bytes.Repeat([]byte("A"), 1<<20)
	for range gib << 10 {
		if _, err := zw.Write(block); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// poisonUpload uploads the poison file as a read set and says what became
// of it by the time the run ends.
func poisonUpload(ctx context.Context, api *apiClient, sig *signing, addr, storeID string, data []byte) string {
	uploadID, err := api.createUpload(ctx, storeID, "poison")
	if err != nil {
		return err.Error()
	}
	url := fmt.Sprintf("http://%s/sequencestore/%s/upload/%s/part?partSource=SOURCE1&partNumber=1", addr, storeID, uploadID)
	resp, err := sendPart(ctx, sig, poisonAddress, url, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "part upload failed: " + err.Error()
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("part upload answered HTTP %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
	sum := sha256.Sum256(data)
	b, err := api.call(ctx, http.MethodPost, "/sequencestore/"+storeID+"/upload/"+uploadID+"/complete", map[string]any{
		"parts": []map[string]any{{"partNumber": 1, "partSource": "SOURCE1", "checksum": hex.EncodeToString(sum[:])}},
	})
	if err != nil {
		return "complete failed: " + err.Error()
	}
	var done struct {
		ReadSetID string `json:"readSetId"`
	}
	json.Unmarshal(b, &done)
	status := "no answer"
	for ctx.Err() == nil {
		b, err := api.call(context.WithoutCancel(ctx), http.MethodGet, "/sequencestore/"+storeID+"/readset/"+done.ReadSetID+"/metadata", nil)
		if err != nil {
			status = "metadata failed: " + err.Error()
		} else {
			var m struct{ Status, StatusMessage string }
			json.Unmarshal(b, &m)
			status = m.Status
			if m.StatusMessage != "" {
				status += ": " + m.StatusMessage
			}
			if m.Status != "PROCESSING_UPLOAD" {
				break
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return fmt.Sprintf("%d bytes gzipped; read set %s is %s", len(data), done.ReadSetID, status)
}
