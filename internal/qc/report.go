package qc

// ReadsReport is the JSON form of Reads. Qualities are Phred scores, read
// with the offset Encoding names; positions are 1-based.
type ReadsReport struct {
	Reads     int64 `json:"reads"`
	Bases     int64 `json:"bases"`
	MinLength int   `json:"minLength"`
	MaxLength int   `json:"maxLength"`
	// GCPercent is G and C among the A, C, G and T bases, in percent.
	GCPercent float64 `json:"gcPercent"`
	// Encoding is FastQC's name for the quality encoding, told from the
	// lowest quality character; PhredOffset is what it subtracts.
	Encoding    string `json:"encoding"`
	PhredOffset int    `json:"phredOffset"`
	// Lengths counts reads by length, shortest first, lengths no read has
	// left out. Past 16384 distinct lengths over 65535, further ones are
	// rounded down to a multiple of 1024.
	Lengths []LengthCount `json:"lengthDistribution"`
	// MeanQualities counts reads by their mean quality, rounded down.
	MeanQualities []QualityCount `json:"meanQualityDistribution"`
	// GCDistribution has 101 entries, 0% to 100% GC: reads by GC content,
	// each spread over the percentages its GC count rounds to, as FastQC's
	// "Per sequence GC content" counts them.
	GCDistribution []float64 `json:"gcDistribution"`
	// Positions has one entry per position up to the longest read (or
	// MaxPositions, then PositionsTruncated is true).
	Positions          []PositionStats `json:"positions"`
	PositionsTruncated bool            `json:"positionsTruncated,omitempty"`
	// Duplication and Overrepresented are FastQC's estimates from the
	// first 100000 distinct sequences (see duplicates).
	Duplication     *DuplicationReport        `json:"duplication,omitempty"`
	Overrepresented []OverrepresentedSequence `json:"overrepresentedSequences"`
}

// LengthCount is how many reads have a length.
type LengthCount struct {
	Length int   `json:"length"`
	Count  int64 `json:"count"`
}

// QualityCount is how many reads have a mean quality.
type QualityCount struct {
	Quality int   `json:"quality"`
	Count   int64 `json:"count"`
}

// PositionStats is what one position holds over all reads that reach it:
// the quality distribution's mean and percentiles (as FastQC computes them
// for one position) and the count of each base.
type PositionStats struct {
	Position int `json:"position"`
	// Qualities is how many reads have a quality at this position.
	Qualities     int64   `json:"qualities"`
	Mean          float64 `json:"mean"`
	Percentile10  int     `json:"percentile10"`
	LowerQuartile int     `json:"lowerQuartile"`
	Median        int     `json:"median"`
	UpperQuartile int     `json:"upperQuartile"`
	Percentile90  int     `json:"percentile90"`
	G             int64   `json:"g"`
	A             int64   `json:"a"`
	T             int64   `json:"t"`
	C             int64   `json:"c"`
	N             int64   `json:"n"`
	// Other counts IUPAC codes and other letters.
	Other int64 `json:"other"`
}

// encoding is how FastQC reads the quality characters, given the lowest.
func (r *Reads) encoding() (name string, offset int) {
	switch lowest := r.lowest() + '!'; {
	case !r.anyQual || lowest < 64:
		return "Sanger / Illumina 1.9", 33
	case lowest == 65:
		return "Illumina 1.3", 64
	default:
		return "Illumina 1.5", 64
	}
}

// Report returns the statistics so far.
func (r *Reads) Report() *ReadsReport {
	r.flush()
	name, offset := r.encoding()
	shift := offset - '!'
	rep := &ReadsReport{
		Reads: r.reads, Bases: r.bases, MinLength: r.minLength, MaxLength: r.maxLength,
		Encoding: name, PhredOffset: offset,
		GCDistribution:     append([]float64(nil), r.gc[:]...),
		PositionsTruncated: r.maxLength > MaxPositions,
	}
	totals := r.totals()
	if acgt := totals[classA] + totals[classC] + totals[classG] + totals[classT]; acgt > 0 {
		rep.GCPercent = float64(totals[classG]+totals[classC]) * 100 / float64(acgt)
	}
	for n, c := range r.lengths {
		if c > 0 {
			rep.Lengths = append(rep.Lengths, LengthCount{n, c})
		}
	}
	for _, n := range sortedKeys(r.longLengths) {
		rep.Lengths = append(rep.Lengths, LengthCount{n, r.longLengths[n]})
	}
	for q, c := range r.meanQuality {
		if c > 0 {
			rep.MeanQualities = append(rep.MeanQualities, QualityCount{q - shift, c})
		}
	}
	rep.Duplication, rep.Overrepresented = r.dups.report()
	last := min(r.maxLength, MaxPositions)
	for p := 0; p < last; p++ {
		counts := r.quality[p*qualLevels : (p+1)*qualLevels]
		content := r.content[p*classes : (p+1)*classes]
		ps := PositionStats{Position: p + 1,
			G: content[classG], A: content[classA], T: content[classT], C: content[classC],
			N: content[classN], Other: content[classOther]}
		var sum int64
		for q, c := range counts {
			ps.Qualities += c
			sum += int64(q-shift) * c
		}
		if ps.Qualities > 0 {
			ps.Mean = float64(sum) / float64(ps.Qualities)
			ps.Percentile10 = percentile(counts, ps.Qualities, 10) - shift
			ps.LowerQuartile = percentile(counts, ps.Qualities, 25) - shift
			ps.Median = percentile(counts, ps.Qualities, 50) - shift
			ps.UpperQuartile = percentile(counts, ps.Qualities, 75) - shift
			ps.Percentile90 = percentile(counts, ps.Qualities, 90) - shift
		}
		rep.Positions = append(rep.Positions, ps)
	}
	return rep
}

// percentile is the lowest level whose cumulative count reaches pct
// percent of total (rounded down), as FastQC takes it.
func percentile(counts []int64, total int64, pct int64) int {
	want := total * pct / 100
	var seen int64
	for q, c := range counts {
		seen += c
		if seen >= want {
			return q
		}
	}
	return len(counts) - 1
}

// Report is the quality-control report of one read set, as ingestion
// stores it and the API serves it: the read statistics of each source
// (both mates of a FASTQ pair apart, as FastQC reports them) and, for
// alignments, what the records' flags and placements say. It carries
// everything WriteFastQCReport, WriteFlagstatReport and WriteStatsSNReport
// need, so the layouts MultiQC reads can be written from the stored JSON
// alone.
type Report struct {
	// FileType is the read set's, as the API spells it (FASTQ, BAM,
	// UBAM, CRAM).
	FileType string         `json:"fileType"`
	Sources  []SourceReport `json:"sources"`
	// Alignments is set for BAM, uBAM and CRAM.
	Alignments *AlignmentsReport `json:"alignments,omitempty"`
}

// SourceReport is the read statistics of one source: every FASTQ record,
// or a BAM's or CRAM's primary records.
type SourceReport struct {
	// Source is "source1" or "source2"; FileName the file's name as
	// the read set stores it, which FastQC's report names.
	Source   string       `json:"source"`
	FileName string       `json:"fileName,omitempty"`
	Reads    *ReadsReport `json:"reads"`
}
