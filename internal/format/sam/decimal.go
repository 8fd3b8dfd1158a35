package sam

import (
	"math"
	"math/bits"
	"slices"
	"strconv"
)

// Every number in a SAM line is a 32-bit integer or close to one, and a
// line holds a dozen of them, so they are formatted here rather than with
// strconv: two digits per division by 100, written straight into dst at
// their final place, with no intermediate buffer to copy.

// digitPairs holds "00" to "99": entry 2v is the first digit of v.
const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

var powersOf10 = [10]uint32{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// decimalLen is how many digits v (above 0) has in decimal. The bit length times
// log10(2) (1233/4096) is the digit count or one less; one comparison
// tells which.
func decimalLen(v uint32) int {
	n := bits.Len32(v) * 1233 >> 12
	if v >= powersOf10[n] {
		n++
	}
	return n
}

// appendUint appends v in decimal.
func appendUint(dst []byte, v uint32) []byte {
	if v < 10 {
		return append(dst, '0'+byte(v))
	}
	if v < 100 {
		return append(dst, digitPairs[2*v], digitPairs[2*v+1])
	}
	if v < 1000 {
		// Read lengths, CIGAR lengths, alignment scores and most template
		// lengths have three digits.
		q := v / 100
		r := 2 * (v - 100*q)
		return append(dst, '0'+byte(q), digitPairs[r], digitPairs[r+1])
	}
	n := decimalLen(v)
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	out := dst[start:]
	i := n
	for v >= 100 {
		q := v / 100
		r := 2 * (v - 100*q)
		i -= 2
		out[i], out[i+1] = digitPairs[r], digitPairs[r+1]
		v = q
	}
	if v >= 10 {
		out[0], out[1] = digitPairs[2*v], digitPairs[2*v+1]
	} else {
		out[0] = '0' + byte(v)
	}
	return dst
}

// appendInt appends v in decimal, with a minus sign when it is negative.
// Values whose magnitude does not fit 32 bits, which no SAM field holds,
// go through strconv.
func appendInt(dst []byte, v int64) []byte {
	if v >= 0 {
		if v <= 1<<32-1 {
			return appendUint(dst, uint32(v))
		}
	} else if v >= -(1<<32 - 1) {
		return appendUint(append(dst, '-'), uint32(-v))
	}
	return strconv.AppendInt(dst, v, 10)
}

// appendFloat32 formats a type 'f' value as AppendFloat does, without
// strconv's general machinery for the magnitudes tags hold. With six
// significant digits, a value of decimal exponent X in [-4, 5] prints as
// fixed point with 5-X fraction digits. The value times 10^(5-X) is exact
// in a float64 (24 bits of mantissa times at most 5^9, 21 bits), so
// rounding it to an integer rounds the exact value, ties to even as glibc
// and strconv do. Other values, and those that round up to a seventh
// digit, take the general path.
func appendFloat32(dst []byte, f float32) []byte {
	v := float64(f)
	a := math.Abs(v)
	if !(a >= 1e-4 && a < 1e6) {
		return AppendFloat(dst, v)
	}
	x := -4
	for x < 5 && a >= pow10Float[x+5] {
		x++
	}
	frac := 5 - x
	n := uint32(math.RoundToEven(a * pow10Float[frac+4]))
	if n >= 1e6 {
		return AppendFloat(dst, v)
	}
	if v < 0 {
		dst = append(dst, '-')
	}
	var digits [6]byte
	for i := 5; i >= 0; i-- {
		digits[i] = '0' + byte(n%10)
		n /= 10
	}
	if x < 0 {
		dst = append(dst, '0', '.')
		dst = append(dst, "000"[:-x-1]...)
		return append(dst, trimZeros(digits[:])...)
	}
	dst = append(dst, digits[:x+1]...)
	if rest := trimZeros(digits[x+1:]); len(rest) > 0 {
		dst = append(append(dst, '.'), rest...)
	}
	return dst
}

// pow10Float holds 10^-4 to 10^9: entry i is 10^(i-4).
var pow10Float = [14]float64{1e-4, 1e-3, 1e-2, 1e-1, 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}
