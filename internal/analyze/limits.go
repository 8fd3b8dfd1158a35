package analyze

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/seqstore/seqstore/internal/format/bam"
	"github.com/seqstore/seqstore/internal/format/cram"
	"github.com/seqstore/seqstore/internal/format/fastq"
	"github.com/seqstore/seqstore/internal/format/limit"
)

// Limits bound what analysing one read set may buffer and read, so that a
// hostile or broken file fails its read set with a message naming the
// limit instead of exhausting the server's memory. A zero field takes the
// default of the format package, which says why it is what it is: every
// default is far above what real files need.
type Limits struct {
	// FASTQLine bounds one FASTQ line; FASTQRecord a record's name,
	// sequence and quality together (fastq.DefaultMaxLine, 16 MiB, and
	// fastq.DefaultMaxRecord, 32 MiB: four times the longest nanopore
	// reads).
	FASTQLine, FASTQRecord int
	// Header bounds a BAM or CRAM header's text and reference names
	// together (32 MiB), References its reference sequences (2^20) and
	// ReferenceName one name (64 KiB); BAMRecord bounds one BAM record
	// (32 MiB).
	Header, References, ReferenceName, BAMRecord int
	// CRAMContainer bounds a CRAM container's length and the uncompressed
	// sizes its blocks declare (256 MiB); CRAMBlock one block's declared
	// uncompressed size (128 MiB); CRAMMemory what a CRAM's reader holds
	// decoded across the containers it decodes at once (256 MiB), and
	// CRAMRatio what it holds decoded per byte of the file read so far (40).
	CRAMContainer, CRAMBlock, CRAMMemory, CRAMRatio int
	// Decompressed caps the uncompressed bytes of each source (for CRAM,
	// the sum of its blocks' uncompressed sizes); 0, the default, sets no
	// cap.
	Decompressed int64
}

// DefaultLimits returns the limits with every default filled in, for
// showing them.
func DefaultLimits() Limits {
	return Limits{
		FASTQLine: fastq.DefaultMaxLine, FASTQRecord: fastq.DefaultMaxRecord,
		Header: bam.DefaultMaxHeader, References: bam.DefaultMaxReferences,
		ReferenceName: bam.DefaultMaxReferenceName, BAMRecord: bam.DefaultMaxRecord,
		CRAMContainer: cram.DefaultMaxContainer, CRAMBlock: cram.DefaultMaxBlock, CRAMMemory: cram.DefaultMaxMemory, CRAMRatio: cram.DefaultMaxRatio,
	}
}

func (l Limits) fastq() fastq.Options {
	return fastq.Options{MaxLine: l.FASTQLine, MaxRecord: l.FASTQRecord}
}

func (l Limits) cram() cram.Options {
	return cram.Options{NamePrefix: CRAMNamePrefix, MaxContainer: l.CRAMContainer, MaxBlock: l.CRAMBlock, MaxMemory: l.CRAMMemory, MaxRatio: l.CRAMRatio,
		MaxHeader: l.Header, MaxReferences: l.References, MaxReferenceName: l.ReferenceName}
}

func (l Limits) bam() bam.Options {
	return bam.Options{MaxHeader: l.Header, MaxReferences: l.References, MaxReferenceName: l.ReferenceName, MaxRecord: l.BAMRecord}
}

// checkDecompressed fails once a source has decompressed past the cap.
func (l Limits) checkDecompressed(n int64) error {
	if l.Decompressed > 0 && n > l.Decompressed {
		return &limit.Error{Name: "max-decompressed", What: "the uncompressed data", Limit: l.Decompressed, Bytes: true}
	}
	return nil
}

// SourceBytes is what one source held: the bytes read, and the bytes they
// decompress to (equal for an uncompressed FASTQ; for CRAM, the sum of its
// blocks' uncompressed sizes), from which a caller can log the compression
// ratio.
type SourceBytes struct {
	Compressed, Decompressed int64
}

// Ratio is Decompressed over Compressed, or 0 for an empty source.
func (b SourceBytes) Ratio() float64 {
	if b.Compressed == 0 {
		return 0
	}
	return float64(b.Decompressed) / float64(b.Compressed)
}

