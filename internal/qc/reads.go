// Package qc computes the quality-control statistics labs get from FastQC
// and `samtools flagstat`, record by record, so that the pass that already
// reads every byte of a read set can produce them: Reads for sequences and
// their qualities (FASTQ, uBAM), Alignments for what only aligned records
// carry (flags, MAPQ, insert sizes). Memory is bounded whatever the input
// and adding a record allocates nothing once the tables have grown to the
// longest read, but for the first 100000 distinct sequences, which the
// duplication estimate keeps; the numbers are written as JSON (Report) and in the text
// layouts of the tools (WriteFastQC, WriteFlagstat), computed the way those
// tools compute them so that they agree on the same file.
package qc

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
)

// MaxPositions bounds the per-position tables: bases past it still count
// towards every per-read statistic (length, mean quality, GC) but not to
// the per-position ones, whose memory would otherwise grow with the
// longest read (about 800 bytes a position).
const MaxPositions = 1 << 14

// qualLevels is how many quality characters FASTQ allows, '!' to '~':
// qualities are kept as the character minus '!', so a table serves both
// Phred+33 and the old Phred+64 encoding, told apart at the end from the
// lowest character seen, as FastQC does.
const qualLevels = 94

// Base classes, in the order FastQC reports them; classOther holds IUPAC
// codes and anything else that is neither a base nor N.
const (
	classG = iota
	classA
	classT
	classC
	classN
	classOther
	classes
)

// maxExactLength is the longest read length counted in an array; longer
// ones (rare, and few distinct) go to a map of at most about
// maxLongLengths entries.
const (
	maxExactLength = 1 << 16
	maxLongLengths = 1 << 14
)

// FastQC's GC model looks only at the first multiple of 100 bases of a
// read longer than 100, and at the first multiple of 1000 of one longer
// than 1000, which keeps the number of models (one per length) small.
func gcLength(n int) int {
	switch {
	case n > 1000:
		return n / 1000 * 1000
	case n > 100:
		return n / 100 * 100
	}
	return n
}

var (
	baseClass [256]uint8
	fastqQual [256]uint8 // FASTQ character to level, clamped to 0..93
	phredQual [256]uint8 // Phred score to level, clamped to 0..93
	isGC      [256]uint8
)

func init() {
	for i := range baseClass {
		baseClass[i] = classOther
	}
	for c, letters := range map[uint8]string{classG: "Gg", classA: "Aa", classT: "Tt", classC: "Cc", classN: "Nn"} {
		for _, l := range []byte(letters) {
			baseClass[l] = c
		}
	}
	for b, c := range baseClass {
		classLane[b] = 1 << (int(c) * classBits)
	}
	for _, l := range []byte("GgCc") {
		isGC[l] = 1
	}
	for i := range fastqQual {
		fastqQual[i] = uint8(min(max(i-'!', 0), qualLevels-1))
		phredQual[i] = uint8(min(i, qualLevels-1))
	}
}

// Per-position counts are first kept in lanes: one uint64 per position
// holds a 10-bit counter for each base class (laneCounts.content) and one
// an 8-bit counter for each of up to eight quality levels
// (laneCounts.quality), so that a base costs two additions to words read
// in order, not two increments of counters scattered over the tables (94
// levels of 150 positions are 110 KiB of int64). A read adds at most one
// to a lane, so the lanes are added to the tables every classFlush and
// laneFlush reads. Instruments bin qualities into eight levels or fewer
// (Illumina since 2012: eight, then four); a source with more levels, or
// reads longer than maxLaneRead, count their qualities straight into the
// table.
const (
	laneBits    = 8
	laneMask    = 1<<laneBits - 1
	laneFlush   = laneMask
	qualSlots   = 64 / laneBits
	maxLaneRead = laneMask // a read's own lanes must not overflow either
	laneOnes    = 0x0101010101010101
	classBits   = 10
	classMask   = 1<<classBits - 1
	classFlush  = classMask
)

// classLane[b] is one in the lane of b's base class.
var classLane [256]uint64

