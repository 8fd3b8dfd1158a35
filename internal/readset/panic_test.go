package readset

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/testutil/leak"
)

// randomFastqGz returns n records of 100 random bases, gzip-compressed:
// about 700 KB for 10,000, more than the first read of a source takes.
func randomFastqGz(n int) []byte {
	rng := rand.New(rand.NewPCG(5, 6))
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	seq, qual := make([]byte, 100), make([]byte, 100)
	for i := range n {
		for j := range seq {
			seq[j], qual[j] = "ACGT"[rng.IntN(4)], byte('!'+rng.IntN(40))
		}
		fmt.Fprintf(zw, "@read%d\n%s\n+\n%s\n", i, seq, qual)
	}
	zw.Close()
	return z.Bytes()
}

// randomUBAM returns an unaligned BAM of n unmapped records of 100 random
// bases.
func randomUBAM(n int) []byte {
	rng := rand.New(rand.NewPCG(7, 8))
	var out bytes.Buffer
	w := bgzf.NewWriter(&out)
	le := binary.LittleEndian
	text := "@HD\tVN:1.6\tSO:unsorted\n"
	head := le.AppendUint32([]byte("BAM\x01"), uint32(len(text)))
	head = le.AppendUint32(append(head, text...), 0) // no references
	w.Write(head)
	for i := range n {
		name := fmt.Sprintf("read%d\x00", i)
		var rec []byte
		rec = le.AppendUint32(rec, 0xffffffff) // refID -1
		rec = le.AppendUint32(rec, 0xffffffff) // pos -1
		rec = append(rec, byte(len(name)), 0)  // l_read_name, mapq
		rec = le.AppendUint16(rec, 4680)       // bin of an unplaced read
		rec = le.AppendUint16(rec, 0)          // no CIGAR
		rec = le.AppendUint16(rec, 4)          // flag: unmapped
		rec = le.AppendUint32(rec, 100)        // l_seq
		rec = le.AppendUint32(rec, 0xffffffff) // next refID -1
		rec = le.AppendUint32(rec, 0xffffffff) // next pos -1
		rec = le.AppendUint32(rec, 0)          // tlen
		rec = append(rec, name...)
		for range 50 {
			rec = append(rec, byte(1<<rng.IntN(4))<<4|byte(1<<rng.IntN(4)))
		}
		for range 100 {
			rec = append(rec, byte(rng.IntN(41)))
		}
		w.Write(le.AppendUint32(nil, uint32(len(rec))))
		w.Write(rec)
	}
	w.Close()
	return out.Bytes()
}

// A panic on a goroutine that the analysis, or a reader it uses, starts
// fails that read set with the internal-error message, logs the panic and
// its stack with the read set's ID, leaves nothing behind and no goroutine
// running, and the ingester goes on to ingest the next read set.
func TestPanicOnAnAnalysisGoroutineFailsOnlyItsReadSet(t *testing.T) {
	for _, c := range []struct {
		name      string
		fileType  string
		body      []byte
		badRead   int    // the read of the part that returns a negative count
		goroutine string // a function of the goroutine that panics, in the logged stack
	}{
		// The first read sniffs the compression, on the analysis's
		// goroutine for the source; the next is the gzip reader's.
		{"FASTQ, the source's goroutine", seqstore.FileTypeFASTQ, randomFastqGz(10000), 1, "analyze.(*fastqSource).run"},
		{"FASTQ, the gzip reader's goroutine", seqstore.FileTypeFASTQ, randomFastqGz(10000), 2, "compress.(*gzipReader).inflateChunks"},
		// The BAM reader sniffs the first 64 KiB itself; the BGZF
		// reader's read-ahead goroutine reads the rest.
		{"UBAM, the BGZF reader's goroutine", seqstore.FileTypeUBAM, randomUBAM(5000), 2, "bgzf.(*Reader).readEachBlock"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			bad := e.completeFile(testAccount, e.store, c.fileType, c.body)
			// After the database opened: its goroutines live until the
			// test's clean-up.
			done := leak.Check(t)
			badKey := bad.SourceParts[0].Key
			e.blobs.badCount = func(key string, n int) bool { return key == badKey && n == c.badRead }
			ctx, cancel := context.WithCancel(e.ctx)
			stopped := make(chan struct{})
			go func() {
				defer close(stopped)
				newIngester(e).Run(ctx)
			}()
			defer func() {
				cancel()
				<-stopped
			}()
			got := e.waitStatus(bad.ID)
			if got.Status != seqstore.ReadSetStatusUploadFailed || !strings.Contains(got.StatusMessage, "internal error") || !strings.Contains(got.StatusMessage, "negative count") {
				t.Fatalf("read set %s %q, want UPLOAD_FAILED naming the internal error", got.Status, got.StatusMessage)
			}
			logs := e.logs.String()
			if !strings.Contains(logs, "ingest panicked") || !strings.Contains(logs, "readSet="+bad.ID) || !strings.Contains(logs, c.goroutine) {
				t.Errorf("the log does not report the panic with its stack and the read set's ID:\n%s", logs)
			}
			if strings.Contains(got.StatusMessage, "goroutine") {
				t.Errorf("the statusMessage holds the stack: %q", got.StatusMessage)
			}

			// The ingester goes on.
			good := e.complete(fastqGz(20))
			if got := e.waitStatus(good.ID); got.Status != seqstore.ReadSetStatusActive {
				t.Fatalf("the next read set is %s %q, want ACTIVE", got.Status, got.StatusMessage)
			}
			cancel()
			<-stopped
			e.blobs.badCount = nil
			if keys := e.objects("uploads/"); len(keys) > 0 {
				t.Errorf("parts left: %v", keys)
			}
			if keys := e.objects("readsets/"); len(keys) != 1 {
				t.Errorf("stored files %v, want only the good read set's", keys)
			}
			done()
		})
	}
}
