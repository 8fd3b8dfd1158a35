package omicsapi

import (
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// validator collects the constraint violations of one request and renders
// them the way AWS front ends do:
//
//	2 validation errors detected: Value null at 'sources.1.member.readSetId' failed to
//	satisfy constraint: Member must not be null; Value '0' at 'maxResults' ...
//
// The member path is kept as a stack and turned into text only when a
// violation is recorded, so a valid request builds no strings.
type validator struct {
	stack    []pathElem
	stackBuf [8]pathElem
	msgs     []string
	plain    string // a failure that is not a constraint violation (unreadable body)
}

// pathElem is one step of a member path: a member name, or a list index
// (rendered 1-based with ".member", as AWS does).
type pathElem struct {
	name  string
	index int // -1 for a member name
}

// reset points the path stack at the inline buffer, so paths up to 8 deep
// do not allocate.
func (c *validator) reset() { c.stack = c.stackBuf[:0] }

func (c *validator) enter(member string) {
	c.stack = append(c.stack, pathElem{name: member, index: -1})
}
func (c *validator) enterIndex(i int) { c.stack = append(c.stack, pathElem{index: i}) }
func (c *validator) leave()           { c.stack = c.stack[:len(c.stack)-1] }

// path renders the current path plus member ("" for the current value itself).
func (c *validator) path(member string) string {
	var b strings.Builder
	for _, e := range c.stack {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		if e.index >= 0 {
			b.WriteString(strconv.Itoa(e.index + 1))
			b.WriteString(".member")
		} else {
			b.WriteString(e.name)
		}
	}
	if member != "" {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(member)
	}
	return b.String()
}

// fail records that value (already rendered: null or 'x') at member breaks constraint.
func (c *validator) fail(member, value, constraint string) {
	c.msgs = append(c.msgs, "Value "+value+" at '"+c.path(member)+"' failed to satisfy constraint: "+constraint)
}

// failMessage records a request-level problem in plain words.
func (c *validator) failMessage(msg string) {
	if c.plain == "" {
		c.plain = msg
	}
}

func (c *validator) failed() bool { return len(c.msgs) > 0 || c.plain != "" }

// err renders the collected failures as a ValidationException.
func (c *validator) err() *Error {
	if c.plain != "" && len(c.msgs) == 0 {
		return &Error{Code: CodeValidationException, Status: 400, Message: c.plain}
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(c.msgs)))
	if len(c.msgs) == 1 {
		b.WriteString(" validation error detected: ")
	} else {
		b.WriteString(" validation errors detected: ")
	}
	b.WriteString(strings.Join(c.msgs, "; "))
	if c.plain != "" {
		b.WriteString("; ")
		b.WriteString(c.plain)
	}
	return &Error{Code: CodeValidationException, Status: 400, Message: b.String()}
}

func (c *validator) null(member string) { c.fail(member, "null", "Member must not be null") }

// maxRenderedValue bounds how much of an offending value a message repeats
// (AWS repeats it whole; a 100 kB policy would make a useless message).
const maxRenderedValue = 256

func quoteValue(s string) string {
	if utf8.RuneCountInString(s) > maxRenderedValue {
		r := []rune(s)
		s = string(r[:maxRenderedValue]) + "..."
	}
	return "'" + s + "'"
}

// stringRule is a string shape's length (in characters; -1 = no bound) and
// pattern constraints.
type stringRule struct {
	min, max int
	pattern  *pattern
}

func (r *stringRule) ok(s string) bool {
	if r.min >= 0 || r.max >= 0 {
		n := utf8.RuneCountInString(s)
		if (r.min >= 0 && n < r.min) || (r.max >= 0 && n > r.max) {
			return false
		}
	}
	return r.pattern == nil || r.pattern.match(s)
}

func (r *stringRule) violations(s string) []string {
	var out []string
	n := utf8.RuneCountInString(s)
	if r.max >= 0 && n > r.max {
		out = append(out, "Member must have length less than or equal to "+strconv.Itoa(r.max))
	}
	if r.min >= 0 && n < r.min {
		out = append(out, "Member must have length greater than or equal to "+strconv.Itoa(r.min))
	}
	if r.pattern != nil && !r.pattern.match(s) {
		out = append(out, "Member must satisfy regular expression pattern: "+r.pattern.src)
	}
	return out
}

func (c *validator) str(member, s string, r *stringRule) {
	if r.ok(s) {
		return
	}
	for _, v := range r.violations(s) {
		c.fail(member, quoteValue(s), v)
	}
}

func (c *validator) enum(member, value, valueSet string) {
	c.fail(member, quoteValue(value), "Member must satisfy enum value set: "+valueSet)
}

// intRule is an integer or long shape's range.
type intRule struct {
	min, max       int64
	hasMin, hasMax bool
}

func (c *validator) intRange(member string, v int64, r *intRule) {
	if r.hasMin && v < r.min {
		c.fail(member, "'"+strconv.FormatInt(v, 10)+"'", "Member must have value greater than or equal to "+strconv.FormatInt(r.min, 10))
	}
	if r.hasMax && v > r.max {
		c.fail(member, "'"+strconv.FormatInt(v, 10)+"'", "Member must have value less than or equal to "+strconv.FormatInt(r.max, 10))
	}
}

// sizeRule is a list's or map's length range (-1 = no bound).
type sizeRule struct {
	min, max int
}

func (r *sizeRule) ok(n int) bool {
	return (r.min < 0 || n >= r.min) && (r.max < 0 || n <= r.max)
}

