package refget

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// subKind is how a request asked for part of a sequence.
type subKind int

const (
	whole   subKind = iota
	byQuery         // start and/or end query parameters: 200
	byRange         // a Range header: 206
)

// subsequence is the residues [start, end) a request asks for.
type subsequence struct {
	kind       subKind
	start, end int64
}

// maxCoordinate is the largest start or end: the spec types them as
// 32-bit unsigned integers.
const maxCoordinate = 1<<32 - 1

// parseSubsequence reads the part of a sequence of length residues that
// the query and Range header values ask for, with refget 2.0's errors:
// 400 for malformed or out-of-bounds values and for a Range with start or
// end, 416 for an end past the sequence, 501 for start after end (the
// origin-crossing range of a circular sequence, which is not supported).
func parseSubsequence(rawQuery string, ranges []string, length int64) (subsequence, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return subsequence{}, fail(http.StatusBadRequest, "the query string is malformed: %v", err)
	}
	startVals, hasStart := q["start"]
	endVals, hasEnd := q["end"]
	if len(ranges) > 0 {
		if hasStart || hasEnd {
			return subsequence{}, fail(http.StatusBadRequest, "give either a Range header or start/end query parameters, not both")
		}
		if len(ranges) > 1 {
			return subsequence{}, fail(http.StatusBadRequest, "give one Range header: refget serves one range per request")
		}
		return parseRange(ranges[0], length)
	}
	if !hasStart && !hasEnd {
		return subsequence{kind: whole, start: 0, end: length}, nil
	}
	sub := subsequence{kind: byQuery, start: 0, end: length}
	if hasStart {
		if sub.start, err = coordinate("start", startVals); err != nil {
			return subsequence{}, err
		}
	}
	if hasEnd {
		if sub.end, err = coordinate("end", endVals); err != nil {
			return subsequence{}, err
		}
	}
	switch {
	case hasStart && sub.start >= length:
		return subsequence{}, fail(http.StatusBadRequest, "start %d is past the sequence's last residue (it has %d; start counts from 0)", sub.start, length)
	case hasStart && hasEnd && sub.start > sub.end:
		return subsequence{}, fail(http.StatusNotImplemented, "start %d is after end %d: that asks for a range across the origin of a circular sequence, which this server does not support", sub.start, sub.end)
	case sub.end > length:
		return subsequence{}, fail(http.StatusRequestedRangeNotSatisfiable, "end %d is past the sequence's end: it has %d residues (end is exclusive)", sub.end, length)
	}
	return sub, nil
}

// coordinate parses a start or end query parameter: one 32-bit unsigned
// integer in decimal.
func coordinate(name string, vals []string) (int64, error) {
	if len(vals) != 1 {
		return 0, fail(http.StatusBadRequest, "%s is given %d times; give it once", name, len(vals))
	}
	v, err := strconv.ParseUint(vals[0], 10, 32)
	if err != nil {
		return 0, fail(http.StatusBadRequest, "%s %q is not an unsigned integer of at most %d", name, vals[0], uint64(maxCoordinate))
	}
	return int64(v), nil
}

// parseRange reads one Range header value: bytes=FIRST-LAST, FIRST- or
// -SUFFIX, 0-based and inclusive, within the sequence.
func parseRange(h string, length int64) (subsequence, error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !ok {
		return subsequence{}, fail(http.StatusBadRequest, "Range %q is not a byte range: write bytes=FIRST-LAST (0-based, inclusive)", h)
	}
	if strings.Contains(spec, ",") {
		return subsequence{}, fail(http.StatusBadRequest, "Range %q asks for several ranges; refget serves one per request", h)
	}
	firstText, lastText, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return subsequence{}, fail(http.StatusBadRequest, "Range %q is malformed: write bytes=FIRST-LAST (0-based, inclusive)", h)
	}
	num := func(s string) (int64, bool) {
		v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 63)
		return int64(v), err == nil && strings.TrimSpace(s) != ""
	}
	var first, last int64
	switch {
	case firstText == "":
		suffix, ok := num(lastText)
		if !ok || suffix == 0 {
			return subsequence{}, fail(http.StatusBadRequest, "Range %q is malformed: a suffix range asks for at least one residue", h)
		}
		first, last = max(length-suffix, 0), length-1
	default:
		var okFirst, okLast bool
		first, okFirst = num(firstText)
		last, okLast = length-1, true
		if lastText != "" {
			last, okLast = num(lastText)
		}
		if !okFirst || !okLast {
			return subsequence{}, fail(http.StatusBadRequest, "Range %q is malformed: write bytes=FIRST-LAST (0-based, inclusive)", h)
		}
	}
	switch {
	case first > last:
		return subsequence{}, fail(http.StatusBadRequest, "Range %q ends before it starts (a range across the origin of a circular sequence cannot be asked for by Range)", h)
	case first >= length || last >= length:
		return subsequence{}, fail(http.StatusBadRequest, "Range %q is outside the sequence's %d residues (positions 0 to %d)", h, length, length-1)
	}
	return subsequence{kind: byRange, start: first, end: last + 1}, nil
}

// acceptable checks the Accept header against the answer's media type:
// the full type, the plainer one it degrades to, their type's wildcard
// and */* are all accepted, as is no Accept header. Anything else is 406.
func acceptable(r *http.Request, full, plain string) error {
	values := r.Header.Values("Accept")
	if len(values) == 0 {
		return nil
	}
	major, _, _ := strings.Cut(plain, "/")
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			mediaType, params, _ := strings.Cut(item, ";")
			mediaType = strings.ToLower(strings.TrimSpace(mediaType))
			if mediaType == "" || zeroQuality(params) {
				continue
			}
			switch mediaType {
			case full, plain, major + "/*", "*/*":
				return nil
			}
		}
	}
	return fail(http.StatusNotAcceptable, "this answer is %s (or %s); the Accept header %q allows neither", full, plain, strings.Join(values, ", "))
}

// zeroQuality reports whether media type parameters say q=0: "not
// acceptable".
func zeroQuality(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "q") {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && f == 0
		}
	}
	return false
}
