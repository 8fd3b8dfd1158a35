package readset

import (
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
)

var progressLine = regexp.MustCompile(`level=INFO msg="ingest progress" .*readBytes=(\d+) totalBytes=(\d+) records=\d+ done=(\S+)% bytesPerSecond=(\d+) elapsed=\S+`)

// A long ingestion logs how far it has come at the interval set, while it
// reads; the lines stop when it ends.
func TestIngestLogsProgressWhileItReads(t *testing.T) {
	e := newEnv(t)
	e.svc.ProgressInterval = 5 * time.Millisecond
	body := fastqGz(200_000)
	rs := e.complete(body)

	// The first read goes through; the next waits until a progress line
	// has counted it, so the ingestion is caught part way.
	var reads atomic.Int32
	release := make(chan struct{})
	e.blobs.onRead = func(string) {
		if reads.Add(1) == 2 {
			<-release
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.svc.Ingest(e.ctx, rs)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := progressLine.FindStringSubmatch(e.logs.String())
		if m != nil && m[1] != "0" {
			read, _ := strconv.ParseInt(m[1], 10, 64)
			total, _ := strconv.ParseInt(m[2], 10, 64)
			if total != int64(len(body)) || read >= total {
				t.Fatalf("progress %d of %d bytes, want part of %d:\n%s", read, total, len(body), e.logs.String())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no progress line with bytes read:\n%s", e.logs.String())
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	<-done
	if got := e.get(rs.ID); got.Status != seqstore.ReadSetStatusActive {
		t.Fatalf("read set %s: %s", got.Status, got.StatusMessage)
	}
	after := strings.Count(e.logs.String(), "ingest progress")
	time.Sleep(50 * time.Millisecond)
	if n := strings.Count(e.logs.String(), "ingest progress"); n != after {
		t.Fatalf("%d progress lines after the ingestion ended", n-after)
	}
}

// No interval, no progress lines.
func TestIngestProgressOff(t *testing.T) {
	e := newEnv(t)
	e.svc.ProgressInterval = 0
	reading, release := e.block()
	rs := e.complete(fastqGz(100))
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.svc.Ingest(e.ctx, rs)
	}()
	<-reading
	time.Sleep(20 * time.Millisecond)
	close(release)
	<-done
	if strings.Contains(e.logs.String(), "ingest progress") {
		t.Fatalf("progress logged although turned off:\n%s", e.logs.String())
	}
}
