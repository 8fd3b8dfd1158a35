// Package transfer moves read sets in and out of a HealthOmics-compatible
// sequence store, seqstore or AWS HealthOmics itself, through the public
// omics API and nothing else: multipart uploads that resume where they
// stopped, downloads whose parts travel in parallel and are verified against
// the read set's ETag, listing, deletion and waiting for a read set to
// settle. It reports what it does as Events, which package progress shows;
// it knows file formats only through package analyze, to verify what it
// downloads, and nothing of how a server stores anything.
package transfer

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/omics"
)

// MaxPartSize is the largest part HealthOmics accepts, and the size of the
// parts GetReadSet serves.
const MaxPartSize = 100 << 20

// maxParts is how many parts one source may have.
const maxParts = 10_000

// layout is how a file is cut into parts: every part is partSize bytes
// but the last, which holds what is left. Uploads and downloads both
// number parts from 1.
type layout struct {
	size     int64
	partSize int64
	parts    int
}

// newLayout cuts size bytes into parts of partSize (more than 0).
func newLayout(size, partSize int64) layout {
	return layout{size: size, partSize: partSize, parts: int((size + partSize - 1) / partSize)}
}

// part returns the offset and length of part n (1-based).
func (l layout) part(n int) (off, length int64) {
	off = int64(n-1) * l.partSize
	return off, min(l.partSize, l.size-off)
}

// DefaultConcurrency is how many parts travel at once unless told
// otherwise: enough to fill a fast link without holding many 100 MiB
// requests open.
const DefaultConcurrency = 4

// Client transfers read sets through an omics API client.
type Client struct {
	API *omics.Client
	// Concurrency is how many parts are sent or fetched at once
	// (DefaultConcurrency when zero).
	Concurrency int
	// PartSize is the size of the parts an upload is cut into
	// (MaxPartSize when zero). Smaller parts make tests and slow links
	// resume at a finer grain.
	PartSize int64
	// Progress receives what happens, from several goroutines at once; nil
	// discards it.
	Progress func(Event)
	// PollInterval is the longest pause between two looks at a read set
	// being waited on (10 s when zero); the first looks come sooner.
	PollInterval time.Duration
}

func (c *Client) concurrency() int {
	if c.Concurrency > 0 {
		return c.Concurrency
	}
	return DefaultConcurrency
}

func (c *Client) partSize() int64 {
	if c.PartSize > 0 {
		return c.PartSize
	}
	return MaxPartSize
}

// Emit reports e to Progress, if there is one: for callers whose own steps
// belong with the transfer's.
func (c *Client) Emit(e Event) {
	if c.Progress != nil {
		c.Progress(e)
	}
}

func (c *Client) step(format string, args ...any) {
	c.Emit(Event{Kind: EventStep, Message: fmt.Sprintf(format, args...)})
}

// EventKind says what an Event reports.
type EventKind int

// The kinds of events.
const (
	// EventStep is a step of the whole transfer, told in Message.
	EventStep EventKind = iota
	// EventFileStart opens a file: File names it (source1, source2,
	// index), Path is the local file, Size its length, Parts how many
	// parts it has and Bytes how many of them were there already (a
	// resumed upload).
	EventFileStart
	// EventBytes reports Bytes more of File sent or received; negative
	// when a part starts over.
	EventBytes
	// EventPartDone reports part Part of Parts of File finished; Bytes is
	// the part's length.
	EventPartDone
	// EventFileDone closes File; Message says how it was verified.
	EventFileDone
)

// Event is one thing a transfer reports.
type Event struct {
	Kind    EventKind
	File    string
	Path    string
	Size    int64
	Bytes   int64
	Part    int
	Parts   int
	Message string
}
