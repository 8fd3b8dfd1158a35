package qc

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTablesMatchCounting feeds reads that take every path of the
// per-position counting (lanes of few levels, a level arriving after the
// lanes ran out, reads longer than the lanes, qualities shorter than the
// sequence or missing, Phred scores beside FASTQ characters) and compares
// the tables, the mean qualities and the GC distribution with counts made
// the plain way, one base at a time.
func TestTablesMatchCounting(t *testing.T) {
	type batch struct {
		reads          int
		minLen, maxLen int
		bases          string // the bases drawn from (all kinds if empty)
		quals          string // the quality characters (or Phred scores) drawn from
		phred          bool
		shortQual      bool // some reads have fewer qualities than bases, some none
	}
	tests := []struct {
		name    string
		batches []batch
	}{
		{"one base, one level: every lane fills", []batch{{reads: 2100, minLen: 150, maxLen: 150, bases: "A", quals: "F"}}},
		{"four levels", []batch{{reads: 1000, minLen: 150, maxLen: 150, quals: "#,:F"}}},
		{"eight levels, lengths vary", []batch{{reads: 700, minLen: 1, maxLen: 160, quals: "(18=CGJ#"}}},
		{"a ninth level after the lanes", []batch{
			{reads: 600, minLen: 100, maxLen: 151, quals: "(18=CGJ#"},
			{reads: 600, minLen: 100, maxLen: 151, quals: "(18=CGJ#5"}}},
		{"forty-one levels", []batch{{reads: 400, minLen: 36, maxLen: 100, quals: "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJ"}}},
		{"reads longer than the lanes", []batch{
			{reads: 300, minLen: 200, maxLen: 1200, quals: "#,:F"},
			{reads: 300, minLen: 10, maxLen: 255, quals: "#,:F"}}},
		{"qualities short or missing", []batch{{reads: 800, minLen: 50, maxLen: 120, quals: "#,:F", shortQual: true}}},
		{"Phred scores and FASTQ characters", []batch{
			{reads: 500, minLen: 90, maxLen: 100, quals: "\x02\x0c\x19\x25", phred: true},
			{reads: 500, minLen: 90, maxLen: 100, quals: "#-:F\x7e"},
			{reads: 100, minLen: 90, maxLen: 100, quals: "\x02\x0c\x19\x25\x28\x5d\xf0", phred: true, shortQual: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(len(tt.name))))
			var r Reads
			var quality, content []int64
			var meanQuality [qualLevels]int64
			var models gcModels
			var gcDist [101]float64
			for _, b := range tt.batches {
				bases := cmp.Or(b.bases, "ACGTNacgtRY")
				for range b.reads {
					n := b.minLen + rng.IntN(b.maxLen-b.minLen+1)
					seq, qual := make([]byte, n), make([]byte, n)
					for i := range seq {
						seq[i] = bases[rng.IntN(len(bases))]
						qual[i] = b.quals[rng.IntN(len(b.quals))]
					}
					if b.shortQual {
						qual = qual[:rng.IntN(n+1)]
					}
					levels := &fastqQual
					if b.phred {
						levels = &phredQual
						r.AddPhred(seq, qual)
					} else {
						r.AddFASTQ(seq, qual)
					}
					if len(quality) < n*qualLevels {
						quality = append(quality, make([]int64, n*qualLevels-len(quality))...)
						content = append(content, make([]int64, n*classes-len(content))...)
					}
					sum := 0
					for i, c := range qual {
						quality[i*qualLevels+int(levels[c])]++
						sum += int(levels[c])
					}
					if len(qual) > 0 {
						meanQuality[sum/len(qual)]++
					}
					for i, c := range seq {
						content[i*classes+int(baseClass[c])]++
					}
					if gcLen := gcLength(n); gcLen > 0 {
						gc := 0
						for _, c := range seq[:gcLen] {
							if c == 'G' || c == 'C' || c == 'g' || c == 'c' {
								gc++
							}
						}
						models.add(&gcDist, gcLen, gc)
					}
				}
			}
			r.Report()
			if got := r.quality[:len(quality)]; !slices.Equal(got, quality) || slices.ContainsFunc(r.quality[len(quality):], func(c int64) bool { return c != 0 }) {
				t.Errorf("quality table differs from counting")
			}
			if got := r.content[:len(content)]; !slices.Equal(got, content) || slices.ContainsFunc(r.content[len(content):], func(c int64) bool { return c != 0 }) {
				t.Errorf("base table differs from counting")
			}
			if r.gc != gcDist {
				t.Errorf("GC distribution %v, counted %v", r.gc, gcDist)
			}
			if r.meanQuality != meanQuality {
				t.Errorf("mean qualities %v, counted %v", r.meanQuality, meanQuality)
			}
		})
	}
}

// TestDuplicatesPastTheSample holds the duplication sample, which looks
// reads up a batch at a time once it stops tracking new sequences, to
// FastQC's rule counted the plain way: the first maxTrackedSequences
// distinct sequences (their first 50 bases when longer than 75) are
// counted through the whole file, others not at all.
func TestDuplicatesPastTheSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	random := func(n int) []byte {
		s := make([]byte, n)
		for i := range s {
			s[i] = "ACGT"[rng.IntN(4)]
		}
		return s
	}
	common := make([][]byte, 500)
	for i := range common {
		common[i] = random(30 + 60*(i%2))
	}
	var d duplicates
	counts := map[string]int64{}
	var reads, readsAtLimit int64
	for range 3*maxTrackedSequences + laterBatch/2 {
		seq := common[rng.IntN(len(common))]
		if rng.IntN(2) == 0 {
			seq = random(20 + rng.IntN(100))
		}
		d.add(seq)
		reads++
		key := string(seq)
		if len(seq) > longSequence {
			key = key[:trackedPrefix]
		}
		if _, ok := counts[key]; ok {
			counts[key]++
			if len(counts) < maxTrackedSequences {
				readsAtLimit = reads
			}
		} else if len(counts) < maxTrackedSequences {
			counts[key] = 1
			readsAtLimit = reads
		}
	}
	rep, _ := d.report()
	if rep == nil || !d.frozen {
		t.Fatalf("the sample never filled: %d tracked", len(d.counts))
	}
	if d.reads != reads || d.readsAtLimit != readsAtLimit {
		t.Errorf("reads %d, at limit %d; counted %d, %d", d.reads, d.readsAtLimit, reads, readsAtLimit)
	}
	start := int32(0)
	for i, end := range d.ends {
		seq := string(d.sequences[start:end])
		if d.counts[i] != counts[seq] {
			t.Fatalf("%s counted %d times, %d by counting", seq, d.counts[i], counts[seq])
		}
		delete(counts, seq)
		start = end
	}
	if len(counts) != 0 {
		t.Errorf("%d sequences tracked by counting are not in the sample", len(counts))
	}
}
