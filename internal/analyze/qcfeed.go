package analyze

import (
	byteorder "encoding/binary"

	"github.com/seqstore/seqstore/internal/format/panics"
	"github.com/seqstore/seqstore/internal/qc"
)

// qcChunk is how many bytes of reads go to the QC goroutine at once, and
// qcBuffers how many such batches circulate. Each hand-over may wake a
// thread that the kernel must find a core for, more often so with the
// server's request headroom: batches of 1 MiB rather than 256 KiB took
// the statistics' cost to a BAM ingestion from about 12% to about 8%.
const (
	qcChunk   = 1 << 20
	qcBuffers = 3
)

// readStats computes the read statistics of one source (qc.Reads) on a
// goroutine of its own, fed with batches of copied reads: on the goroutine
// that parses, their CPU would add to the whole pass's time, where on
// their own they use what the other stages leave. A nil *readStats computes nothing.
type readStats struct {
	reads qc.Reads
	phred bool // qualities are Phred scores (BAM, CRAM), not FASTQ text
	buf   []byte
	full  chan []byte
	empty chan []byte
	done  chan struct{}
	// err, a panic of the goroutine, may be read once done is closed.
	err     error
	stopped bool
}

func startReadStats(phred bool) *readStats {
	s := &readStats{phred: phred, full: make(chan []byte, qcBuffers), empty: make(chan []byte, qcBuffers), done: make(chan struct{})}
	for range qcBuffers - 1 {
		s.empty <- make([]byte, 0, qcChunk+64<<10)
	}
	s.buf = make([]byte, 0, qcChunk+64<<10)
	go s.run()
	return s
}

// add copies one read into the batch, handing the batch over when full.
func (s *readStats) add(seq, qual []byte) {
	if s == nil {
		return
	}
	s.buf = byteorder.LittleEndian.AppendUint32(s.buf, uint32(len(seq)))
	s.buf = byteorder.LittleEndian.AppendUint32(s.buf, uint32(len(qual)))
	s.buf = append(append(s.buf, seq...), qual...)
	if len(s.buf) >= qcChunk {
		s.full <- s.buf
		s.buf = <-s.empty
	}
}

// run adds the batches' reads. After a panic it still hands the buffers
// back, so that add never waits for one, and adds no more.
func (s *readStats) run() {
	defer close(s.done)
	if s.err = s.consume(); s.err != nil {
		for b := range s.full {
			s.empty <- b[:0]
		}
	}
}

func (s *readStats) consume() (err error) {
	defer panics.Recover(&err)
	for batch := range s.full {
		for b := batch; len(b) > 0; {
			ns, nq := int(byteorder.LittleEndian.Uint32(b)), int(byteorder.LittleEndian.Uint32(b[4:]))
			seq, qual := b[8:8+ns], b[8+ns:8+ns+nq]
			b = b[8+ns+nq:]
			if s.phred {
				s.reads.AddPhred(seq, qual)
			} else {
				s.reads.AddFASTQ(seq, qual)
			}
		}
		s.empty <- batch[:0]
	}
	return nil
}

// stop ends the goroutine, whatever was handed over, and returns its
// panic if it had one. Calls after the first only return that again, so
// that it can also be deferred.
func (s *readStats) stop() error {
	if s == nil {
		return nil
	}
	if !s.stopped {
		s.stopped = true
		close(s.full)
		<-s.done
	}
	return s.err
}

// finish hands over the last batch, stops, and returns the report.
func (s *readStats) finish() (*qc.ReadsReport, error) {
	if s == nil {
		return nil, nil
	}
	s.full <- s.buf
	s.buf = nil
	if err := s.stop(); err != nil {
		return nil, err
	}
	return s.reads.Report(), nil
}