// Reads accumulates the statistics of sequences and their qualities. The
// zero value is ready to use; it is not safe for concurrent use.
type Reads struct {
	reads, bases int64
	minLength    int
	maxLength    int
	// lengths[n] counts reads of length n up to maxExactLength;
	// longLengths the rest.
	lengths     []int64
	longLengths map[int]int64
	// positions is how many positions the tables below cover.
	positions int
	// quality[p*qualLevels+q] counts level q at 0-based position p, and
	// content[p*classes+c] base class c at position p, but for what the
	// lanes hold.
	quality []int64
	content []int64
	lanes   laneCounts
	// meanQuality[q] counts reads whose mean level, rounded down, is q.
	meanQuality [qualLevels]int64
	anyQual     bool
	// beyond counts the bases past MaxPositions by class, and
	// lowestBeyond is the lowest quality level there (qualLevels if
	// none), which the tables do not hold.
	beyond       [classes]int64
	lowestBeyond int
	gc           [101]float64
	gcModels     gcModels
	dups         duplicates
}

// laneCounts holds the per-position counts of the reads since the last
// flush, in lanes.
type laneCounts struct {
	// content[p] has base class c's count in lane c; quality[p] the
	// count of the level slots[s] in lane s.
	content, quality []uint64
	// reads and classReads are how many reads the quality and the
	// content lanes count.
	reads, classReads int
	// slots are the quality levels given a lane, in the order met;
	// fastq[c] and phred[c] are one in the lane of the level of the
	// FASTQ character or Phred score c, or zero while that level has
	// none. tooMany says a source has more levels than lanes: its
	// qualities all go to the table.
	slots        []uint8
	levels       [qualSlots]uint8 // slots, zero past the last
	fastq, phred *[256]uint64
	tooMany      bool
}

// AddFASTQ adds one read whose qualities are FASTQ characters ('!' to '~';
// others are clamped into that range). Qualities beyond the sequence are
// ignored; a sequence longer than its qualities has its extra bases counted
// without a quality.
func (r *Reads) AddFASTQ(seq, qual []byte) { r.add(seq, qual, &fastqQual, false) }

// AddPhred adds one read whose qualities are Phred scores, as a BAM record
// holds them (sam.Record.Qual); a first score of 0xff means none.
func (r *Reads) AddPhred(seq, qual []byte) {
	if len(qual) > 0 && qual[0] == 0xff {
		qual = nil
	}
	r.add(seq, qual, &phredQual, true)
}

func (r *Reads) add(seq, qual []byte, levels *[256]uint8, phred bool) {
	n := len(seq)
	if r.reads == 0 {
		r.minLength = n
		r.lowestBeyond = qualLevels
	}
	r.minLength = min(r.minLength, n)
	r.maxLength = max(r.maxLength, n)
	r.reads++
	r.bases += int64(n)
	r.countLength(n)
	r.dups.add(seq)
	p := min(n, MaxPositions)
	if p > r.positions {
		r.grow(p)
	}
	if r.lanes.reads == laneFlush {
		r.flushQuality()
	}
	r.lanes.reads++
	if r.lanes.classReads == classFlush {
		r.flushContent()
	}
	r.lanes.classReads++

	// The per-base loops touch only the lanes, the tables and
	// registers: base and quality totals and the lowest quality are
	// summed from the tables at the end, and only bases past
	// MaxPositions are tallied here. FastQC's GC model reads only the
	// first gcLength(n) bases: up to classMask, the sum of their lanes
	// counts their G and C.
	gcLen := gcLength(n)
	if gcLen <= classMask {
		classes := addLanesSum(r.lanes.content[:gcLen], seq[:gcLen], &classLane)
		addLanes(r.lanes.content[gcLen:p], seq[gcLen:p], &classLane)
		if gcLen > 0 {
			gc := classes>>(classG*classBits)&classMask + classes>>(classC*classBits)&classMask
			r.gcModels.add(&r.gc, gcLen, int(gc))
		}
	} else {
		addLanes(r.lanes.content[:p], seq[:p], &classLane)
		r.gcModels.add(&r.gc, gcLen, countGC(seq[:gcLen]))
	}
	for _, b := range seq[p:] {
		r.beyond[baseClass[b]]++
	}

	qual = qual[:min(len(qual), n)]
	if len(qual) == 0 {
		return
	}
	r.anyQual = true
	var sum int
	if n <= maxLaneRead && !r.lanes.tooMany {
		sum = r.addQualityLanes(qual, levels, phred)
	} else {
		sum = r.addQualityTable(qual, levels)
	}
	r.meanQuality[sum/len(qual)]++
}

