package qc

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestReads(t *testing.T) {
	type read struct{ seq, qual string }
	tests := []struct {
		name  string
		reads []read
		phred bool // qualities are Phred scores, as in BAM
		check func(t *testing.T, rep *ReadsReport)
	}{
		{
			name:  "one read",
			reads: []read{{"ACGT", "I5+!"}},
			check: func(t *testing.T, rep *ReadsReport) {
				wantInts(t, "means", means(rep), 40, 20, 10, 0)
				wantEqual(t, "mean qualities", rep.MeanQualities, []QualityCount{{17, 1}})
				// A 4-base read with 2 G or C spreads over 37.5% to
				// 62.5%: 38 and 63 it shares with the reads of 1 and 3.
				wantGC(t, rep, map[int]float64{38: 0.5, 50: 1, 62: 1, 63: 0.5})
				wantEqual(t, "encoding", rep.Encoding, "Sanger / Illumina 1.9")
				wantEqual(t, "GC percent", rep.GCPercent, 50.0)
			},
		},
		{
			name:  "percentiles of one position",
			reads: repeat[read](read{"A", "#"}, 10, read{"A", "+"}, 80, read{"A", "5"}, 10),
			check: func(t *testing.T, rep *ReadsReport) {
				p := rep.Positions[0]
				wantInts(t, "p10 lq median uq p90", []int{p.Percentile10, p.LowerQuartile, p.Median, p.UpperQuartile, p.Percentile90}, 2, 10, 10, 10, 10)
				wantEqual(t, "mean", p.Mean, (10*2+80*10+10*20)/100.0)
				wantEqual(t, "A", p.A, int64(100))
			},
		},
		{
			name:  "Phred+64 with B as its lowest",
			reads: []read{{"ACGT", "hhhB"}},
			check: func(t *testing.T, rep *ReadsReport) {
				wantEqual(t, "encoding", rep.Encoding, "Illumina 1.5")
				wantInts(t, "means", means(rep), 40, 40, 40, 2)
			},
		},
		{
			name:  "Phred+64 with A as its lowest",
			reads: []read{{"AC", "hA"}},
			check: func(t *testing.T, rep *ReadsReport) {
				wantEqual(t, "encoding", rep.Encoding, "Illumina 1.3")
			},
		},
		{
			name:  "lower case, N and IUPAC codes",
			reads: []read{{"acgNR", "IIIII"}},
			check: func(t *testing.T, rep *ReadsReport) {
				p := rep.Positions
				wantEqual(t, "classes", []int64{p[0].A, p[1].C, p[2].G, p[3].N, p[4].Other}, []int64{1, 1, 1, 1, 1})
				wantEqual(t, "GC percent", rep.GCPercent, 200/3.0)
			},
		},
		{
			name: "GC of a read over 100 bases counts its first 100",
			reads: []read{{strings.Repeat("A", 100) + strings.Repeat("G", 50), strings.Repeat("I", 150)},
				{strings.Repeat("G", 100) + strings.Repeat("A", 99), strings.Repeat("I", 199)}},
			check: func(t *testing.T, rep *ReadsReport) {
				// 0 of 100 claims 0% and 1% (shared with 1 of 100);
				// 100 of 100 claims 100%, shared with 99.
				wantGC(t, rep, map[int]float64{0: 1, 1: 0.5, 100: 0.5})
				wantEqual(t, "lengths", rep.Lengths, []LengthCount{{150, 1}, {199, 1}})
			},
		},
		{
			name: "bases past MaxPositions count everywhere but by position",
			reads: []read{{strings.Repeat("A", MaxPositions) + "GGGGGGGGGG",
				strings.Repeat("h", MaxPositions) + "hhhhhhhhh!"}},
			check: func(t *testing.T, rep *ReadsReport) {
				wantEqual(t, "positions", len(rep.Positions), MaxPositions)
				wantEqual(t, "truncated", rep.PositionsTruncated, true)
				// The '!' past the tables still makes it Phred+33.
				wantEqual(t, "encoding", rep.Encoding, "Sanger / Illumina 1.9")
				wantEqual(t, "GC percent", rep.GCPercent, 1000/float64(MaxPositions+10))
				wantEqual(t, "mean qualities", rep.MeanQualities, []QualityCount{{(71 * (MaxPositions + 9)) / (MaxPositions + 10), 1}})
			},
		},
		{
			name:  "BAM qualities, and none",
			phred: true,
			reads: []read{{"AC", "\x28\x00"}, {"GT", "\xff\xff"}},
			check: func(t *testing.T, rep *ReadsReport) {
				wantInts(t, "means", means(rep), 40, 0)
				wantEqual(t, "qualities", []int64{rep.Positions[0].Qualities, rep.Positions[1].Qualities}, []int64{1, 1})
				wantEqual(t, "G", rep.Positions[0].G, int64(1))
				wantEqual(t, "reads", rep.Reads, int64(2))
			},
		},
		{
			name:  "an empty read counts as a read of length 0",
			reads: []read{{"", ""}, {"A", "I"}},
			check: func(t *testing.T, rep *ReadsReport) {
				wantEqual(t, "lengths", rep.Lengths, []LengthCount{{0, 1}, {1, 1}})
				wantEqual(t, "min, max", []int{rep.MinLength, rep.MaxLength}, []int{0, 1})
				var w bytes.Buffer
				if err := WriteFastQC(&w, "x.fq", &Reads{}); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Reads
			for _, rd := range tt.reads {
				if tt.phred {
					r.AddPhred([]byte(rd.seq), []byte(rd.qual))
				} else {
					r.AddFASTQ([]byte(rd.seq), []byte(rd.qual))
				}
			}
			tt.check(t, r.Report())
		})
	}
}

