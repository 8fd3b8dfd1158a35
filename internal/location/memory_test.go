package location

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"testing"

	"github.com/seqstore/seqstore/internal/testutil/heapcap"
	"github.com/seqstore/seqstore/internal/testutil/s3server"
)

// repeating yields n bytes of a pattern without holding them.
type repeating struct {
	pattern []byte
	left    int64
}

func (r *repeating) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.left)]
	for i := range p {
		p[i] = r.pattern[i%len(r.pattern)]
	}
	r.left -= int64(len(p))
	return len(p), nil
}

// TestS3TransfersHoldBoundedHeap measures the heap of a whole transfer of
// an object far larger than what the transfer may hold: the reader at most
// PartSize×Concurrency bytes of parts, the writer the transfer manager's
// Concurrency+1 parts and the first one it reads to choose between one PUT
// and a multipart upload.
func TestS3TransfersHoldBoundedHeap(t *testing.T) {
	srv := s3server.StartServer(t)
	createBucket(t, srv, "heap")
	useEnvironment(t, srv)
	const (
		readPart    = 256 << 10
		concurrency = 2
		size        = 96 << 20
	)
	l := newLocations(t, Config{PartSize: readPart, Concurrency: concurrency})
	ctx := context.Background()
	pattern := []byte("ACGTTGCAAGCTTCGA\n")
	wantSum := sha256.New()
	io.Copy(wantSum, &repeating{pattern, size})

	const writeCeiling = (concurrency+2)*minUploadPartSize + 8<<20
	peak := heapcap.Peak(2*writeCeiling, func() {
		w, err := l.CreateSized(ctx, accountA, "s3://heap/big.fq", size)
		must(t, err)
		_, err = io.Copy(w, &repeating{pattern, size})
		must(t, err)
		must(t, w.Commit())
	})
	t.Logf("write peak %d KiB", peak>>10)
	if peak > writeCeiling {
		t.Errorf("writing %d MiB held %d MiB of heap; the bound is about %d MiB", size>>20, peak>>20, writeCeiling>>20)
	}

	const readCeiling = readPart*concurrency + 4<<20
	var gotSum []byte
	peak = heapcap.Peak(2*readCeiling, func() {
		r, err := l.Open(ctx, accountA, "s3://heap/big.fq")
		must(t, err)
		defer r.Close()
		h := sha256.New()
		_, err = io.Copy(h, r)
		must(t, err)
		gotSum = h.Sum(nil)
	})
	if !bytes.Equal(gotSum, wantSum.Sum(nil)) {
		t.Fatal("the object read back differs from the one written")
	}
	t.Logf("read peak %d KiB", peak>>10)
	if peak > readCeiling {
		t.Errorf("reading %d MiB held %d KiB of heap; the bound is about %d KiB", size>>20, peak>>10, readCeiling>>10)
	}
}