// addQualityLanes counts the qualities of a read of at most maxLaneRead
// bases in the lanes and returns their sum; if a level has no lane, and
// none is left for it, in the table.
func (r *Reads) addQualityLanes(qual []byte, levels *[256]uint8, phred bool) int {
	l := &r.lanes
	lane := l.fastq
	if phred {
		lane = l.phred
	}
	if lane == nil {
		l.fastq, l.phred = new([256]uint64), new([256]uint64)
		lane = l.fastq
		if phred {
			lane = l.phred
		}
	}
	quality := l.quality[:len(qual)]
	read := addLanesSum(quality, qual, lane) // this read's count of each slot
	// Each lane of read is under 256: the lanes' sum is how many
	// qualities had a lane.
	if int(read*laneOnes>>(64-laneBits)) != len(qual) {
		// A level without a lane: take the read back and give the
		// read's new levels lanes, or, past the last lane, count the
		// source's qualities in the table from now on.
		for i, c := range qual {
			quality[i] -= lane[c]
		}
		if !l.assign(qual, levels) {
			r.flushQuality()
			l.tooMany = true
			return r.addQualityTable(qual, levels)
		}
		return r.addQualityLanes(qual, levels, phred)
	}
	// Levels without a lane count none.
	level := &l.levels
	const b = laneBits
	return int(read&laneMask)*int(level[0]) + int(read>>b&laneMask)*int(level[1]) +
		int(read>>(2*b)&laneMask)*int(level[2]) + int(read>>(3*b)&laneMask)*int(level[3]) +
		int(read>>(4*b)&laneMask)*int(level[4]) + int(read>>(5*b)&laneMask)*int(level[5]) +
		int(read>>(6*b)&laneMask)*int(level[6]) + int(read>>(7*b)&laneMask)*int(level[7])
}

// assign gives a lane to each level of qual that has none, and reports
// whether there were enough.
func (l *laneCounts) assign(qual []byte, levels *[256]uint8) bool {
	for _, c := range qual {
		level := levels[c]
		if slices.Contains(l.slots, level) {
			continue
		}
		if len(l.slots) == qualSlots {
			return false
		}
		one := uint64(1) << (len(l.slots) * laneBits)
		l.levels[len(l.slots)] = level
		l.slots = append(l.slots, level)
		for b := range 256 {
			if fastqQual[b] == level {
				l.fastq[b] = one
			}
			if phredQual[b] == level {
				l.phred[b] = one
			}
		}
	}
	return true
}

// addQualityTable counts a read's qualities straight into the table and
// returns their sum.
func (r *Reads) addQualityTable(qual []byte, levels *[256]uint8) int {
	p := min(len(qual), MaxPositions)
	quality := r.quality[:p*qualLevels]
	sum := 0
	for i, c := range qual[:p] {
		q := int(levels[c])
		quality[i*qualLevels+q]++
		sum += q
	}
	for _, c := range qual[p:] {
		q := int(levels[c])
		sum += q
		r.lowestBeyond = min(r.lowestBeyond, q)
	}
	return sum
}

// flush adds the lanes to the tables, which then count every read added.
func (r *Reads) flush() {
	r.flushContent()
	r.flushQuality()
}

func (r *Reads) flushContent() {
	l := &r.lanes
	for p, v := range l.content {
		if v == 0 {
			continue
		}
		counts := r.content[p*classes : (p+1)*classes : (p+1)*classes]
		const b = classBits
		counts[0] += int64(v & classMask)
		counts[1] += int64(v >> b & classMask)
		counts[2] += int64(v >> (2 * b) & classMask)
		counts[3] += int64(v >> (3 * b) & classMask)
		counts[4] += int64(v >> (4 * b) & classMask)
		counts[5] += int64(v >> (5 * b) & classMask)
		l.content[p] = 0
	}
	l.classReads = 0
}

