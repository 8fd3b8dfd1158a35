package readset

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/blob"
)

// DefaultProgressInterval is how often a long ingestion logs how far it has
// come when Service.ProgressInterval is zero.
const DefaultProgressInterval = 30 * time.Second

// countingBlobs is an object store whose readers count the bytes they
// return: the parts an ingestion reads, for its progress lines.
type countingBlobs struct {
	blob.Store
	read *atomic.Int64
}

func (c countingBlobs) NewRangeReader(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	rc, err := c.Store.NewRangeReader(ctx, key, off, n)
	if err != nil {
		return nil, err
	}
	return countingReader{ReadCloser: rc, read: c.read}, nil
}

type countingReader struct {
	io.ReadCloser
	read *atomic.Int64
}

func (r countingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.read.Add(int64(n))
	return n, err
}

// watchProgress returns a copy of s whose object store counts what the
// ingestion of parts reads, and logs at Info, every ProgressInterval until
// stop is called, the bytes read of the total, the share done and the rate
// since the start: a large read set takes many minutes, and an operator
// must tell a slow one from a stuck one.
func (s *Service) watchProgress(ctx context.Context, log *slog.Logger, parts []*seqstore.UploadPart) (counted *Service, stop func()) {
	every := s.ProgressInterval
	if every == 0 {
		every = DefaultProgressInterval
	}
	if every < 0 {
		return s, func() {}
	}
	var total int64
	for _, p := range parts {
		total += p.Size
	}
	read := &atomic.Int64{}
	c := *s
	c.Blobs = countingBlobs{Store: s.Blobs, read: read}
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				n, elapsed := read.Load(), time.Since(start)
				attrs := []slog.Attr{slog.Int64("readBytes", n), slog.Int64("totalBytes", total)}
				if total > 0 {
					attrs = append(attrs, slog.String("done", formatPercent(n, total)))
				}
				attrs = append(attrs, slog.Int64("bytesPerSecond", int64(float64(n)/elapsed.Seconds())), slog.Duration("elapsed", elapsed.Round(time.Millisecond)))
				log.LogAttrs(ctx, slog.LevelInfo, "ingest progress", attrs...)
			}
		}
	}()
	return &c, func() {
		close(done)
		<-finished
	}
}

// formatPercent is n of total as a percentage with one decimal.
func formatPercent(n, total int64) string {
	return fmt.Sprintf("%.1f%%", float64(n)*100/float64(total))
}
