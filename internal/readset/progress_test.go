package readset

import (
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/location"
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

var exportProgressLine = regexp.MustCompile(`level=INFO msg="export progress" .*readBytes=(\d+) totalBytes=(\d+) done=(\S+)% bytesPerSecond=\d+ elapsed=\S+`)

// An export logs how far it has come too, in bytes of the read set's files.
func TestExportLogsProgressWhileItCopies(t *testing.T) {
	e := newEnv(t)
	rs := e.complete(fastqGz(200_000))
	e.svc.Ingest(e.ctx, rs)
	stored := e.get(rs.ID)
	if stored.Status != seqstore.ReadSetStatusActive {
		t.Fatalf("read set %s: %s", stored.Status, stored.StatusMessage)
	}
	var total int64
	for _, f := range stored.Files {
		total += f.ContentLength
	}
	root := t.TempDir()
	locs, err := location.New(e.ctx, location.Config{FileRoots: []location.FileRoot{{Dir: root}}})
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Locations = locs
	e.svc.ProgressInterval = 5 * time.Millisecond

	// The export's first read goes through; the next waits until a
	// progress line has counted it.
	var reads atomic.Int32
	release := make(chan struct{})
	e.blobs.onRead = func(string) {
		if reads.Add(1) == 2 {
			<-release
		}
	}
	job := &seqstore.Job{AccountID: testAccount, StoreID: e.store, ID: "1234567890", Kind: seqstore.JobKindReadSetExport, Destination: "file://" + root + "/out/"}
	done := make(chan error, 1)
	go func() { done <- (ExportHandler{Service: e.svc}).Do(e.ctx, job, &seqstore.JobItem{ReadSetID: rs.ID}) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := exportProgressLine.FindStringSubmatch(e.logs.String())
		if m != nil && m[1] != "0" {
			read, _ := strconv.ParseInt(m[1], 10, 64)
			if got, _ := strconv.ParseInt(m[2], 10, 64); got != total || read >= total {
				t.Fatalf("export progress %d of %d bytes, want part of %d:\n%s", read, got, total, e.logs.String())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no export progress line with bytes copied:\n%s", e.logs.String())
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	after := strings.Count(e.logs.String(), "export progress")
	time.Sleep(50 * time.Millisecond)
	if n := strings.Count(e.logs.String(), "export progress"); n != after {
		t.Fatalf("%d export progress lines after the export ended", n-after)
	}
}
