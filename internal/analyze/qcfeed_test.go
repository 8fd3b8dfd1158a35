package analyze

import (
	"errors"
	"testing"

	"github.com/seqstore/seqstore/internal/format/panics"
)

// The statistics fed in batches are those of the reads added one by one,
// across many batches.
func TestReadStatsAcrossBatches(t *testing.T) {
	s := startReadStats(false)
	defer s.stop()
	seq, qual := []byte("ACGTNACGTA"), []byte("IIIII#####")
	n := 3*qcChunk/(8+len(seq)+len(qual)) + 7
	for range n {
		s.add(seq, qual)
	}
	rep, err := s.finish()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reads != int64(n) || rep.Bases != int64(n*len(seq)) || len(rep.Positions) != len(seq) {
		t.Errorf("%d reads, %d bases, %d positions; want %d, %d, %d", rep.Reads, rep.Bases, len(rep.Positions), n, n*len(seq), len(seq))
	}
}

// A panic on the statistics' goroutine comes back from finish as a
// *panics.Error, and adding after it neither blocks nor panics.
func TestReadStatsPanicIsAnError(t *testing.T) {
	s := startReadStats(true)
	defer s.stop()
	// A batch whose lengths run past its end makes the goroutine panic.
	s.full <- []byte{0xff, 0xff, 0, 0, 0, 0, 0, 0}
	for range 3 * qcChunk / 100 {
		s.add(make([]byte, 50), make([]byte, 50))
	}
	_, err := s.finish()
	var pe *panics.Error
	if !errors.As(err, &pe) {
		t.Fatalf("finish: %v, want a *panics.Error", err)
	}
}
