package qc

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"

	"github.com/seqstore/seqstore/internal/format/sam"
)

// SAM flag bits beyond those package sam names.
const (
	flagProperPair   = 0x2
	flagMateUnmapped = 0x8
	flagRead1        = 0x40
	flagRead2        = 0x80
	flagQCFail       = 0x200
	flagDuplicate    = 0x400
)

// MaxInsertSize is the largest insert size counted exactly; larger ones
// are only counted (samtools stats stops at the same size by default).
const MaxInsertSize = 8000

// Alignments accumulates what aligned records carry beyond their
// sequence: the counts `samtools flagstat` prints, the MAPQ distribution
// and the insert sizes of pairs. The zero value is ready to use; it is not
// safe for concurrent use.
type Alignments struct {
	flags       [2]FlagCounts // QC-passed, QC-failed
	mapq        [256]int64
	insertSizes [MaxInsertSize + 1]int64
	insertAbove int64
	summary     SummaryNumbers
	// perReference[id] counts the mapped primary records placed on
	// reference id and the bases they align (CIGAR M, = and X), up to
	// the highest id seen; references lists the header's dictionary
	// that names them.
	perReference []referenceCounts
	references   []sam.Reference
}

type referenceCounts struct{ reads, alignedBases int64 }

// SetReferences gives the header's reference dictionary, which names the
// references of the per-reference counts and gives their lengths.
func (a *Alignments) SetReferences(refs []sam.Reference) { a.references = refs }

// FlagCounts are the counts of `samtools flagstat` for either the
// QC-passed or the QC-failed records, under its names (JSON member names
// in camel case).
type FlagCounts struct {
	Total             int64 `json:"total"`
	Primary           int64 `json:"primary"`
	Secondary         int64 `json:"secondary"`
	Supplementary     int64 `json:"supplementary"`
	Duplicates        int64 `json:"duplicates"`
	PrimaryDuplicates int64 `json:"primaryDuplicates"`
	Mapped            int64 `json:"mapped"`
	PrimaryMapped     int64 `json:"primaryMapped"`
	// The rest count primary records only.
	PairedInSequencing int64 `json:"pairedInSequencing"`
	Read1              int64 `json:"read1"`
	Read2              int64 `json:"read2"`
	ProperlyPaired     int64 `json:"properlyPaired"`
	// WithItselfAndMateMapped: paired, mapped, mate mapped.
	WithItselfAndMateMapped int64 `json:"withItselfAndMateMapped"`
	// Singletons: paired, mapped, mate unmapped.
	Singletons int64 `json:"singletons"`
	// MateOnDifferentChr: both mapped, to different references;
	// MateOnDifferentChrMapQ5 those of them with MAPQ 5 or more.
	MateOnDifferentChr      int64 `json:"mateMappedToDifferentChr"`
	MateOnDifferentChrMapQ5 int64 `json:"mateMappedToDifferentChrMapQ5"`
}

// AddBAM adds one record, secondary and supplementary ones included.
func (a *Alignments) AddBAM(rec *sam.Record) {
	a.summary.add(rec)
	flag := rec.Flag
	fc := &a.flags[0]
	if flag&flagQCFail != 0 {
		fc = &a.flags[1]
	}
	mapped := flag&sam.FlagUnmapped == 0
	fc.Total++
	if mapped {
		fc.Mapped++
	}
	if flag&flagDuplicate != 0 {
		fc.Duplicates++
	}
	switch {
	case flag&sam.FlagSecondary != 0:
		fc.Secondary++
		return
	case flag&sam.FlagSupplementary != 0:
		fc.Supplementary++
		return
	}
	fc.Primary++
	if flag&flagDuplicate != 0 {
		fc.PrimaryDuplicates++
	}
	if mapped {
		fc.PrimaryMapped++
		a.mapq[rec.MapQ]++
		a.countPlaced(rec)
	}
	if flag&sam.FlagPaired == 0 {
		return
	}
	fc.PairedInSequencing++
	if flag&flagRead1 != 0 {
		fc.Read1++
	}
	if flag&flagRead2 != 0 {
		fc.Read2++
	}
	if !mapped {
		return
	}
	if flag&flagProperPair != 0 {
		fc.ProperlyPaired++
	}
	if flag&flagMateUnmapped != 0 {
		fc.Singletons++
		return
	}
	fc.WithItselfAndMateMapped++
	if rec.MateRefID != rec.RefID {
		fc.MateOnDifferentChr++
		if rec.MapQ >= 5 {
			fc.MateOnDifferentChrMapQ5++
		}
		return
	}
	// Each pair once: from the mate whose TLEN is positive.
	if rec.TLen > 0 {
		if rec.TLen <= MaxInsertSize {
			a.insertSizes[rec.TLen]++
		} else {
			a.insertAbove++
		}
	}
}