func repeat[T any](pairs ...any) []T {
	var out []T
	for i := 0; i < len(pairs); i += 2 {
		for range pairs[i+1].(int) {
			out = append(out, pairs[i].(T))
		}
	}
	return out
}

func means(rep *ReadsReport) []int {
	var m []int
	for _, p := range rep.Positions {
		m = append(m, int(p.Mean))
	}
	return m
}

func wantInts(t *testing.T, what string, got []int, want ...int) {
	t.Helper()
	wantEqual(t, what, got, want)
}

func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if g, w := sprint(got), sprint(want); g != w {
		t.Errorf("%s = %s, want %s", what, g, w)
	}
}

func wantGC(t *testing.T, rep *ReadsReport, nonzero map[int]float64) {
	t.Helper()
	for p, v := range rep.GCDistribution {
		want := nonzero[p]
		if p > 38 && p < 62 && nonzero[50] == 1 {
			want = 1
		}
		if math.Abs(v-want) > 1e-12 {
			t.Errorf("GC %d%% = %v, want %v", p, v, want)
		}
	}
}

// TestAddAllocatesNothing: once the tables have grown, adding a read or
// a record allocates nothing.
func TestAddAllocatesNothing(t *testing.T) {
	seq, qual := randomRead(rand.New(rand.NewPCG(1, 2)), 150)
	var r Reads
	r.AddFASTQ(seq, qual)
	var a Alignments
	rec := pairedRecord()
	if n := testing.AllocsPerRun(100, func() {
		r.AddFASTQ(seq, qual)
		r.AddPhred(seq, qual)
		a.AddBAM(rec)
	}); n != 0 {
		t.Errorf("%v allocations per read", n)
	}
}

func randomRead(rng *rand.Rand, n int) (seq, qual []byte) {
	seq, qual = make([]byte, n), make([]byte, n)
	for i := range seq {
		seq[i] = "ACGTN"[rng.IntN(5)]
		qual[i] = byte('!' + rng.IntN(42))
	}
	return seq, qual
}

func BenchmarkAddFASTQ(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 1024
	var seqs, quals [n][]byte
	for i := range seqs {
		seqs[i], quals[i] = randomRead(rng, 100+rng.IntN(51))
	}
	var r Reads
	b.SetBytes(125)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.AddFASTQ(seqs[i%n], quals[i%n])
	}
}

func BenchmarkAddBAM(b *testing.B) {
	rec := pairedRecord()
	var a Alignments
	b.ReportAllocs()
	for b.Loop() {
		a.AddBAM(rec)
	}
}

// FuzzReads adds arbitrary reads both ways and checks the report adds up.
func FuzzReads(f *testing.F) {
	f.Add([]byte("ACGTN"), []byte("II#!~"))
	f.Add([]byte(strings.Repeat("GC", 600)), []byte{0xff})
	f.Add([]byte(""), []byte("I"))
	f.Fuzz(func(t *testing.T, seq, qual []byte) {
		var r Reads
		r.AddFASTQ(seq, qual)
		r.AddPhred(seq, qual)
		rep := r.Report()
		if rep.Reads != 2 || rep.Bases != 2*int64(len(seq)) {
			t.Fatalf("reads %d bases %d for a read of %d", rep.Reads, rep.Bases, len(seq))
		}
		// FastQC's model spreads a short read over many percentages, each
		// getting up to 1, so the sum is not the number of reads.
		var gc float64
		for _, v := range rep.GCDistribution {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("GC distribution holds %v", v)
			}
			gc += v
		}
		if (gc > 0) != (len(seq) > 0) {
			t.Fatalf("GC distribution sums to %v for a read of %d", gc, len(seq))
		}
		if len(rep.Positions) != min(len(seq), MaxPositions) {
			t.Fatalf("%d positions for a read of %d", len(rep.Positions), len(seq))
		}
		if err := WriteFastQC(io.Discard, "fuzz", &r); err != nil {
			t.Fatal(err)
		}
	})
}

func sprint(v any) string { return fmt.Sprintf("%+v", v) }

// TestLongReadModels: reads over 1000 bases of more lengths than models
// are kept for get the same GC distribution, without allocating.
func TestLongReadModels(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var all Reads
	var want [101]float64
	for k := range maxLongGCModels + 8 {
		seq, qual := randomRead(rng, 2000+1000*k+rng.IntN(1000))
		all.AddFASTQ(seq, qual)
		var alone Reads
		alone.AddFASTQ(seq, qual)
		for p, v := range alone.Report().GCDistribution {
			want[p] += v
		}
	}
	for p, v := range all.Report().GCDistribution {
		if math.Abs(v-want[p]) > 1e-9 {
			t.Errorf("GC %d%%: %v, want %v", p, v, want[p])
		}
	}
	seq, qual := randomRead(rng, 2000+1000*(maxLongGCModels+20))
	all.AddFASTQ(seq, qual)
	if n := testing.AllocsPerRun(10, func() { all.AddFASTQ(seq, qual) }); n != 0 {
		t.Errorf("%v allocations per long read past the kept models", n)
	}
}

// countGC agrees with counting byte by byte, for every byte value in
// every place of a word.
func TestCountGC(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := range 40 {
		for range 200 {
			seq := make([]byte, n)
			for i := range seq {
				seq[i] = byte(rng.IntN(256))
				if rng.IntN(2) == 0 {
					seq[i] = "ACGTNacgtn"[rng.IntN(10)]
				}
			}
			want := 0
			for _, b := range seq {
				want += int(isGC[b])
			}
			if got := countGC(seq); got != want {
				t.Fatalf("countGC(%q) = %d, want %d", seq, got, want)
			}
		}
	}
}
