package analyze

import (
	"context"
	"sync/atomic"
)

// recordCounterKey carries a record counter in a context.
type recordCounterKey struct{}

// progressStride is how many records an analysis reads between additions
// to its context's record counter: often enough for a progress line, rare
// enough to cost nothing in the hot loop.
const progressStride = 1024

// WithRecordCounter returns a context whose analyses add to n the records
// they read (FASTQ records of every source, BAM and CRAM alignments),
// progressStride at a time, so that a long ingestion can report how far it
// has come while it runs.
func WithRecordCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, recordCounterKey{}, n)
}

// recordCounter is the context's record counter, or a private one that
// nobody reads.
func recordCounter(ctx context.Context) *atomic.Int64 {
	if n, ok := ctx.Value(recordCounterKey{}).(*atomic.Int64); ok {
		return n
	}
	return new(atomic.Int64)
}