func (c *validator) sizeFail(member, rendered string, n int, r *sizeRule) {
	if r.max >= 0 && n > r.max {
		c.fail(member, rendered, "Member must have length less than or equal to "+strconv.Itoa(r.max))
	} else {
		c.fail(member, rendered, "Member must have length greater than or equal to "+strconv.Itoa(r.min))
	}
}

// renderStrings renders a list of strings for a message: '[a, b]'.
func renderStrings(v []string) string {
	return quoteValue("[" + strings.Join(v, ", ") + "]")
}

// renderCount renders a list of structures or a map by its length.
func renderCount(n int) string {
	return "with " + strconv.Itoa(n) + " items"
}

// stringMap checks a map of strings: its size, then each key and value. Keys
// are reported in sorted order so messages are stable.
func (c *validator) stringMap(member string, m map[string]string, size *sizeRule, key, val *stringRule) {
	if m == nil {
		return // absent: the caller reports null when it is required
	}
	if size != nil && !size.ok(len(m)) {
		c.sizeFail(member, renderCount(len(m)), len(m), size)
	}
	if key == nil && val == nil {
		return
	}
	bad := false
	for k, v := range m {
		if (key != nil && !key.ok(k)) || (val != nil && !val.ok(v)) {
			bad = true
			break
		}
	}
	if !bad {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if key != nil {
			if v := key.violations(k); len(v) > 0 {
				c.fail(member, quoteValue(k), "Map keys must satisfy constraint: ["+strings.Join(v, ", ")+"]")
			}
		}
		if val != nil {
			if v := val.violations(m[k]); len(v) > 0 {
				c.fail(member, quoteValue(m[k]), "Map value must satisfy constraint: ["+strings.Join(v, ", ")+"]")
			}
		}
	}
}

// label unescapes a URI label segment (clients percent-encode everything but
// unreserved characters, %2F included, so an ARN arrives as one segment).
func (c *validator) label(member, escaped string) string {
	if strings.IndexByte(escaped, '%') < 0 {
		return escaped
	}
	s, err := url.PathUnescape(escaped)
	if err != nil {
		c.fail(member, quoteValue(escaped), "Member must be a percent-encoded path segment")
		return ""
	}
	return s
}

// queryString returns the first value of a query parameter.
func queryString(q url.Values, key string) string {
	if v := q[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// queryInt parses the first value of an integer query parameter of the given
// bit size. present is false when the parameter is absent; a value that does
// not parse is recorded as a violation.
func (c *validator) queryInt(q url.Values, key, member string, bits int) (v int64, present bool) {
	vals := q[key]
	if len(vals) == 0 {
		return 0, false
	}
	v, err := strconv.ParseInt(vals[0], 10, bits)
	if err != nil {
		kind := "an integer"
		if bits == 64 {
			kind = "a long integer"
		}
		c.fail(member, quoteValue(vals[0]), "Member must be "+kind)
		return 0, true
	}
	return v, true
}

// pattern is a model pattern matched against the whole value. The model's
// patterns are Java regular expressions; all of the storage API's compile
// unchanged as RE2 (in `[\p{L}||\p{M}...]` the | is a literal in both), which
// apigen checks. Go's . excludes only \n where Java's excludes \r, \u0085,
// \u2028 and \u2029 as well: a value carrying those passes here where AWS
// might refuse it.
type pattern struct {
	src   string
	re    *regexp.Regexp
	match func(string) bool
}

func newPattern(src string) *pattern { return newPatternRE2(src, src) }

// newPatternRE2 is newPattern for a model pattern src that RE2 needs written
// as re2 (apigen rewrites .{1,1024} as .{1,1000}.{0,24}); messages show src.
func newPatternRE2(src, re2 string) *pattern {
	if ext, ok := localExtensions[src]; ok {
		re2 += `|` + ext
	}
	p := &pattern{src: src, re: regexp.MustCompile(`^(?:` + re2 + `)$`)}
	p.match = p.re.MatchString
	if fast := fastMatchers[src]; fast != nil {
		p.match = fast
	}
	return p
}

// localExtensions widen a model pattern where seqstore takes more than
// AWS does: import sources and export destinations may also be file://
// URIs of absolute paths, which only an operator's -file-root lets a job
// reach (package location judges them).
var localExtensions = map[string]string{
	`s3://([a-z0-9][a-z0-9-.]{1,61}[a-z0-9])/(.{1,1024})`:      `file:///.{1,1000}.{0,24}`,
	`s3://([a-z0-9][a-z0-9-.]{1,61}[a-z0-9])/?((.{1,1024})/)?`: `file:///.{0,1000}.{0,24}`,
}

// fastMatchers are hand-written equivalents of the patterns every request
// meets (IDs, names, ARNs); FuzzFastMatchers checks them against the regexps.
var fastMatchers = map[string]func(string) bool{
	`[0-9]+`: func(s string) bool {
		if s == "" {
			return false
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	},
	`[\p{L}||\p{M}||\p{Z}||\p{S}||\p{N}||\p{P}]+`: func(s string) bool {
		if s == "" {
			return false
		}
		for _, r := range s { // invalid UTF-8 reads as U+FFFD, a symbol, as in the regexp
			if r < utf8.RuneSelf {
				if r < ' ' || r == 0x7f {
					return false
				}
				continue
			}
			if !unicode.In(r, unicode.L, unicode.M, unicode.Z, unicode.S, unicode.N, unicode.P) {
				return false
			}
		}
		return true
	},
	`arn:.+`: func(s string) bool {
		return len(s) > 4 && strings.HasPrefix(s, "arn:") && strings.IndexByte(s[4:], '\n') < 0
	},
}
