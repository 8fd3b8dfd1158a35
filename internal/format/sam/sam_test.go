package sam

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"
)

func TestAppendFloatLikeC(t *testing.T) {
	// Each want is what C's printf("%g") prints for the float32 value.
	tests := []struct {
		f    float32
		want string
	}{
		{0, "0"}, {1, "1"}, {-2.5, "-2.5"}, {0.1, "0.1"}, {1e6, "1e+06"}, {123456, "123456"},
		{1234567, "1.23457e+06"}, {0.0001, "0.0001"}, {0.00001, "1e-05"}, {3.14159265, "3.14159"},
		{float32(math.Inf(1)), "inf"}, {float32(math.NaN()), "nan"},
	}
	for _, tt := range tests {
		if got := string(AppendFloat(nil, tt.f)); got != tt.want {
			t.Errorf("AppendFloat(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func aux(parts ...any) []byte {
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
		{"an unmapped read without qualities", Record{Name: []byte("r1"), Flag: 4, RefID: -1, Pos: -1, MateRefID: -1, MatePos: -1, Seq: []byte("ACGT"), Qual: []byte{0xff, 0xff, 0xff, 0xff}, QualMissing: true},
			"r1\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\t*\n"},
		{"a mapped pair on one reference", Record{Name: []byte("r2"), Flag: 99, RefID: 0, Pos: 9, MapQ: 60, Cigar: []uint32{3 << 4, 1<<4 | 1}, MateRefID: 0, MatePos: 99, TLen: 150, Seq: []byte("ACGT"), Qual: []byte{30, 31, 32, 33}},
			"r2\t99\tchr1\t10\t60\t3M1I\t=\t100\t150\tACGT\t?@AB\n"},
		{"a mate on another reference and no sequence", Record{Name: []byte("r3"), Flag: 65, RefID: 0, Pos: 0, MateRefID: 1, MatePos: 4},
			"r3\t65\tchr1\t1\t0\t*\tchr2\t5\t0\t*\t*\n"},
		{"every tag type", Record{Name: []byte("r4"), Flag: 4, RefID: -1, Pos: -1, MateRefID: -1, MatePos: -1,
			Aux: aux("XAA", byte('x'), "XBc", byte(0xff), "XCC", byte(200), "XDs", uint16(0xfffe), "XES", uint16(65000), "XFi", uint32(0xfffffff0), "XGI", uint32(4000000000),
				"XHf", math.Float32bits(2.5), "XIZ", "hello", byte(0), "XJH", "1AE3", byte(0), "XKB", byte('c'), uint32(2), byte(0xff), byte(2), "XLB", byte('f'), uint32(1), math.Float32bits(0.5))},
			"r4\t4\t*\t0\t0\t*\t*\t0\t0\t*\t*\tXA:A:x\tXB:i:-1\tXC:i:200\tXD:i:-2\tXE:i:65000\tXF:i:-16\tXG:i:4000000000\tXH:f:2.5\tXI:Z:hello\tXJ:H:1AE3\tXK:B:c,-1,2\tXL:B:f,0.5\n"},
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
	for _, a := range [][]byte{[]byte("XA"), []byte("XAZabc"), []byte("XAB"), []byte("XAq1234"), aux("XAB", byte('i'), uint32(5), uint32(1))} {
		rec := Record{Name: []byte("r"), RefID: -1, MateRefID: -1, Aux: a}
		if _, err := AppendText(nil, &rec, nil); err == nil {
			t.Errorf("aux %q rendered without error", a)
		}
	}
}

func TestEnd(t *testing.T) {
	for _, tt := range []struct {
		rec  Record
		want int
	}{
		{Record{Pos: 10, Cigar: []uint32{5 << 4, 2<<4 | 2, 3<<4 | 4}}, 17},
		{Record{Pos: 10, Flag: FlagUnmapped, Cigar: []uint32{5 << 4}}, 11},
		{Record{Pos: 10}, 11},
	} {
		if got := tt.rec.End(); got != tt.want {
			t.Errorf("End() = %d, want %d (%s)", got, tt.want, fmt.Sprint(tt.rec.Cigar))
		}
	}
}
