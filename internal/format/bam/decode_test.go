package bam

import (
	"bytes"
	"testing"
)

// TestDecodeSeq checks the word-at-a-time sequence decoding against one
// nibble at a time, for every byte value and for lengths that leave each
// possible tail after the four-byte steps.
func TestDecodeSeq(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, tc := range []struct {
		name   string
		packed []byte
	}{
		{"empty", nil},
		{"one", []byte{0x12}},
		{"three", []byte{0xff, 0x00, 0x4f}},
		{"four", []byte{0x12, 0x48, 0xf0, 0x0f}},
		{"five", []byte{0x12, 0x48, 0xf0, 0x0f, 0x88}},
		{"every byte", all},
		{"every byte but one", all[1:]},
		{"every byte but two", all[2:]},
		{"every byte but three", all[3:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []byte
			for _, v := range tc.packed {
				want = append(want, baseLetters[v>>4], baseLetters[v&0xf])
			}
			got := make([]byte, 2*len(tc.packed))
			decodeSeq(got, tc.packed)
			if !bytes.Equal(got, want) {
				t.Errorf("decodeSeq(%x) = %q, want %q", tc.packed, got, want)
			}
		})
	}
}
