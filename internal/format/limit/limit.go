// Package limit names the bounds the format parsers put on what they
// buffer, so that a hostile file fails with a message naming the bound
// instead of growing memory until the process dies. Each parser takes its
// bounds in its own Options; this package holds the error they share, which
// callers recognise with errors.As to tell "too big for this server" from a
// file that is simply corrupt.
package limit

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Error reports input that exceeds a limit.
type Error struct {
	// Name is the limit's setting, as an operator raises it:
	// "max-fastq-line", "max-references".
	Name string
	// What says what exceeded it: "line 2", "the header's 20000000
	// reference sequences".
	What string
	// Limit is the limit's value, in bytes when Bytes is set, else a count.
	Limit int64
	Bytes bool
}

func (e *Error) Error() string {
	v := fmt.Sprint(e.Limit)
	if e.Bytes {
		v = Size(e.Limit)
	}
	return fmt.Sprintf("%s exceeds the limit %s=%s; raise that setting to accept the file", e.What, e.Name, v)
}

// Size writes a byte count the way the limits are usually set: "16MiB",
// "1GiB", or bytes when it is not a whole number of KiB.
func Size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// ParseSize reads a byte count written as a number, optionally followed by
// B, KiB, MiB or GiB (or K, M, G, meaning the same), as Size writes it.
func ParseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		shift  uint
	}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"K", 10}, {"M", 20}, {"G", 30}, {"B", 0}}
	num, shift := s, uint(0)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			num, shift = strings.TrimSuffix(s, u.suffix), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("%q is not a size: write bytes, or a number followed by KiB, MiB or GiB", s)
	}
	return n << shift, nil
}
