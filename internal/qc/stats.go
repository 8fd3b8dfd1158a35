package qc

import (
	"bufio"
	"fmt"
	"io"

	"github.com/seqstore/seqstore/internal/format/sam"
)

// SummaryNumbers are the counts of the SN section of `samtools stats`
// that need no reference and no pairing of mates, under its names (JSON
// member names in camel case). Like samtools, they count primary records
// with a sequence; secondary, supplementary and QC-failed records are
// counted apart.
type SummaryNumbers struct {
	RawTotalSequences    int64 `json:"rawTotalSequences"`
	FirstFragments       int64 `json:"firstFragments"`
	LastFragments        int64 `json:"lastFragments"`
	ReadsMapped          int64 `json:"readsMapped"`
	ReadsMappedAndPaired int64 `json:"readsMappedAndPaired"`
	ReadsUnmapped        int64 `json:"readsUnmapped"`
	ReadsProperlyPaired  int64 `json:"readsProperlyPaired"`
	ReadsPaired          int64 `json:"readsPaired"`
	ReadsDuplicated      int64 `json:"readsDuplicated"`
	ReadsMQ0             int64 `json:"readsMQ0"`
	ReadsQCFailed        int64 `json:"readsQCFailed"`
	NonPrimary           int64 `json:"nonPrimaryAlignments"`
	Supplementary        int64 `json:"supplementaryAlignments"`
	TotalLength          int64 `json:"totalLength"`
	TotalFirstLength     int64 `json:"totalFirstFragmentLength"`
	TotalLastLength      int64 `json:"totalLastFragmentLength"`
	BasesMapped          int64 `json:"basesMapped"`
	BasesDuplicated      int64 `json:"basesDuplicated"`
	MaxLength            int64 `json:"maximumLength"`
	MaxFirstLength       int64 `json:"maximumFirstFragmentLength"`
	MaxLastLength        int64 `json:"maximumLastFragmentLength"`
}

func (s *SummaryNumbers) add(rec *sam.Record) {
	flag := rec.Flag
	if flag&sam.FlagSecondary != 0 {
		s.NonPrimary++
	}
	if flag&sam.FlagSupplementary != 0 {
		s.Supplementary++
	}
	if !rec.IsPrimary() {
		return
	}
	if flag&flagQCFail != 0 {
		s.ReadsQCFailed++
	}
	n := int64(len(rec.Seq))
	if n == 0 {
		return
	}
	// The maximum lengths, unlike the totals, count hard-clipped bases.
	whole := n + hardClipped(rec.Cigar)
	s.RawTotalSequences++
	s.MaxLength = max(s.MaxLength, whole)
	s.TotalLength += n
	switch {
	case flag&sam.FlagPaired == 0 || flag&(flagRead1|flagRead2) == flagRead1:
		s.FirstFragments++
		s.TotalFirstLength += n
		s.MaxFirstLength = max(s.MaxFirstLength, whole)
	case flag&(flagRead1|flagRead2) == flagRead2:
		s.LastFragments++
		s.TotalLastLength += n
		s.MaxLastLength = max(s.MaxLastLength, whole)
	}
	if flag&flagDuplicate != 0 {
		s.ReadsDuplicated++
		s.BasesDuplicated += n
	}
	if flag&sam.FlagPaired != 0 {
		s.ReadsPaired++
	}
	if flag&sam.FlagUnmapped != 0 {
		s.ReadsUnmapped++
		return
	}
	s.ReadsMapped++
	s.BasesMapped += n
	if rec.MapQ == 0 {
		s.ReadsMQ0++
	}
	if flag&sam.FlagPaired != 0 && flag&flagMateUnmapped == 0 {
		s.ReadsMappedAndPaired++
	}
	if flag&flagProperPair != 0 {
		s.ReadsProperlyPaired++
	}
}

// hardClipped is how many bases the CIGAR's H operations (BAM code 5)
// clip.
func hardClipped(cigar []uint32) int64 {
	var n int64
	for _, c := range cigar {
		if c&0xf == 5 {
			n += int64(c >> 4)
		}
	}
	return n
}

// WriteStatsSN writes the summary numbers as lines of the SN section of
// `samtools stats`, in its order, after a comment that MultiQC reads as
// samtools stats'; the lines it has and these lack are left out.
func WriteStatsSN(w io.Writer, a *Alignments) error {
	return WriteStatsSNReport(w, &AlignmentsReport{Summary: a.summary})
}

// WriteStatsSNReport is WriteStatsSN from a report, as stored.
func WriteStatsSNReport(w io.Writer, rep *AlignmentsReport) error {
	s := &rep.Summary
	bw := bufio.NewWriter(w)
	// MultiQC recognises samtools stats output by this sentence.
	bw.WriteString("# This file was produced by samtools stats-compatible code in seqstore: the SN lines that need no reference.\n")
	for _, l := range []struct {
		name  string
		value int64
	}{
		{"raw total sequences", s.RawTotalSequences},
		{"filtered sequences", 0},
		{"sequences", s.RawTotalSequences},
		{"1st fragments", s.FirstFragments},
		{"last fragments", s.LastFragments},
		{"reads mapped", s.ReadsMapped},
		{"reads mapped and paired", s.ReadsMappedAndPaired},
		{"reads unmapped", s.ReadsUnmapped},
		{"reads properly paired", s.ReadsProperlyPaired},
		{"reads paired", s.ReadsPaired},
		{"reads duplicated", s.ReadsDuplicated},
		{"reads MQ0", s.ReadsMQ0},
		{"reads QC failed", s.ReadsQCFailed},
		{"non-primary alignments", s.NonPrimary},
		{"supplementary alignments", s.Supplementary},
		{"total length", s.TotalLength},
		{"total first fragment length", s.TotalFirstLength},
		{"total last fragment length", s.TotalLastLength},
		{"bases mapped", s.BasesMapped},
		{"bases duplicated", s.BasesDuplicated},
		{"maximum length", s.MaxLength},
		{"maximum first fragment length", s.MaxFirstLength},
		{"maximum last fragment length", s.MaxLastLength},
	} {
		fmt.Fprintf(bw, "SN\t%s:\t%d\n", l.name, l.value)
	}
	return bw.Flush()
}
