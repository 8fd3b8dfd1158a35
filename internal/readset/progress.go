package readset

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// watchProgress logs msg at Info, every ProgressInterval until stop is
// called, with the bytes read of the total, the share done and the rate
// since the start: a large read set takes many minutes to ingest or
// export, and an operator must tell a slow one from a stuck one. read is
// the work's count of the bytes it has read, records (nil when the work
// does not parse records) its count of the records, to the nearest
// thousand or so.
func (s *Service) watchProgress(ctx context.Context, log *slog.Logger, msg string, read, records *atomic.Int64, total int64) (stop func()) {
	every := s.ProgressInterval
	if every <= 0 {
		return func() {}
	}
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
				if records != nil {
					attrs = append(attrs, slog.Int64("records", records.Load()))
				}
				if total > 0 {
					attrs = append(attrs, slog.String("done", formatPercent(n, total)))
				}
				attrs = append(attrs, slog.Int64("bytesPerSecond", int64(float64(n)/elapsed.Seconds())), slog.Duration("elapsed", elapsed.Round(time.Millisecond)))
				log.LogAttrs(ctx, slog.LevelInfo, msg, attrs...)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// formatPercent is n of total as a percentage with one decimal.
func formatPercent(n, total int64) string {
	return fmt.Sprintf("%.1f%%", float64(n)*100/float64(total))
}