// countPlaced adds a mapped primary record to its reference's counts. The
// table grows to the highest reference id seen, which the readers bound by
// the header's dictionary (at most sam.DefaultMaxReferences).
func (a *Alignments) countPlaced(rec *sam.Record) {
	id := int(rec.RefID)
	if id < 0 || id >= sam.DefaultMaxReferences {
		return
	}
	if id >= len(a.perReference) {
		a.perReference = append(a.perReference, make([]referenceCounts, max(id+1, 2*len(a.perReference))-len(a.perReference))...)
	}
	rc := &a.perReference[id]
	rc.reads++
	for _, c := range rec.Cigar {
		switch c & 0xf {
		case 0, 7, 8: // M, =, X
			rc.alignedBases += int64(c >> 4)
		}
	}
}

// MaxReferencesReported bounds the references a report lists, so that a
// BAM aligned to hundreds of thousands of transcripts does not make a
// report of megabytes: past it, the references with the fewest reads are
// left out and counted in ReferencesOmitted.
const MaxReferencesReported = 4096

// AlignmentsReport is the JSON form of Alignments.
type AlignmentsReport struct {
	QCPassed FlagCounts `json:"qcPassed"`
	QCFailed FlagCounts `json:"qcFailed"`
	// MapQ counts the mapped primary records by MAPQ.
	MapQ []MapQCount `json:"mapqDistribution"`
	// InsertSizes counts the pairs mapped to one reference by their
	// insert size (the positive TLEN), once a pair; InsertSizesAbove
	// counts those larger than MaxInsertSize.
	InsertSizes      []InsertSizeCount `json:"insertSizeDistribution"`
	InsertSizesAbove int64             `json:"insertSizesAbove"`
	// Summary holds the counts of the SN section of samtools stats.
	Summary SummaryNumbers `json:"summaryNumbers"`
	// References holds, in the header's order, the references that
	// mapped primary records are placed on (at most
	// MaxReferencesReported, those with the most reads).
	References        []ReferenceStats `json:"references"`
	ReferencesOmitted int              `json:"referencesOmitted,omitempty"`
}

// ReferenceStats is what maps to one reference sequence: the mapped
// primary records placed on it, the bases they align and, when the header
// gives its length, the mean depth of coverage those bases make.
type ReferenceStats struct {
	Name         string  `json:"name"`
	Length       int     `json:"length,omitempty"`
	Reads        int64   `json:"reads"`
	AlignedBases int64   `json:"alignedBases"`
	MeanDepth    float64 `json:"meanDepth,omitempty"`
}

// MapQCount is how many records have a MAPQ.
type MapQCount struct {
	MapQ  int   `json:"mapq"`
	Count int64 `json:"count"`
}

// InsertSizeCount is how many pairs have an insert size.
type InsertSizeCount struct {
	InsertSize int   `json:"insertSize"`
	Count      int64 `json:"count"`
}

// Report returns the statistics so far.
func (a *Alignments) Report() *AlignmentsReport {
	rep := &AlignmentsReport{QCPassed: a.flags[0], QCFailed: a.flags[1], InsertSizesAbove: a.insertAbove, Summary: a.summary}
	for q, n := range a.mapq {
		if n > 0 {
			rep.MapQ = append(rep.MapQ, MapQCount{q, n})
		}
	}
	for s, n := range a.insertSizes {
		if n > 0 {
			rep.InsertSizes = append(rep.InsertSizes, InsertSizeCount{s, n})
		}
	}
	rep.References, rep.ReferencesOmitted = a.referenceStats()
	return rep
}

