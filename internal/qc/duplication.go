package qc

import (
	"cmp"
	"hash/maphash"
	"slices"
	"strings"
)

// Duplication is estimated as FastQC estimates it, from a bounded sample:
// the first maxTrackedSequences distinct sequences are counted through the
// whole file, later ones only if already tracked, and the counts are
// corrected for the reads seen after tracking stopped. Sequences longer
// than 75 bases are tracked by their first 50, so that sequencing errors
// towards the end do not hide duplicates; memory stays bounded (about ten
// megabytes a source) whatever the file.
const (
	maxTrackedSequences = 100000
	longSequence        = 75
	trackedPrefix       = 50
	seenBits            = 20
)

// overrepresentedPercent is the share of all reads above which a tracked
// sequence is reported as over-represented (FastQC's warning limit);
// overrepresentedFailPercent FastQC's error limit.
const (
	overrepresentedPercent     = 0.1
	overrepresentedFailPercent = 1
)

// duplicationLabels name FastQC's duplication levels: 1 to 9 each, then
// ranges.
var duplicationLabels = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", ">10", ">50", ">100", ">500", ">1k", ">5k", ">10k+"}

// duplicates counts sequences for the duplication estimate.
type duplicates struct {
	// index finds a tracked sequence's place in counts and sequences by
	// a 64-bit hash of it: every read is looked up, and a map keyed by
	// the hash is several times smaller than one keyed by the sequence
	// and needs no second memory access to compare keys. Two of 100000
	// sequences share a hash with a chance of about 1 in 10^9.
	seed   maphash.Seed
	index  map[uint64]int32
	counts []int64
	// seen is a Bloom filter of the tracked hashes, three bits of one
	// word each (see seenWord). Past the first 100000 distinct sequences
	// most reads are not tracked, and this table, small enough for the
	// second-level cache, says so for all but about 2% of them without
	// the lookup in index that would miss every cache.
	seen *[1 << seenBits / 64]uint64
	// The tracked sequences, back to back in one buffer (ends[i] is
	// where sequence i ends), which costs the collector nothing to scan
	// and tracking a sequence no allocation of its own.
	sequences []byte
	ends      []int32
	// reads is every read seen; readsAtLimit the reads seen when the
	// last new sequence was tracked or a tracked one seen again before
	// tracking stopped; frozen that no new sequence is tracked.
	reads, readsAtLimit int64
	frozen              bool
	// Once frozen, the hashes of the reads wait in later, a batch at a
	// time: their lookups, independent of one another, then overlap
	// their waits for memory rather than each holding up its read's
	// work.
	later  *[laterBatch]uint64
	nLater int
}

// laterBatch is how many hashes wait in duplicates.later.
const laterBatch = 256

func (d *duplicates) add(seq []byte) {
	d.reads++
	if len(seq) > longSequence {
		seq = seq[:trackedPrefix]
	}
	if d.index == nil {
		d.seed = maphash.MakeSeed()
		// Sized for the whole sample at once: growing it step by step
		// would rehash every entry several times.
		d.index = make(map[uint64]int32, maxTrackedSequences)
		d.seen = new([1 << seenBits / 64]uint64)
	}
	h := maphash.Bytes(d.seed, seq)
	if d.frozen {
		d.later[d.nLater] = h
		if d.nLater++; d.nLater == laterBatch {
			d.settle()
		}
		return
	}
	word, bits := seenWord(h)
	if d.seen[word]&bits == bits {
		if i, ok := d.index[h]; ok {
			d.counts[i]++
			if !d.frozen {
				d.readsAtLimit = d.reads
			}
			return
		}
	}
	d.seen[word] |= bits
	d.index[h] = int32(len(d.counts))
	d.counts = append(doubled(d.counts, 1, maxTrackedSequences), 1)
	d.sequences = append(doubled(d.sequences, len(seq), maxTrackedSequences*trackedPrefix), seq...)
	d.ends = append(doubled(d.ends, 1, maxTrackedSequences), int32(len(d.sequences)))
	d.readsAtLimit = d.reads
	if len(d.counts) == maxTrackedSequences {
		d.frozen = true
		d.later = new([laterBatch]uint64)
	}
}

// doubled returns s with room for n more elements, doubling its capacity
// when it must grow, but not past limit unless n needs it. Tracking the
// first sequences of a file fills these slices at once: append's own
// growth, a quarter at a time past a few hundred elements, copied the
// sample over and over and took a fifth of the statistics' CPU on a
// file of 500,000 reads.
func doubled[T any](s []T, n, limit int) []T {
	if len(s)+n <= cap(s) {
		return s
	}
	c := max(min(2*cap(s), limit), len(s)+n, 1024)
	return append(make([]T, 0, c), s...)
}

