package transform

import (
	"testing"
)

func TestUnpack(t *testing.T) {
	tests := []struct {
		name   string
		meta   []byte
		packed []byte
		n      int
		want   string
	}{
		{"constant", []byte{1, 'z'}, nil, 3, "zzz"},
		{"1 bit", []byte{2, 'A', 'B'}, []byte{0x05, 0x03}, 10, "BABAAAAABB"},
		{"2 bits", []byte{3, 'A', 'C', 'G'}, []byte{0x24, 0x01}, 5, "ACGAC"},
		{"4 bits", []byte{5, 'a', 'b', 'c', 'd', 'e'}, []byte{0x40, 0x02}, 3, "aec"},
		{"unpacked", []byte{17}, []byte("raw"), 99, "raw"},
	}
	for _, tt := range tests {
		p, used, err := ParsePackMeta(tt.meta)
		if err != nil || used != len(tt.meta) {
			t.Errorf("%s: ParsePackMeta used %d of %d, %v", tt.name, used, len(tt.meta), err)
			continue
		}
		got, err := p.Unpack(nil, tt.packed, tt.n)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	p, _, _ := ParsePackMeta([]byte{2, 'A', 'B'})
	if _, err := p.Unpack(nil, []byte{0}, 9); err == nil {
		t.Error("9 one-bit symbols from one byte were accepted")
	}
	if _, _, err := ParsePackMeta([]byte{4, 'A'}); err == nil {
		t.Error("a truncated pack map was accepted")
	}
}

func TestRLE(t *testing.T) {
	r, err := ParseRLEMeta([]byte{1, 'a', 3, 0})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Expand(nil, []byte("baca"), 10)
	if err != nil || string(got) != "baaaaca" {
		t.Errorf("Expand = %q, %v; want %q", got, err, "baaaaca")
	}
	r, _ = ParseRLEMeta([]byte{1, 'a', 3})
	if _, err := r.Expand(nil, []byte("ba"), 4); err == nil {
		t.Error("a run past the output size was accepted")
	}
}

func TestStripe(t *testing.T) {
	lens := StripeLengths(5, 3)
	if want := []int{2, 2, 1}; lens[0] != want[0] || lens[1] != want[1] || lens[2] != want[2] {
		t.Errorf("StripeLengths(5, 3) = %v, want %v", lens, want)
	}
	got := Unstripe(nil, [][]byte{[]byte("ad"), []byte("be"), []byte("c")}, 5)
	if string(got) != "abcde" {
		t.Errorf("Unstripe = %q, want abcde", got)
	}
}
