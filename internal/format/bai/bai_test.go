package bai

import "testing"

func TestReg2Bin(t *testing.T) {
	// Values from the SAM specification's binning scheme.
	tests := []struct {
		beg, end int
		want     uint32
	}{
		{0, 1, 4681}, {0, 16384, 4681}, {16383, 16385, 585}, {0, 1 << 17, 585},
		{0, 1<<17 + 1, 73}, {0, 1 << 26, 1}, {0, 1<<26 + 1, 0}, {1 << 26, 1<<26 + 1, 4681 + 4096},
	}
	for _, tt := range tests {
		if got := Reg2Bin(tt.beg, tt.end); got != tt.want {
			t.Errorf("Reg2Bin(%d, %d) = %d, want %d", tt.beg, tt.end, got, tt.want)
		}
	}
}

func TestUnsortedInputIsRefused(t *testing.T) {
	b := NewBuilder(2)
	b.Add(0, 100, 150, false, 1<<16, 2<<16)
	b.Add(0, 50, 90, false, 2<<16, 3<<16)
	if ok, why := b.Sorted(); ok || why == "" {
		t.Fatalf("Sorted() = %v %q after positions went backwards", ok, why)
	}
	if _, err := b.WriteTo(nil); err == nil {
		t.Fatal("an unsorted index was written")
	}
}