// seenWord is the word of the filter seen that hash h falls in, from its
// top bits, and its three bits there, from its low bits: with all three in
// one word a read costs one memory access.
func seenWord(h uint64) (word int, bits uint64) {
	return int(h >> (64 - seenBits + 6)), 1<<(h&63) | 1<<(h>>6&63) | 1<<(h>>12&63)
}

// settle counts the reads whose hashes wait in later, which only adds to
// the counts of tracked sequences.
func (d *duplicates) settle() {
	for _, h := range d.later[:d.nLater] {
		if word, bits := seenWord(h); d.seen[word]&bits != bits {
			continue
		}
		if i, ok := d.index[h]; ok {
			d.counts[i]++
		}
	}
	d.nLater = 0
}

// DuplicationReport is FastQC's "Sequence Duplication Levels": the share
// of reads left if duplicates were removed, and for each duplication
// level the share of distinct sequences and of all reads at that level,
// in percent, estimated from the tracked sequences.
type DuplicationReport struct {
	TotalDeduplicatedPercent float64            `json:"totalDeduplicatedPercent"`
	Levels                   []DuplicationLevel `json:"levels"`
}

// DuplicationLevel is one row of DuplicationReport.
type DuplicationLevel struct {
	Level                 string  `json:"level"`
	PercentOfDeduplicated float64 `json:"percentOfDeduplicated"`
	PercentOfTotal        float64 `json:"percentOfTotal"`
}

// OverrepresentedSequence is a tracked sequence (its first 50 bases if
// the read is longer than 75) that makes more than 0.1% of all reads.
type OverrepresentedSequence struct {
	Sequence string  `json:"sequence"`
	Count    int64   `json:"count"`
	Percent  float64 `json:"percent"`
}

func (d *duplicates) report() (*DuplicationReport, []OverrepresentedSequence) {
	if d.reads == 0 {
		return nil, nil
	}
	if d.frozen {
		d.settle()
	}
	// How many distinct sequences were seen at each level, corrected
	// for the reads after tracking stopped.
	atLevel := map[int64]int64{}
	for _, n := range d.counts {
		atLevel[n]++
	}
	dedup := make([]float64, len(duplicationLabels))
	total := make([]float64, len(duplicationLabels))
	var dedupSum, rawSum float64
	for _, level := range sortedKeys(atLevel) {
		n := correctedCount(d.readsAtLimit, d.reads, level, atLevel[level])
		dedupSum += n
		rawSum += n * float64(level)
		slot := duplicationSlot(level)
		dedup[slot] += n
		total[slot] += n * float64(level)
	}
	rep := &DuplicationReport{TotalDeduplicatedPercent: dedupSum / rawSum * 100}
	for i, label := range duplicationLabels {
		rep.Levels = append(rep.Levels, DuplicationLevel{label, dedup[i] / dedupSum * 100, total[i] / rawSum * 100})
	}
	var over []OverrepresentedSequence
	start := int32(0)
	for i, end := range d.ends {
		n := d.counts[i]
		if pct := float64(n) / float64(d.reads) * 100; pct > overrepresentedPercent {
			over = append(over, OverrepresentedSequence{string(d.sequences[start:end]), n, pct})
		}
		start = end
	}
	slices.SortFunc(over, func(a, b OverrepresentedSequence) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Sequence, b.Sequence))
	})
	return rep, over
}

// duplicationSlot is the row of a duplication level, with FastQC's
// boundaries: 10 to 50 are ">10", 51 to 100 ">50", and so on.
func duplicationSlot(level int64) int {
	switch slot := level - 1; {
	case slot > 9999 || slot < 0:
		return 15
	case slot > 4999:
		return 14
	case slot > 999:
		return 13
	case slot > 499:
		return 12
	case slot > 99:
		return 11
	case slot > 49:
		return 10
	case slot > 9:
		return 9
	default:
		return int(slot)
	}
}

// correctedCount estimates how many distinct sequences are at a
// duplication level in the whole file from the observed ones tracked
// among the first readsAtLimit of reads: a sequence seen level times in
// all reads had some chance of not appearing before tracking stopped,
// which dividing by the chance that it did makes up for.
func correctedCount(readsAtLimit, reads, level, observed int64) float64 {
	if readsAtLimit == reads || reads-observed < readsAtLimit {
		return float64(observed)
	}
	notSeen := 1.0
	// Below this chance of having missed it, the correction would not
	// change the count.
	limit := 1 - float64(observed)/(float64(observed)+0.01)
	for i := int64(0); i < level; i++ {
		notSeen *= float64((reads-i)-readsAtLimit) / float64(reads-i)
		if notSeen < limit {
			notSeen = 0
			break
		}
	}
	return float64(observed) / (1 - notSeen)
}

// twoDecimals rounds to two decimals as FastQC does for the total
// deduplicated percentage (Java's Math.round of a hundred times it), and
// prints the result as Java prints a double.
func twoDecimals(v float64) string {
	return javaDouble(float64(javaRound(v*100)) / 100)
}
