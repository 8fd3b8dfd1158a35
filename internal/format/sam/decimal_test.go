package sam

import (
	"math"
	"strconv"
	"testing"
)

func TestAppendUintLikeStrconv(t *testing.T) {
	values := []uint32{0, 1, 9, 10, 11, 99, 100, 101, 255, 256, 65535, 65536,
		math.MaxInt32, math.MaxInt32 + 1, math.MaxUint32 - 1, math.MaxUint32}
	for p := uint64(10); p <= math.MaxUint32; p *= 10 {
		values = append(values, uint32(p-1), uint32(p), uint32(p+1))
	}
	for _, v := range values {
		want := strconv.FormatUint(uint64(v), 10)
		if got := string(appendUint([]byte("x"), v)); got != "x"+want {
			t.Errorf("appendUint(%d) = %q, want %q", v, got, "x"+want)
		}
		if got := decimalLen(v); v > 0 && got != len(want) {
			t.Errorf("decimalLen(%d) = %d, want %d", v, got, len(want))
		}
	}
}

func TestAppendIntLikeStrconv(t *testing.T) {
	values := []int64{0, 1, -1, 9, -9, 10, -10, 99, -99, 100, -100,
		math.MinInt8, math.MaxInt8, math.MinInt16, math.MaxInt16,
		math.MinInt32, math.MaxInt32, math.MinInt32 + 1, math.MaxInt32 + 1,
		math.MaxUint32, -math.MaxUint32, math.MaxUint32 + 1, -math.MaxUint32 - 1,
		math.MinInt64, math.MaxInt64}
	for p := int64(10); p <= 1e12; p *= 10 {
		values = append(values, p-1, p, p+1, -p+1, -p, -p-1)
	}
	for _, v := range values {
		want := "x" + strconv.FormatInt(v, 10)
		if got := string(appendInt([]byte("x"), v)); got != want {
			t.Errorf("appendInt(%d) = %q, want %q", v, got, want)
		}
	}
}

// TestAppendUintEveryLength walks every value up to a million and then
// strides through the rest of the range.
func TestAppendUintEveryLength(t *testing.T) {
	var buf []byte
	check := func(v uint32) {
		buf = appendUint(buf[:0], v)
		if want := strconv.FormatUint(uint64(v), 10); string(buf) != want {
			t.Fatalf("appendUint(%d) = %q, want %q", v, buf, want)
		}
	}
	for v := uint32(0); v < 1e6; v++ {
		check(v)
	}
	for v := uint64(1e6); v <= math.MaxUint32; v += 9973 {
		check(uint32(v))
	}
}

func TestAppendFloat32LikeAppendFloat(t *testing.T) {
	check := func(f float32) {
		t.Helper()
		want := string(AppendFloat([]byte("x"), float64(f)))
		if got := string(appendFloat32([]byte("x"), f)); got != want {
			t.Fatalf("appendFloat32(%v, bits %#x) = %q, want %q", f, math.Float32bits(f), got, want)
		}
	}
	edges := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.0067, 0.5, 12345.25, 12345.75, 0.00012345625,
		9.999995, 9.9999949, 999999.5, 999999.4, 1e6, 1e-4, 0.000099999, 123456, 99999.95, 0.1, 0.2, 0.3,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.MaxFloat32, math.SmallestNonzeroFloat32}
	for _, f := range edges {
		check(f)
		check(-f)
		check(math.Nextafter32(f, 0))
		check(math.Nextafter32(f, float32(math.Inf(1))))
	}
	// Values either side of each power of ten, where the exponent changes.
	for p := 1e-5; p < 1e7; p *= 10 {
		f := float32(p)
		for range 2000 {
			check(f)
			f = math.Nextafter32(f, 0)
		}
		f = float32(p)
		for range 2000 {
			check(f)
			f = math.Nextafter32(f, float32(math.Inf(1)))
		}
	}
	// A stride through every float32 bit pattern, positive and negative.
	for b := uint64(0); b < 1<<32; b += 1009 {
		check(math.Float32frombits(uint32(b)))
	}
}
