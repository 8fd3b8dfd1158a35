package itf8

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestReadITF8(t *testing.T) {
	// Literals checked by hand against the bit layouts in the CRAM 3.1
	// specification, section 2.3.
	tests := []struct {
		in   []byte
		want int32
		n    int
	}{
		{[]byte{0x00}, 0, 1},
		{[]byte{0x7f}, 127, 1},
		{[]byte{0x80, 0x80}, 128, 2},
		{[]byte{0xbf, 0xff}, 16383, 2},
		{[]byte{0xc0, 0x40, 0x00}, 16384, 3},
		{[]byte{0xe0, 0x20, 0x00, 0x00}, 1 << 21, 4},
		{[]byte{0xf1, 0x00, 0x00, 0x00, 0x00}, 1 << 28, 5},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, -1, 5},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff}, -1, 5}, // high nibble of the last byte is ignored
	}
	for _, tt := range tests {
		got, n, err := ReadITF8(tt.in)
		if err != nil || got != tt.want || n != tt.n {
			t.Errorf("ReadITF8(% x) = %d, %d, %v; want %d, %d", tt.in, got, n, err, tt.want, tt.n)
		}
	}
}

func TestITF8RoundTrip(t *testing.T) {
	for _, v := range []int32{0, 1, 127, 128, 16383, 16384, 1<<21 - 1, 1 << 21, 1<<28 - 1, 1 << 28, math.MaxInt32, -1, math.MinInt32} {
		enc := AppendITF8(nil, v)
		got, n, err := ReadITF8(enc)
		if err != nil || got != v || n != len(enc) {
			t.Errorf("ITF8 %d: encoded % x, decoded %d (%d bytes, %v)", v, enc, got, n, err)
		}
		if _, _, err := ReadITF8(enc[:len(enc)-1]); !errors.Is(err, ErrTruncated) {
			t.Errorf("ITF8 %d truncated: got %v, want ErrTruncated", v, err)
		}
	}
}

func TestLTF8RoundTrip(t *testing.T) {
	vals := []int64{0, 1, 127, 128, 1<<14 - 1, 1 << 14, 1 << 21, 1 << 28, 1 << 35, 1 << 42, 1 << 49, 1<<56 - 1, 1 << 56, math.MaxInt64, -1, math.MinInt64}
	for _, v := range vals {
		enc := AppendLTF8(nil, v)
		got, n, err := ReadLTF8(enc)
		if err != nil || got != v || n != len(enc) {
			t.Errorf("LTF8 %d: encoded % x, decoded %d (%d bytes, %v)", v, enc, got, n, err)
		}
		if _, _, err := ReadLTF8(enc[:len(enc)-1]); !errors.Is(err, ErrTruncated) {
			t.Errorf("LTF8 %d truncated: got %v, want ErrTruncated", v, err)
		}
	}
	// Hand-checked: 0x80 0xff is 0x00ff; 0xff + 8 bytes is the raw 64-bit value.
	if got, n, _ := ReadLTF8([]byte{0x80, 0xff}); got != 255 || n != 2 {
		t.Errorf("ReadLTF8(80 ff) = %d, %d; want 255, 2", got, n)
	}
	if enc := AppendLTF8(nil, -1); !bytes.Equal(enc, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) {
		t.Errorf("AppendLTF8(-1) = % x", enc)
	}
}

func TestUint7(t *testing.T) {
	tests := []struct {
		in   []byte
		want uint32
	}{
		{[]byte{0x00}, 0},
		{[]byte{0x7f}, 127},
		{[]byte{0x81, 0x00}, 128},
		{[]byte{0x82, 0x80, 0x00}, 1 << 15},
		{[]byte{0x8f, 0xff, 0xff, 0xff, 0x7f}, math.MaxUint32},
	}
	for _, tt := range tests {
		got, n, err := ReadUint7(tt.in)
		if err != nil || got != tt.want || n != len(tt.in) {
			t.Errorf("ReadUint7(% x) = %d, %d, %v; want %d", tt.in, got, n, err, tt.want)
		}
		if enc := AppendUint7(nil, uint64(tt.want)); !bytes.Equal(enc, tt.in) {
			t.Errorf("AppendUint7(%d) = % x, want % x", tt.want, enc, tt.in)
		}
	}
	if _, _, err := ReadUint7([]byte{0x90, 0x80, 0x80, 0x80, 0x00}); !errors.Is(err, ErrOverflow) {
		t.Errorf("33-bit uint7: got %v, want ErrOverflow", err)
	}
	if _, _, err := ReadUint7([]byte{0x81}); !errors.Is(err, ErrTruncated) {
		t.Errorf("truncated uint7: got %v, want ErrTruncated", err)
	}
	for _, v := range []uint64{0, 1 << 40, math.MaxUint64} {
		got, _, err := ReadUint7_64(AppendUint7(nil, v))
		if err != nil || got != v {
			t.Errorf("uint7 64-bit %d: got %d, %v", v, got, err)
		}
	}
}

func FuzzReaders(f *testing.F) {
	for _, s := range [][]byte{{0x00}, {0x80, 0x01}, {0xff, 1, 2, 3, 4, 5, 6, 7, 8}, {0x8f, 0xff, 0xff, 0xff, 0x7f}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, n, err := ReadITF8(b); err == nil {
			if n > len(b) || n < 1 {
				t.Fatalf("ITF8 used %d of %d bytes", n, len(b))
			}
			if got, _, _ := ReadITF8(AppendITF8(nil, v)); got != v {
				t.Fatalf("ITF8 %d does not round-trip", v)
			}
		}
		if v, n, err := ReadLTF8(b); err == nil {
			if n > len(b) || n < 1 {
				t.Fatalf("LTF8 used %d of %d bytes", n, len(b))
			}
			if got, _, _ := ReadLTF8(AppendLTF8(nil, v)); got != v {
				t.Fatalf("LTF8 %d does not round-trip", v)
			}
		}
		if v, n, err := ReadUint7(b); err == nil {
			if n > len(b) || n < 1 {
				t.Fatalf("uint7 used %d of %d bytes", n, len(b))
			}
			if got, _, _ := ReadUint7(AppendUint7(nil, uint64(v))); got != v {
				t.Fatalf("uint7 %d does not round-trip", v)
			}
		}
	})
}
