// Package readset runs the life of a read set: the multipart upload that
// brings its bytes in, the ingestion that reads them once and decides whether
// they are good, and the retrieval that serves them back in parts. It keeps
// the promise the rest of seqstore rests on: a read set becomes ACTIVE only
// after every stored file is durably written and its counts and ETags come
// from those very bytes; whatever crashes, it is never ACTIVE with missing or
// wrong data. Ingestion reads exactly the parts Complete validated, frozen
// with the read set, so a part that arrives later changes nothing; a panic
// while ingesting fails the read set, not the process; and a read set whose
// ingestion keeps taking its node down fails after a few attempts.
//
// It knows file formats only through package analyze and storage only
// through the meta and blob interfaces.
package readset

import (
	"log/slog"
	"time"

	"github.com/seqstore/seqstore/internal/analyze"
	"github.com/seqstore/seqstore/internal/arn"
	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/meta"
)

// Limits of direct upload (HealthOmics fixed quotas) and of serving.
const (
	// MaxPartSize is the largest part UploadReadSetPart takes: 100 MiB.
	MaxPartSize = 100 << 20
	// MaxParts is the most parts one source may have.
	MaxParts = 10000
	// ServePartSize is the part size GetReadSet serves files in.
	ServePartSize = 100 << 20
)

// Service carries what the read-set operations need.
type Service struct {
	Meta  meta.Store
	Blobs blob.Store
	ARN   arn.Builder
	Log   *slog.Logger
	Now   func() time.Time
	// Archive is the archive tier: where read sets unread for
	// ArchiveAfter move (nil or ArchiveAfter 0: none are archived).
	Archive      blob.Store
	ArchiveAfter time.Duration
	// DeletedRetention is how long a deleted read set's record stays, as
	// DELETED, for ListReadSets filtered on that status; zero removes it
	// with the files.
	DeletedRetention time.Duration
	// NoQC leaves the quality-control statistics out of ingestion
	// (-ingest-qc=false): they add 8-9% to the wall time of ingesting
	// the bench data's FASTQ pair or BAM.
	NoQC bool
	// FASTQStoreLevel is the deflate level (1-9) of the BGZF copy stored
	// for a plain FASTQ (-fastq-store-level); 0 means bgzf.DefaultLevel.
	FASTQStoreLevel int
	// Locations are where import and export jobs read and write; nil
	// refuses such jobs.
	Locations Locations
	// WakeJobs, when set, is poked after a job starts so the local job
	// runner takes its items at once instead of at its next poll.
	WakeJobs func()
	// Wake, when set, is poked after an upload completes so the local
	// ingester starts at once instead of at its next poll.
	Wake func()
	// Limits bound what analysing an upload may buffer and decompress;
	// the zero value takes the defaults.
	Limits analyze.Limits
	// ProgressInterval is how often an ingestion logs how far it has come;
	// zero never.
	ProgressInterval time.Duration
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}