// byteCounter counts the bytes read through it. Only the goroutine that
// reads a source uses it, and it is read after that goroutine has ended.
type byteCounter struct {
	r io.Reader
	n int64
}

func (c *byteCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// closeSource closes rd, the reader of a source read through counted, and
// returns what that source held. Closing first lets rd's goroutines, which
// read counted, end before its count is taken.
func closeSource(rd interface {
	Close() error
	Inflated() int64
}, counted *byteCounter) []SourceBytes {
	rd.Close()
	return []SourceBytes{{Compressed: counted.n, Decompressed: rd.Inflated()}}
}

// limitError is an analysis error for a limit a source passed, or nil when
// err is not about one.
func limitError(source, where string, err error) *Error {
	var le *limit.Error
	if !errors.As(err, &le) {
		return nil
	}
	return Errorf(source, where, "%v", le)
}

// LimitSetting is one of the limits as an operator sets it: its name (the
// one an error for it names), what it bounds, and access to its field.
type LimitSetting struct {
	Name  string
	Usage string
	// Count is set for a number of things rather than bytes.
	Count bool
	// Zero is set when 0 is a value of its own (no cap) rather than the
	// default.
	Zero  bool
	Value func() int64
	Set   func(int64)
}

// Settings lists the limits of l for flags and configuration, so that
// every front end names them alike.
func (l *Limits) Settings() []LimitSetting {
	ints := []struct {
		name, usage string
		v           *int
		count       bool
	}{
		{"max-fastq-line", "longest FASTQ line", &l.FASTQLine, false},
		{"max-fastq-record", "longest FASTQ record (name, sequence and qualities)", &l.FASTQRecord, false},
		{"max-header", "largest BAM or CRAM header (text and reference names)", &l.Header, false},
		{"max-references", "most reference sequences a BAM or CRAM header may list", &l.References, true},
		{"max-reference-name", "longest reference name", &l.ReferenceName, false},
		{"max-bam-record", "largest BAM record", &l.BAMRecord, false},
		{"max-cram-container", "largest CRAM container (and the uncompressed sizes its blocks declare)", &l.CRAMContainer, false},
		{"max-cram-block", "largest uncompressed size a CRAM block may declare", &l.CRAMBlock, false},
		{"max-cram-memory", "most decoded CRAM blocks and records held at once per file", &l.CRAMMemory, false},
		{"max-cram-ratio", "most bytes of decoded CRAM blocks and records held per byte of the file read", &l.CRAMRatio, true},
	}
	var s []LimitSetting
	for _, i := range ints {
		v := i.v
		s = append(s, LimitSetting{Name: i.name, Usage: i.usage, Count: i.count,
			Value: func() int64 { return int64(*v) }, Set: func(n int64) { *v = int(n) }})
	}
	return append(s, LimitSetting{Name: "max-decompressed", Usage: "most uncompressed bytes per source", Zero: true,
		Value: func() int64 { return l.Decompressed }, Set: func(n int64) { l.Decompressed = n }})
}

// LimitFlag is a flag.Value that sets one limit from a size (bytes, or with
// KiB, MiB, GiB) or, for a count, a number.
type LimitFlag struct{ Setting LimitSetting }

// Usage is the flag's help text: what the limit bounds and the form of its
// value.
func (f LimitFlag) Usage() string {
	switch {
	case f.Setting.Count:
		return f.Setting.Usage + " (a `number`)"
	case f.Setting.Zero:
		return f.Setting.Usage + " (`size`; 0: no cap)"
	}
	return f.Setting.Usage + " (`size`: bytes, or with KiB, MiB, GiB)"
}

func (f LimitFlag) String() string {
	if f.Setting.Value == nil {
		return ""
	}
	if v := f.Setting.Value(); f.Setting.Count || v == 0 {
		return fmt.Sprint(v)
	}
	return limit.Size(f.Setting.Value())
}

func (f LimitFlag) Set(text string) error {
	n, err := limit.ParseSize(text)
	if err != nil {
		return err
	}
	if n == 0 && !f.Setting.Zero || n > math.MaxInt32 && !f.Setting.Zero {
		return fmt.Errorf("%q: a limit is between 1 and 2^31-1", text)
	}
	f.Setting.Set(n)
	return nil
}