func (r *Reads) flushQuality() {
	l := &r.lanes
	level := &l.levels
	for p, v := range l.quality {
		if v == 0 {
			continue
		}
		// Slots without a level add nothing to level 0.
		counts := r.quality[p*qualLevels : (p+1)*qualLevels]
		const b = laneBits
		counts[level[0]] += int64(v & laneMask)
		counts[level[1]] += int64(v >> b & laneMask)
		counts[level[2]] += int64(v >> (2 * b) & laneMask)
		counts[level[3]] += int64(v >> (3 * b) & laneMask)
		counts[level[4]] += int64(v >> (4 * b) & laneMask)
		counts[level[5]] += int64(v >> (5 * b) & laneMask)
		counts[level[6]] += int64(v >> (6 * b) & laneMask)
		counts[level[7]] += int64(v >> (7 * b) & laneMask)
		l.quality[p] = 0
	}
	l.reads = 0
}

// lowest is the lowest quality level seen.
func (r *Reads) lowest() int {
	lowest := r.lowestBeyond
	for p := 0; p < r.positions; p++ {
		for q, c := range r.quality[p*qualLevels : p*qualLevels+lowest] {
			if c > 0 {
				lowest = q
				break
			}
		}
	}
	return lowest
}

// totals counts the bases of each class.
func (r *Reads) totals() [classes]int64 {
	t := r.beyond
	for i, c := range r.content {
		t[i%classes] += c
	}
	return t
}

func (r *Reads) countLength(n int) {
	if n < maxExactLength {
		if n >= len(r.lengths) {
			r.lengths = append(r.lengths, make([]int64, n+1-len(r.lengths))...)
		}
		r.lengths[n]++
		return
	}
	if r.longLengths == nil {
		r.longLengths = map[int]int64{}
	}
	if len(r.longLengths) >= maxLongLengths {
		// Past that many distinct lengths, new ones are counted to
		// the KiB, which bounds the map by the longest record allowed.
		n &^= 1<<10 - 1
	}
	r.longLengths[n]++
}

// grow extends the per-position tables to p positions, at least doubling
// them so that reads of slowly rising length do not copy every time.
func (r *Reads) grow(p int) {
	p = min(max(p, 2*r.positions), MaxPositions)
	r.quality = append(r.quality, make([]int64, (p-r.positions)*qualLevels)...)
	r.content = append(r.content, make([]int64, (p-r.positions)*classes)...)
	r.lanes.content = append(r.lanes.content, make([]uint64, p-r.positions)...)
	r.lanes.quality = append(r.lanes.quality, make([]uint64, min(p, maxLaneRead)-len(r.lanes.quality))...)
	r.positions = p
}

// gcModels holds, per read length, what FastQC's GC model adds to each
// percentage for one read: it spreads a read's GC count over the
// percentages it rounds to, weighting each so that a percentage that many
// counts round to gets no more than one that few do (which keeps the
// distribution of short reads free of spikes).
type gcModels struct {
	short []*[101]float64       // by length, up to 1000
	long  map[int]*[101]float64 // at most maxLongGCModels
	// spans[length][gc] is gcRange(length, gc) for the short lengths,
	// which would otherwise take two divisions a read.
	spans [][]gcSpan
	// scratch holds the model of a long read when long is full.
	scratch [101]float64
}

// maxLongGCModels bounds the models kept for reads over 1000 bases.
const maxLongGCModels = 64

type gcSpan struct{ lo, hi uint8 }

func (m *gcModels) add(dist *[101]float64, length, gc int) {
	var model *[101]float64
	if length <= 1000 {
		if m.short == nil {
			m.short = make([]*[101]float64, 1001)
			m.spans = make([][]gcSpan, 1001)
		}
		if model = m.short[length]; model == nil {
			model = newGCModel(length)
			m.short[length] = model
			spans := make([]gcSpan, length+1)
			for gc := range spans {
				lo, hi := gcRange(length, gc)
				spans[gc] = gcSpan{uint8(lo), uint8(hi)}
			}
			m.spans[length] = spans
		}
		span := m.spans[length][gc]
		for p := span.lo; p <= span.hi; p++ {
			dist[p] += model[p]
		}
		return
	}
	if m.long == nil {
		m.long = map[int]*[101]float64{}
	}
	if model = m.long[length]; model == nil {
		// Making a model takes as long as reading the read, so
		// one not kept costs little; keeping all could take tens of
		// megabytes for reads of every length.
		if len(m.long) < maxLongGCModels {
			model = newGCModel(length)
			m.long[length] = model
		} else {
			fillGCModel(&m.scratch, length)
			model = &m.scratch
		}
	}
	lo, hi := gcRange(length, gc)
	for p := lo; p <= hi; p++ {
		dist[p] += model[p]
	}
}

