package sam

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/testutil"
)

func TestAppendFloatLikeC(t *testing.T) {
	// Each want is what C's printf("%g") prints for the value.
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "-0"}, {1, "1"}, {-2.5, "-2.5"}, {float64(float32(0.1)), "0.1"},
		{1e6, "1e+06"}, {123456, "123456"}, {1234567, "1.23457e+06"}, {0.0001, "0.0001"},
		{0.00001, "1e-05"}, {3.14159265, "3.14159"}, {1e-300, "1e-300"},
		{math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"}, {math.Copysign(math.NaN(), -1), "-nan"},
	}
	for _, tt := range tests {
		if got := string(AppendFloat(nil, tt.f)); got != tt.want {
			t.Errorf("AppendFloat(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestAppendArrayFloatLikeKputd(t *testing.T) {
	// Hand-checked against htslib 1.16's kputd: its truncate-then-add
	// rounding gives the same digits as %g away from ties.
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "-0"}, {1, "1"}, {-1, "-1"}, {0.5, "0.5"}, {12.25, "12.25"},
		{123456, "123456"}, {100000, "100000"}, {999999, "999999"}, {1e6, "1e+06"},
		{0.0001, "0.0001"}, {0.00001, "1e-05"}, {3.14159265, "3.14159"}, {0.000123456789, "0.000123457"},
		{99999.95, "100000"}, {0.09999999, "0.1"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"},
	}
	for _, tt := range tests {
		if got := string(AppendArrayFloat(nil, tt.f)); got != tt.want {
			t.Errorf("AppendArrayFloat(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

// auxBytes builds optional-field bytes from literal parts.
func auxBytes(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			b = append(b, v...)
		case byte:
			b = append(b, v)
		case uint16:
			b = binary.LittleEndian.AppendUint16(b, v)
		case uint32:
			b = binary.LittleEndian.AppendUint32(b, v)
		case uint64:
			b = binary.LittleEndian.AppendUint64(b, v)
		}
	}
	return b
}

func TestAppendTextRendersEveryField(t *testing.T) {
	refs := []Reference{{Name: "chr1", Length: 1000}, {Name: "chr2", Length: 500}}
	tests := []struct {
		name string
		rec  Record
		want string
	}{
		{"an unmapped read without qualities", Record{Name: []byte("r1"), Flag: 4, RefID: -1, Pos: -1, MateRefID: -1, MatePos: -1, Seq: []byte("ACGT"), Qual: []byte{0xff, 0xff, 0xff, 0xff}},
			"r1\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\t*\n"},
		{"a mapped pair on one reference", Record{Name: []byte("r2"), Flag: 99, RefID: 0, Pos: 9, MapQ: 60, Cigar: []uint32{3 << 4, 1<<4 | 1}, MateRefID: 0, MatePos: 99, TLen: 150, Seq: []byte("ACGT"), Qual: []byte{30, 31, 32, 33}},
			"r2\t99\tchr1\t10\t60\t3M1I\t=\t100\t150\tACGT\t?@AB\n"},
		{"a mate on another reference and no sequence", Record{Name: []byte("r3"), Flag: 65, RefID: 0, Pos: 0, MateRefID: 1, MatePos: 4, TLen: -7},
			"r3\t65\tchr1\t1\t0\t*\tchr2\t5\t-7\t*\t*\n"},
		{"qualities past 222 wrap as C chars do", Record{Name: []byte("r5"), RefID: -1, Pos: -1, MateRefID: -1, MatePos: -1, Seq: []byte("ACGTACGTAC"), Qual: []byte{0, 1, 93, 222, 223, 254, 40, 40, 40, 250}},
			"r5\t0\t*\t0\t0\t*\t*\t0\t0\tACGTACGTAC\t!\"~\xff\x00\x1fIII\x1b\n"},
		{"htslib's B and unknown CIGAR operations", Record{Name: []byte("r6"), RefID: 0, Pos: 0, MateRefID: -1, MatePos: -1, Cigar: []uint32{2<<4 | 9, 1<<4 | 15}},
			"r6\t0\tchr1\t1\t0\t2B1?\t*\t0\t0\t*\t*\n"},
		{"every tag type", Record{Name: []byte("r4"), Flag: 4, RefID: -1, Pos: -1, MateRefID: -1, MatePos: -1,
			Aux: auxBytes("XAA", byte('x'), "XBc", byte(0xff), "XCC", byte(200), "XDs", uint16(0xfffe), "XES", uint16(65000), "XFi", uint32(0xfffffff0), "XGI", uint32(4000000000),
				"XHf", math.Float32bits(2.5), "XIZ", "hello", byte(0), "XJH", "1AE3", byte(0), "XKB", byte('c'), uint32(2), byte(0xff), byte(2), "XLB", byte('f'), uint32(1), math.Float32bits(0.5),
				"XMd", math.Float64bits(-0.25), "XNZ", byte(0), "XOB", byte('I'), uint32(0))},
			"r4\t4\t*\t0\t0\t*\t*\t0\t0\t*\t*\tXA:A:x\tXB:i:-1\tXC:i:200\tXD:i:-2\tXE:i:65000\tXF:i:-16\tXG:i:4000000000\tXH:f:2.5\tXI:Z:hello\tXJ:H:1AE3\tXK:B:c,-1,2\tXL:B:f,0.5\tXM:d:-0.25\tXN:Z:\tXO:B:I\n"},
		{"fewer than four trailing tag bytes are ignored as htslib does", Record{Name: []byte("r7"), RefID: -1, Pos: -1, MateRefID: -1, MatePos: -1, Aux: auxBytes("NMc", byte(1), "XZ")},
			"r7\t0\t*\t0\t0\t*\t*\t0\t0\t*\t*\tNM:i:1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AppendText(nil, &tt.rec, refs)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestMalformedAuxIsAnError(t *testing.T) {
	tests := []struct {
		name string
		aux  []byte
		want string
	}{
		{"a string without its NUL", []byte("XAZabc"), "no NUL"},
		{"an array cut short", auxBytes("XAB", byte('i'), uint32(5), uint32(1)), "runs past"},
		{"an array header cut short", auxBytes("XABi", byte(1)), "array header"},
		{"an array of characters", auxBytes("XAB", byte('A'), uint32(1), byte('x')), "invalid element type 'A'"},
		{"an unknown type", []byte("XAq1234"), "unknown type 'q'"},
		{"an integer cut short", auxBytes("NMc", byte(0), "XAi", byte(1)), "runs past"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := Record{Name: []byte("r"), RefID: -1, MateRefID: -1, Aux: tt.aux}
			_, err := AppendText(nil, &rec, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrBadAux) {
				t.Fatalf("AppendText error %v, want one saying %q", err, tt.want)
			}
			if err := CheckAux(tt.aux); err == nil {
				t.Fatal("CheckAux accepted it")
			}
		})
	}
	if err := CheckAux(auxBytes("NMc", byte(0), "XZ")); err == nil || !strings.Contains(err.Error(), "2 stray bytes") {
		t.Errorf("CheckAux on trailing bytes: %v", err)
	}
}

func TestEnd(t *testing.T) {
	tests := []struct {
		rec  Record
		want int64
	}{
		{Record{Pos: 10, Cigar: []uint32{5 << 4, 2<<4 | 2, 3<<4 | 4}}, 17},
		{Record{Pos: 10, Flag: FlagUnmapped, Cigar: []uint32{5 << 4}}, 11},
		{Record{Pos: 10, Cigar: []uint32{5<<4 | 4}}, 11},
		{Record{Pos: 10}, 11},
	}
	for _, tt := range tests {
		if got := tt.rec.End(); got != tt.want {
			t.Errorf("End() of %v = %d, want %d", tt.rec.Cigar, got, tt.want)
		}
	}
}

func TestSortOrder(t *testing.T) {
	tests := []struct{ text, want string }{
		{"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:c\tLN:5\n", "coordinate"},
		{"@HD\tSO:queryname\tVN:1.6\r\n", "queryname"},
		{"@SQ\tSN:c\tLN:5\n@HD\tSO:coordinate\n", ""},
		{"@HD\tVN:1.6\n@CO\tSO:coordinate\n", ""},
		{"", ""},
	}
	for _, tt := range tests {
		h := Header{Text: tt.text}
		if got := h.SortOrder(); got != tt.want {
			t.Errorf("SortOrder(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// randomTagged builds records with random optional fields of every type,
// and the SAM text that describes them, which samtools parses and prints
// back; the renderer must print exactly what samtools prints.
func randomTagged(rng *rand.Rand, n int) (recs []Record, samText string) {
	var text strings.Builder
	text.WriteString("@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:1000\n")
	// Float32 values near kputd's and %g's rounding boundaries, and across
	// their ranges.
	specials := []float32{0, 1, -1, 0.0001, 0.00009999, 999999, 1e6, 999999.5, 0.1234565, 9.999995, 99999.95,
		0.09999999, 123456.5, 1.0000005, 3.4028235e38, 1.4e-45, 0.5, 65504}
	randFloat := func() float32 {
		switch rng.IntN(4) {
		case 0:
			return specials[rng.IntN(len(specials))]
		case 1:
			return float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(14)-7)))
		case 2:
			// Decimal ties in the sixth significant digit.
			return float32(float64(rng.IntN(900000)+100000)+0.5) * float32(math.Pow(10, float64(rng.IntN(10)-8)))
		}
		return math.Float32frombits(rng.Uint32())
	}
	exact := func(f float32) string {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return ""
		}
		return strconv.FormatFloat(float64(f), 'g', -1, 64)
	}
	for i := range n {
		name := "r" + strconv.Itoa(i)
		rec := Record{Name: []byte(name), RefID: -1, Pos: -1, MateRefID: -1, MatePos: -1, Flag: 4}
		fields := []string{name, "4", "*", "0", "0", "*", "*", "0", "0", "*", "*"}
		for k := range 1 + rng.IntN(6) {
			tag := []byte{'X', byte('A' + k)}
			switch rng.IntN(7) {
			case 0:
				v := int64(rng.Int32()) >> rng.IntN(31)
				if rng.IntN(2) == 0 {
					v = -v
				}
				// htslib stores an integer in the smallest type that holds it.
				rec.Aux = append(rec.Aux, tag...)
				rec.Aux = append(rec.Aux, 'i')
				rec.Aux = binary.LittleEndian.AppendUint32(rec.Aux, uint32(int32(v)))
				fields = append(fields, string(tag)+":i:"+strconv.FormatInt(v, 10))
			case 1:
				f := randFloat()
				if exact(f) == "" {
					continue
				}
				rec.Aux = append(append(rec.Aux, tag...), 'f')
				rec.Aux = binary.LittleEndian.AppendUint32(rec.Aux, math.Float32bits(f))
				fields = append(fields, string(tag)+":f:"+exact(f))
			case 2:
				s := strings.Repeat("ab: =", rng.IntN(4))
				rec.Aux = append(append(append(rec.Aux, tag...), 'Z'), s...)
				rec.Aux = append(rec.Aux, 0)
				fields = append(fields, string(tag)+":Z:"+s)
			case 3:
				c := byte('!' + rng.IntN(94))
				rec.Aux = append(append(rec.Aux, tag...), 'A', c)
				fields = append(fields, string(tag)+":A:"+string(rune(c)))
			case 4:
				rec.Aux = append(append(rec.Aux, tag...), 'H')
				rec.Aux = append(rec.Aux, "1AE301"...)
				rec.Aux = append(rec.Aux, 0)
				fields = append(fields, string(tag)+":H:1AE301")
			default:
				sub := "cCsSiIf"[rng.IntN(7)]
				count := rng.IntN(5)
				rec.Aux = append(append(rec.Aux, tag...), 'B', sub)
				rec.Aux = binary.LittleEndian.AppendUint32(rec.Aux, uint32(count))
				field := string(tag) + ":B:" + string(rune(sub))
				for range count {
					switch sub {
					case 'f':
						f := randFloat()
						for exact(f) == "" {
							f = randFloat()
						}
						rec.Aux = binary.LittleEndian.AppendUint32(rec.Aux, math.Float32bits(f))
						field += "," + exact(f)
					case 'c', 'C':
						v := rng.Uint32()
						rec.Aux = append(rec.Aux, byte(v))
						if sub == 'c' {
							field += "," + strconv.Itoa(int(int8(v)))
						} else {
							field += "," + strconv.Itoa(int(uint8(v)))
						}
					case 's', 'S':
						v := rng.Uint32()
						rec.Aux = binary.LittleEndian.AppendUint16(rec.Aux, uint16(v))
						if sub == 's' {
							field += "," + strconv.Itoa(int(int16(v)))
						} else {
							field += "," + strconv.Itoa(int(uint16(v)))
						}
					default:
						v := rng.Uint32()
						rec.Aux = binary.LittleEndian.AppendUint32(rec.Aux, v)
						if sub == 'i' {
							field += "," + strconv.Itoa(int(int32(v)))
						} else {
							field += "," + strconv.FormatUint(uint64(v), 10)
						}
					}
				}
				fields = append(fields, field)
			}
		}
		recs = append(recs, rec)
		text.WriteString(strings.Join(fields, "\t") + "\n")
	}
	return recs, text.String()
}

// The renderer prints optional fields of every type exactly as samtools
// view prints them after parsing the same values.
func TestAppendAuxMatchesSamtools(t *testing.T) {
	testutil.RequireTool(t, "samtools")
	recs, text := randomTagged(rand.New(rand.NewPCG(7, 11)), 3000)
	file := filepath.Join(t.TempDir(), "tags.sam")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	want := bytes.SplitAfter(testutil.Run(t, "samtools", "view", file), []byte("\n"))
	refs := []Reference{{Name: "chr1", Length: 1000}}
	var got []byte
	for i := range recs {
		got = got[:0]
		got, err := AppendText(got, &recs[i], refs)
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(want) || !bytes.Equal(got, want[i]) {
			var w []byte
			if i < len(want) {
				w = want[i]
			}
			t.Fatalf("record %d:\n got  %q\n want %q", i+1, got, w)
		}
	}
}

func FuzzAppendText(f *testing.F) {
	recs, _ := randomTagged(rand.New(rand.NewPCG(1, 1)), 20)
	for _, r := range recs {
		f.Add(r.Aux, []byte("ACGT"), []byte{1, 2, 3, 4}, uint32(4<<4))
	}
	f.Add([]byte("XAB"), []byte{}, []byte{}, uint32(0))
	f.Add(auxBytes("XAB", byte('f'), uint32(0xffffffff)), []byte("A"), []byte{0xff}, uint32(1<<4|9))
	f.Fuzz(func(t *testing.T, aux, seq, qual []byte, cigarOp uint32) {
		rec := Record{Name: []byte("r"), RefID: 0, Pos: 5, MateRefID: 1, MatePos: 3, Cigar: []uint32{cigarOp}, Seq: seq, Qual: qual, Aux: aux}
		refs := []Reference{{Name: "a", Length: 10}}
		out, err := AppendText(nil, &rec, refs)
		checked := CheckAux(aux)
		if err != nil && checked == nil {
			t.Fatalf("AppendText failed (%v) on tags CheckAux accepts", err)
		}
		if err == nil {
			if !bytes.HasSuffix(out, []byte("\n")) || !bytes.HasPrefix(out, []byte("r\t0\ta\t6\t0\t")) {
				t.Fatalf("malformed line %q", out)
			}
		}
	})
}

func FuzzAppendArrayFloat(f *testing.F) {
	for _, v := range []float32{0, 1, 0.1234565, 999999, 1e-5, 99999.95} {
		f.Add(math.Float32bits(v))
	}
	f.Fuzz(func(t *testing.T, bits uint32) {
		v := float64(math.Float32frombits(bits))
		got := string(AppendArrayFloat(nil, v))
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		// kputd and %g may differ only by rounding: the printed value stays
		// within one unit of the sixth significant digit.
		back, err := strconv.ParseFloat(got, 64)
		if err != nil {
			t.Fatalf("AppendArrayFloat(%v) = %q does not parse", v, got)
		}
		if v != 0 {
			unit := math.Pow(10, math.Floor(math.Log10(math.Abs(v)))-5)
			if math.Abs(back-v) > unit {
				t.Fatalf("AppendArrayFloat(%v) = %q, more than %g away", v, got, unit)
			}
		}
	})
}

// BenchmarkAppendText renders a record shaped like BWA's output (a long
// name, string tags) and one shaped like minimap2's short-read output (a
// negative TLEN, ten small numeric tags and a float).
func BenchmarkAppendText(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	seq := make([]byte, 150)
	qual := make([]byte, 150)
	for i := range seq {
		seq[i] = "ACGT"[rng.IntN(4)]
		qual[i] = byte(2 + rng.IntN(40))
	}
	for _, bc := range []struct {
		name string
		rec  Record
		refs []Reference
	}{
		{"bwa", Record{Name: []byte("A00123:8:H7KLMDSXX:1:1101:10004:10019"), Flag: 99, RefID: 0, Pos: 123456, MapQ: 60,
			Cigar: []uint32{150 << 4}, MateRefID: 0, MatePos: 123600, TLen: 294, Seq: seq, Qual: qual,
			Aux: auxBytes("NMc", byte(1), "MDZ", "75A74", byte(0), "ASC", byte(145), "XSC", byte(20), "RGZ", "lane1", byte(0))},
			[]Reference{{Name: "chr1", Length: 248956422}}},
		{"minimap2", Record{Name: []byte("X-1883932"), Flag: 147, RefID: 0, Pos: 4087811, MapQ: 60,
			Cigar: []uint32{150 << 4}, MateRefID: 0, MatePos: 4087657, TLen: -304, Seq: seq, Qual: qual,
			Aux: auxBytes("NMC", byte(1), "msS", uint16(290), "ASS", uint16(290), "nnC", byte(0), "tpA", "P",
				"cmC", byte(19), "s1S", uint16(279), "s2C", byte(0), "def", math.Float32bits(0.0067), "rlC", byte(0))},
			[]Reference{{Name: "X", Length: 156040895}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			out, _ := AppendText(nil, &bc.rec, bc.refs)
			b.SetBytes(int64(len(out)))
			for b.Loop() {
				out, _ = AppendText(out[:0], &bc.rec, bc.refs)
			}
		})
	}
}
