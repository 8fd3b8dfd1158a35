package cram

import (
	"strings"
	"testing"
)

// bits packs a string of '0' and '1' (spaces ignored) into bytes, most
// significant bit first, as the core block stores them.
func bits(s string) []byte {
	s = strings.ReplaceAll(s, " ", "")
	out := make([]byte, (len(s)+7)/8)
	for i, c := range s {
		if c == '1' {
			out[i/8] |= 0x80 >> (i % 8)
		}
	}
	return out
}

func TestCoreEncodings(t *testing.T) {
	huff := func(syms, lens []int32) *encoding {
		h, err := newHuffman(syms, lens)
		if err != nil {
			t.Fatal(err)
		}
		return &encoding{kind: encHuffman, huff: h}
	}
	tests := []struct {
		name string
		enc  *encoding
		core string
		want []int32
	}{
		// Canonical codes in (length, symbol) order: A=0, B=10, C=11.
		{"huffman", huff([]int32{'C', 'A', 'B'}, []int32{2, 1, 2}), "0 10 11 0 11", []int32{'A', 'B', 'C', 'A', 'C'}},
		{"huffman one symbol reads nothing", huff([]int32{7}, []int32{0}), "", []int32{7, 7, 7}},
		{"huffman negative symbols", huff([]int32{-1, 5}, []int32{1, 1}), "1 0 0", []int32{5, -1, -1}},
		// BETA: fixed-width values minus the offset.
		{"beta", &encoding{kind: encBeta, offset: 2, param: 3}, "000 111 010", []int32{-2, 5, 0}},
		{"beta zero bits", &encoding{kind: encBeta, offset: -4, param: 0}, "", []int32{4, 4}},
		// GAMMA: n zeros, a one, n more bits; value minus the offset.
		{"gamma", &encoding{kind: encGamma, offset: 1}, "1 010 00101", []int32{0, 1, 4}},
		// SUBEXP k=2: no prefix ones means k bits; i ones mean i+k-1 bits
		// after an implicit leading one.
		{"subexp", &encoding{kind: encSubexp, offset: 0, param: 2}, "0 11 10 01 110 101 1110 1011", []int32{3, 5, 13, 27}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &sliceDecoder{core: bitReader{data: bits(tt.core)}, work: 1 << 20}
			c := bind(tt.enc, "test", d)
			for i, want := range tt.want {
				if got := c.int(); got != want || d.err != nil {
					t.Fatalf("value %d: got %d (err %v), want %d", i, got, d.err, want)
				}
			}
		})
	}
}

func TestCoreEncodingErrors(t *testing.T) {
	h, err := newHuffman([]int32{1, 2}, []int32{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		enc  *encoding
		core []byte
		want string
	}{
		{"huffman past the end", &encoding{kind: encHuffman, huff: h}, nil, "end of the core block"},
		{"gamma endless zeros", &encoding{kind: encGamma}, make([]byte, 8), "GAMMA prefix too long"},
		{"external block missing", &encoding{kind: encExternal, contentID: 9}, nil, "external block 9 is missing"},
		{"no encoding", nil, nil, "no encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &sliceDecoder{core: bitReader{data: tt.core}, work: 1 << 20}
			c := bind(tt.enc, "XX", d)
			c.int()
			if d.err == nil || !strings.Contains(d.err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", d.err, tt.want)
			}
		})
	}
}

func TestExternalByteArrays(t *testing.T) {
	// The decoder of a container that is the only one: byte arrays are
	// charged to it.
	d := &sliceDecoder{work: 1 << 20, env: &env{mem: newMemory(DefaultMaxMemory, DefaultMaxRatio)}, b: new(batch), charge: new(charge), exts: []extBlock{
		{id: 1, data: []byte("ACGT\x00TT\x00")},
		{id: 2, data: []byte{0x03, 0x81, 0x00}}, // ITF-8 3, then 256
		{id: 3, data: []byte("xyz")},
	}}
	stop := bind(&encoding{kind: encByteArrayStop, stop: 0, contentID: 1}, "IN", d)
	if got := string(stop.bytes(nil, -1)); got != "ACGT" {
		t.Errorf("first stop array %q, want ACGT", got)
	}
	if got := string(stop.bytes(nil, -1)); got != "TT" {
		t.Errorf("second stop array %q, want TT", got)
	}
	lenEnc := bind(&encoding{kind: encByteArrayLen,
		length: &encoding{kind: encExternal, contentID: 2},
		value:  &encoding{kind: encExternal, contentID: 3}}, "BB", d)
	if got := string(lenEnc.bytes(nil, -1)); got != "xyz" {
		t.Errorf("length-prefixed array %q, want xyz", got)
	}
	if d.err != nil {
		t.Fatal(d.err)
	}
	if got := bind(&encoding{kind: encExternal, contentID: 2}, "RL", d).int(); got != 256 || d.err != nil {
		t.Errorf("ITF-8 after the length: %d (%v), want 256", got, d.err)
	}
	// The stop byte never comes: an error, not a panic.
	stop.bytes(nil, -1)
	if d.err == nil {
		t.Error("no error reading past the last stop byte")
	}
}

func TestSubstitutionMatrix(t *testing.T) {
	// A preservation map holding only SM; every base's byte 0x1b gives
	// codes 0, 1, 2, 3 to its alternatives in ACGTN order, except T's,
	// 0xe4 (11 10 01 00), which reverses them.
	hdr := []byte{
		8, 1, 'S', 'M', 0x1b, 0x1b, 0x1b, 0xe4, 0x1b, // preservation map
		1, 0, // no data series
		1, 0, // no tags
	}
	ch, err := parseCompressionHeader(hdr)
	if err != nil {
		t.Fatal(err)
	}
	want := [5]string{"CGTN", "AGTN", "ACTN", "NGCA", "ACGT"}
	for r := range want {
		if got := string(ch.subst[r][:]); got != want[r] {
			t.Errorf("reference %c: alternatives by code %q, want %q", baseOrder[r], got, want[r])
		}
	}
	if !ch.readNames || !ch.apDelta || !ch.refNeeded {
		t.Error("RN, AP and RR should default to true")
	}
}