// gcRange is the range of percentages a GC count of a read of length
// rounds to: those of count-0.5 to count+0.5, rounded half up.
func gcRange(length, gc int) (lo, hi int) {
	low := max(float64(gc)-0.5, 0)
	high := min(float64(gc)+0.5, float64(length))
	return javaRound(low * 100 / float64(length)), javaRound(high * 100 / float64(length))
}

// javaRound rounds half up, as Java's Math.round does.
func javaRound(x float64) int { return int(math.Floor(x + 0.5)) }

// newGCModel returns, for each percentage, the increment a read of length
// adds to it: one over how many GC counts claim it.
func newGCModel(length int) *[101]float64 {
	var model [101]float64
	fillGCModel(&model, length)
	return &model
}

func fillGCModel(model *[101]float64, length int) {
	var claims [101]int
	for gc := 0; gc <= length; gc++ {
		lo, hi := gcRange(length, gc)
		for p := lo; p <= hi; p++ {
			claims[p]++
		}
	}
	for p, n := range claims {
		model[p] = 0
		if n > 0 {
			model[p] = 1 / float64(n)
		}
	}
}

// countGC counts the G and C bases, either case, eight at a time: a byte
// is one of them exactly when, with bit 0x20 set and bit 0x04 cleared, it
// is 'c'.
func countGC(seq []byte) int {
	const (
		lower = 0x2020202020202020
		notG  = 0xfbfbfbfbfbfbfbfb // clears the bit that tells 'g' from 'c'
		c     = 0x6363636363636363
		low7  = 0x7f7f7f7f7f7f7f7f
	)
	n := 0
	for len(seq) >= 8 {
		x := (binary.LittleEndian.Uint64(seq)|lower)&notG ^ c
		// The high bit of each byte of zeros is set exactly when that
		// byte of x is zero.
		zeros := ^((x&low7 + low7) | x | low7)
		n += bits.OnesCount64(zeros)
		seq = seq[8:]
	}
	for _, b := range seq {
		n += int(isGC[b])
	}
	return n
}

// addLanes adds table[s[i]] to lanes[i] for each byte of s, eight bytes
// at a time: a loop of one byte at a time takes twice the instructions.
func addLanes(lanes []uint64, s []byte, table *[256]uint64) {
	lanes = lanes[:len(s)]
	i := 0
	for ; i+8 <= len(s); i += 8 {
		b, l := s[i:i+8:i+8], lanes[i:i+8:i+8]
		l[0] += table[b[0]]
		l[1] += table[b[1]]
		l[2] += table[b[2]]
		l[3] += table[b[3]]
		l[4] += table[b[4]]
		l[5] += table[b[5]]
		l[6] += table[b[6]]
		l[7] += table[b[7]]
	}
	for ; i < len(s); i++ {
		lanes[i] += table[s[i]]
	}
}

// addLanesSum is addLanes that also returns the sum of what it added.
func addLanesSum(lanes []uint64, s []byte, table *[256]uint64) uint64 {
	lanes = lanes[:len(s)]
	var sum uint64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		b, l := s[i:i+8:i+8], lanes[i:i+8:i+8]
		v0, v1, v2, v3 := table[b[0]], table[b[1]], table[b[2]], table[b[3]]
		l[0] += v0
		l[1] += v1
		l[2] += v2
		l[3] += v3
		v4, v5, v6, v7 := table[b[4]], table[b[5]], table[b[6]], table[b[7]]
		l[4] += v4
		l[5] += v5
		l[6] += v6
		l[7] += v7
		sum += v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7
	}
	for ; i < len(s); i++ {
		v := table[s[i]]
		lanes[i] += v
		sum += v
	}
	return sum
}
