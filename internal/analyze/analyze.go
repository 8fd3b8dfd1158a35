// Package analyze reads a read set's source files once, streaming, and says
// what they hold: the file type, read and base counts, the HealthOmics ETag of
// each source, the quality-control statistics of package qc and, for
// coordinate-sorted alignments, an index. Ingestion and
// `seqstore inspect` both call it, so what inspect prints is what ingestion
// reports. It knows file formats but nothing of HTTP or storage: sources come
// in as io.Readers and stored files go out to io.Writers.
package analyze

import (
	"context"
	"errors"
	"fmt"

	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/format/panics"
	"github.com/seqstore/seqstore/internal/format/sam"
	"github.com/seqstore/seqstore/internal/qc"
)

// File types, spelled as the API's FileType enum.
const (
	FileTypeFASTQ = "FASTQ"
	FileTypeBAM   = "BAM"
	FileTypeUBAM  = "UBAM"
	FileTypeCRAM  = "CRAM"
)

// Alignment values reported in sequenceInformation.
const (
	Aligned   = "ALIGNED"
	Unaligned = "UNALIGNED"
)

// Result is what one analysis found.
type Result struct {
	FileType string
	// ReadCount counts the reads of every source: FASTQ records of both mates,
	// or primary alignment records (neither secondary nor supplementary).
	ReadCount int64
	// BaseCount sums the sequence lengths of the counted reads.
	BaseCount int64
	Alignment string
	// ETags holds, per requested family, one digest per source (source1 and,
	// for paired FASTQ, source2).
	ETags map[etag.Family][]string
	// Indexed reports whether an index (BAI or CRAI) was written.
	Indexed bool
	// Sources holds, per source, the bytes read and what they decompress
	// to.
	Sources []SourceBytes
	// Header is a BAM's or CRAM's header: the reference dictionary its
	// alignments name.
	Header *sam.Header
	// QC is the quality-control report, computed in the same pass;
	// its sources carry no file names, which the caller knows.
	QC *qc.Report
}

// noQCKey marks a context whose analyses skip the quality-control report.
type noQCKey struct{}

// WithoutQC returns a context whose analyses compute no quality-control
// report (Result.QC stays nil), for callers that only check a file, such
// as a client before an upload or after a download, and which would pay
// for statistics nobody reads.
func WithoutQC(ctx context.Context) context.Context {
	return context.WithValue(ctx, noQCKey{}, true)
}

func wantQC(ctx context.Context) bool { return ctx.Value(noQCKey{}) == nil }

// fastqLevelKey holds the deflate level of a plain FASTQ's stored copy.
type fastqLevelKey struct{}

// WithFASTQStoreLevel returns a context whose analyses store a plain FASTQ
// source as BGZF at level (1-9) instead of bgzf.DefaultLevel: lower levels
// trade stored size for ingest speed (see bgzf.MinStoreLevel).
func WithFASTQStoreLevel(ctx context.Context, level int) context.Context {
	return context.WithValue(ctx, fastqLevelKey{}, level)
}

func fastqStoreLevel(ctx context.Context) int {
	if l, ok := ctx.Value(fastqLevelKey{}).(int); ok {
		return l
	}
	return bgzf.DefaultLevel
}

// Error is a defect found in a source. Its message names the source and the
// place, short enough to serve as a read set's statusMessage (at most 255
// characters).
type Error struct {
	Source string // "source1" or "source2"
	// Where is the place in the source: "record 12 (line 45)", "byte offset
	// 1048576", "BGZF block at offset 65280".
	Where string
	Msg   string
}

func (e *Error) Error() string {
	s := e.Source
	if e.Where != "" {
		s += ", " + e.Where
	}
	s += ": " + e.Msg
	if len(s) > 255 {
		s = s[:252] + "..."
	}
	return s
}

// Errorf builds an Error.
func Errorf(source, where, format string, args ...any) *Error {
	return &Error{Source: source, Where: where, Msg: fmt.Sprintf(format, args...)}
}

// isPanic reports whether err is a panic caught on one of the analysis's
// goroutines: a fault of seqstore, passed on as it is rather than
// described as a defect of the file.
func isPanic(err error) bool {
	var pe *panics.Error
	return errors.As(err, &pe)
}

// recordStats gathers the quality-control statistics of BAM and CRAM
// records: those of every record's alignment, and those of the sequences
// of primary records, on a goroutine of their own. A nil *recordStats
// gathers nothing.
type recordStats struct {
	reads      *readStats
	alignments qc.Alignments
}

func newRecordStats(hdr *sam.Header) *recordStats {
	s := &recordStats{reads: startReadStats(true)}
	s.alignments.SetReferences(hdr.References)
	return s
}

func (s *recordStats) add(rec *sam.Record) {
	if s == nil {
		return
	}
	s.alignments.AddBAM(rec)
	if rec.IsPrimary() {
		s.reads.add(rec.Seq, rec.Qual)
	}
}

// stop ends the goroutine; it may be deferred.
func (s *recordStats) stop() {
	if s != nil {
		s.reads.stop()
	}
}

// report is the report of a nil recordStats too: none.
func (s *recordStats) report(fileType string) (*qc.Report, error) {
	if s == nil {
		return nil, nil
	}
	reads, err := s.reads.finish()
	if err != nil {
		return nil, err
	}
	return &qc.Report{FileType: fileType, Sources: []qc.SourceReport{{Source: "source1", Reads: reads}},
		Alignments: s.alignments.Report()}, nil
}