func (a *Alignments) referenceStats() (stats []ReferenceStats, omitted int) {
	var ids []int
	for id, rc := range a.perReference {
		if rc.reads > 0 {
			ids = append(ids, id)
		}
	}
	if len(ids) > MaxReferencesReported {
		slices.SortStableFunc(ids, func(x, y int) int { return cmp.Compare(a.perReference[y].reads, a.perReference[x].reads) })
		omitted = len(ids) - MaxReferencesReported
		ids = ids[:MaxReferencesReported]
		slices.Sort(ids)
	}
	for _, id := range ids {
		rc := a.perReference[id]
		st := ReferenceStats{Name: fmt.Sprintf("#%d", id), Reads: rc.reads, AlignedBases: rc.alignedBases}
		if id < len(a.references) {
			ref := a.references[id]
			st.Name, st.Length = ref.Name, ref.Length
			if ref.Length > 0 {
				st.MeanDepth = float64(rc.alignedBases) / float64(ref.Length)
			}
		}
		stats = append(stats, st)
	}
	return stats, omitted
}

// WriteFlagstat writes the counts as `samtools flagstat` (1.16) prints
// them.
func WriteFlagstat(w io.Writer, a *Alignments) error {
	return WriteFlagstatReport(w, &AlignmentsReport{QCPassed: a.flags[0], QCFailed: a.flags[1]})
}

// WriteFlagstatReport is WriteFlagstat from a report, as stored.
func WriteFlagstatReport(w io.Writer, rep *AlignmentsReport) error {
	p, f := &rep.QCPassed, &rep.QCFailed
	bw := bufio.NewWriter(w)
	line := func(pass, fail int64, what string) {
		fmt.Fprintf(bw, "%d + %d %s\n", pass, fail, what)
	}
	pct := func(x, of int64) string {
		if of == 0 {
			return "N/A"
		}
		// samtools divides in single precision, which decides the
		// rounding of some.
		return fmt.Sprintf("%.2f%%", float64(float32(x)/float32(of))*100)
	}
	withPct := func(pass, fail, passOf, failOf int64, what string) {
		line(pass, fail, fmt.Sprintf("%s (%s : %s)", what, pct(pass, passOf), pct(fail, failOf)))
	}
	line(p.Total, f.Total, "in total (QC-passed reads + QC-failed reads)")
	line(p.Primary, f.Primary, "primary")
	line(p.Secondary, f.Secondary, "secondary")
	line(p.Supplementary, f.Supplementary, "supplementary")
	line(p.Duplicates, f.Duplicates, "duplicates")
	line(p.PrimaryDuplicates, f.PrimaryDuplicates, "primary duplicates")
	withPct(p.Mapped, f.Mapped, p.Total, f.Total, "mapped")
	withPct(p.PrimaryMapped, f.PrimaryMapped, p.Primary, f.Primary, "primary mapped")
	line(p.PairedInSequencing, f.PairedInSequencing, "paired in sequencing")
	line(p.Read1, f.Read1, "read1")
	line(p.Read2, f.Read2, "read2")
	withPct(p.ProperlyPaired, f.ProperlyPaired, p.PairedInSequencing, f.PairedInSequencing, "properly paired")
	line(p.WithItselfAndMateMapped, f.WithItselfAndMateMapped, "with itself and mate mapped")
	withPct(p.Singletons, f.Singletons, p.PairedInSequencing, f.PairedInSequencing, "singletons")
	line(p.MateOnDifferentChr, f.MateOnDifferentChr, "with mate mapped to a different chr")
	line(p.MateOnDifferentChrMapQ5, f.MateOnDifferentChrMapQ5, "with mate mapped to a different chr (mapQ>=5)")
	return bw.Flush()
}
