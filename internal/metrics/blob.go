package metrics

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/seqstore/seqstore/internal/blob"
)

// Blobs wraps an object store so that its calls are timed: Stat, Delete
// and List whole; NewRangeReader until the reader is ready (the reader
// itself is handed back as is, so a file's sendfile path stays open);
// NewWriter until the writer is ready, and a writer's Close, which is when
// an object store takes the object, as "Commit".
func (m *Metrics) Blobs(next blob.Store) blob.Store {
	return &blobStore{next: next, m: m}
}

type blobStore struct {
	next blob.Store
	m    *Metrics
}

func (b *blobStore) observe(op string, start time.Time, err *error) {
	outcome := "ok"
	switch {
	case *err == nil:
	case errors.Is(*err, blob.ErrNotFound):
		outcome = "not_found"
	default:
		outcome = "error"
	}
	b.m.objectLatency.WithLabelValues(op, outcome).Observe(time.Since(start).Seconds())
}

func (b *blobStore) NewWriter(ctx context.Context, key string) (w blob.Writer, err error) {
	defer b.observe("NewWriter", time.Now(), &err)
	w, err = b.next.NewWriter(ctx, key)
	if err != nil {
		return nil, err
	}
	return &timedWriter{Writer: w, b: b}, nil
}

func (b *blobStore) NewRangeReader(ctx context.Context, key string, offset, length int64) (r io.ReadCloser, err error) {
	defer b.observe("NewRangeReader", time.Now(), &err)
	return b.next.NewRangeReader(ctx, key, offset, length)
}

func (b *blobStore) Stat(ctx context.Context, key string) (a blob.Attributes, err error) {
	defer b.observe("Stat", time.Now(), &err)
	return b.next.Stat(ctx, key)
}

func (b *blobStore) Delete(ctx context.Context, key string) (err error) {
	defer b.observe("Delete", time.Now(), &err)
	return b.next.Delete(ctx, key)
}

func (b *blobStore) List(ctx context.Context, prefix string, fn func(key string, attrs blob.Attributes) error) (err error) {
	defer b.observe("List", time.Now(), &err)
	return b.next.List(ctx, prefix, fn)
}

func (b *blobStore) Close() error { return b.next.Close() }

// timedWriter times its Close. Embedding the Writer keeps its ReadFrom.
type timedWriter struct {
	blob.Writer
	b *blobStore
}

func (w *timedWriter) Close() (err error) {
	defer w.b.observe("Commit", time.Now(), &err)
	return w.Writer.Close()
}
