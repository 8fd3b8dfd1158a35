package analyze

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/seqstore/seqstore/internal/format/fastq"
)

// Two FASTQ sources pair when record n of source 2 has the pairing key
// (fastq.PairKey) of record n of source 1. Each source is read on its own
// goroutine: source 1 sends its keys in batches (nameSender), source 2
// checks its own against them as it reads (nameChecker).

// pairBatch is how many pairing keys travel together from source 1 to the
// pairing check in source 2's goroutine: enough to make the handover cheap,
// few enough that memory stays small.
const pairBatch = 4096

// nameBatch holds the pairing keys of consecutive records of source 1.
type nameBatch struct {
	first int64  // number of the first record in the batch (1-based)
	keys  []byte // the pairing keys, each followed by a zero byte
}

// pairing carries source 1's names to source 2.
type pairing struct {
	batches chan nameBatch
	// source1Failed is set before batches is closed when source 1 ends on
	// an error rather than at its end.
	source1Failed atomic.Bool
}

func (p *pairing) send(ctx context.Context, b nameBatch) error {
	select {
	case p.batches <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *pairing) receive(ctx context.Context) (nameBatch, bool, error) {
	select {
	case b, ok := <-p.batches:
		return b, ok, nil
	case <-ctx.Done():
		return nameBatch{}, false, ctx.Err()
	}
}

// nameSender is source 1's side: it gathers the key of each record and
// sends them a batch at a time.
type nameSender struct {
	p     *pairing
	batch nameBatch
}

// add takes the key of record n (1-based).
func (ns *nameSender) add(ctx context.Context, key []byte, n int64) error {
	if len(ns.batch.keys) == 0 {
		ns.batch.first = n
	}
	ns.batch.keys = append(append(ns.batch.keys, key...), 0)
	if n-ns.batch.first+1 < pairBatch {
		return nil
	}
	if err := ns.p.send(ctx, ns.batch); err != nil {
		return err
	}
	ns.batch = nameBatch{keys: make([]byte, 0, len(ns.batch.keys))}
	return nil
}

// flush sends the keys not sent yet: at the end of the source, or before
// its defect is reported, so that source 2 still checks the records before
// the defect.
func (ns *nameSender) flush(ctx context.Context) error {
	if len(ns.batch.keys) == 0 {
		return nil
	}
	err := ns.p.send(ctx, ns.batch)
	ns.batch = nameBatch{}
	return err
}

// nameChecker is source 2's side: it checks the key of each record against
// source 1's. Its failures come with the record they are ranked at (see
// sourceOutcome.errRecord).
type nameChecker struct {
	s     *fastqSource
	mates []byte // what is left of the current batch of source 1's keys
}

// check compares the key of record n (1-based), which rd has just read,
// with the key of source 1's record n.
func (nc *nameChecker) check(ctx context.Context, key []byte, n int64, rd *fastq.Reader) (int64, error) {
	s := nc.s
	if len(nc.mates) == 0 {
		b, ok, err := s.pairing.receive(ctx)
		if err != nil {
			return n, err
		}
		if !ok {
			if s.pairing.source1Failed.Load() {
				return n, errStopped
			}
			return math.MaxInt64, Errorf(s.name, s.where(rd), "source2 has more records than source1, which ends after record %d; the mates do not pair", n-1)
		}
		nc.mates = b.keys
	}
	end := bytes.IndexByte(nc.mates, 0)
	mate := nc.mates[:end]
	nc.mates = nc.mates[end+1:]
	if !bytes.Equal(mate, key) {
		return n, Errorf(s.name, s.where(rd), "read name %q does not pair with source1's %q", key, mate)
	}
	return 0, nil
}

// end checks, once source 2 has ended after reads records, that source 1
// ends there too. If it goes on, its records are counted (source 1 still
// validates them) to say how many it has.
func (nc *nameChecker) end(ctx context.Context, reads int64) (int64, error) {
	s := nc.s
	extra := int64(bytes.Count(nc.mates, []byte{0}))
	for {
		b, ok, err := s.pairing.receive(ctx)
		if err != nil {
			return reads, err
		}
		if !ok {
			break
		}
		extra += int64(bytes.Count(b.keys, []byte{0}))
	}
	if s.pairing.source1Failed.Load() {
		return reads, errStopped
	}
	if extra > 0 {
		return math.MaxInt64, Errorf(s.name, fmt.Sprintf("end of file after record %d", reads),
			"source2 has %d records but source1 has %d; the mates do not pair", reads, reads+extra)
	}
	return 0, nil
}
