package sigv4

import (
	"encoding/hex"
	"net/url"
	"strings"
	"time"
)

const (
	algorithm       = "AWS4-HMAC-SHA256"
	terminator      = "aws4_request"
	unsignedPayload = "UNSIGNED-PAYLOAD"
	// amzDateLayout is SigV4's ISO 8601 basic timestamp, as in X-Amz-Date.
	amzDateLayout = "20060102T150405Z"
)

// claim is what a request says about its own signature, from the
// Authorization header or from the presigned query parameters. Its strings
// are substrings of the request, so parsing allocates nothing.
type claim struct {
	accessKey, date, region, service string
	// signedHeaders is the raw, semicolon-separated SignedHeaders list,
	// which goes verbatim into the canonical request.
	signedHeaders string
	signature     [32]byte
	amzDate       string
	time          time.Time

	presigned bool
	expires   time.Duration // presigned only
}

// parseAuthorization parses the value of an Authorization header:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/omics/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
//
// The components may come in any order, separated by commas with optional
// spaces, as AWS accepts them.
func parseAuthorization(h string) (claim, error) {
	var c claim
	h = strings.TrimLeft(h, " \t")
	alg, rest, _ := strings.Cut(h, " ")
	if alg != algorithm {
		if alg == "" {
			return c, fail(CodeIncompleteSignature, "Authorization header is empty")
		}
		return c, fail(CodeIncompleteSignature, "Authorization header names algorithm %q; only %s is supported", truncate(alg), algorithm)
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		part = strings.Trim(part, " \t")
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return c, fail(CodeIncompleteSignature, "Invalid key=value pair (missing equal-sign) in Authorization header: %q", truncate(part))
		}
		var seen *bool
		switch k {
		case "Credential":
			cred, seen = val, &haveCred
		case "SignedHeaders":
			signed, seen = val, &haveSigned
		case "Signature":
			sig, seen = val, &haveSig
		default:
			// AWS ignores components it does not know; so do we.
			continue
		}
		if *seen {
			return c, fail(CodeIncompleteSignature, "Authorization header has %s twice", k)
		}
		*seen = true
	}
	if !haveCred || !haveSigned || !haveSig {
		var missing []string
		for _, m := range []struct {
			have bool
			name string
		}{{haveCred, "Credential"}, {haveSig, "Signature"}, {haveSigned, "SignedHeaders"}} {
			if !m.have {
				missing = append(missing, "Authorization header requires '"+m.name+"' parameter.")
			}
		}
		return c, fail(CodeIncompleteSignature, "%s", strings.Join(missing, " "))
	}
	if err := c.setCredential(cred); err != nil {
		return c, err
	}
	if err := c.setSignedHeaders(signed); err != nil {
		return c, err
	}
	if err := c.setSignature(sig); err != nil {
		return c, err
	}
	return c, nil
}

// setCredential parses AKID/YYYYMMDD/REGION/SERVICE/aws4_request.
func (c *claim) setCredential(cred string) error {
	var parts [5]string
	rest := cred
	for i := range 4 {
		var ok bool
		parts[i], rest, ok = strings.Cut(rest, "/")
		if !ok {
			return fail(CodeIncompleteSignature, "Credential %q must have the form ACCESSKEYID/YYYYMMDD/REGION/SERVICE/aws4_request", truncate(cred))
		}
	}
	parts[4] = rest
	if parts[4] != terminator {
		return fail(CodeIncompleteSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not %q.", truncate(parts[4]))
	}
	if parts[0] == "" {
		return fail(CodeIncompleteSignature, "Credential %q has no access key ID", truncate(cred))
	}
	if !isDigits(parts[1], 8) {
		return fail(CodeIncompleteSignature, "Credential date %q must be 8 digits, YYYYMMDD", truncate(parts[1]))
	}
	if parts[2] == "" || parts[3] == "" {
		return fail(CodeIncompleteSignature, "Credential %q has an empty region or service", truncate(cred))
	}
	c.accessKey, c.date, c.region, c.service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

// setSignedHeaders checks the SignedHeaders list: non-empty names without
// white space, host among them.
func (c *claim) setSignedHeaders(signed string) error {
	if signed == "" {
		return fail(CodeIncompleteSignature, "SignedHeaders is empty")
	}
	// One pass over the bytes: this runs for every request.
	hasHost := false
	start := 0
	for i := 0; i <= len(signed); i++ {
		if i < len(signed) {
			switch signed[i] {
			case ';':
			case ' ', '\t', ':', ',':
				return fail(CodeIncompleteSignature, "SignedHeaders %q has a malformed header name", truncate(signed))
			default:
				continue
			}
		}
		name := signed[start:i]
		if name == "" {
			return fail(CodeIncompleteSignature, "SignedHeaders %q has an empty header name", truncate(signed))
		}
		if len(name) == 4 && strings.EqualFold(name, "host") {
			hasHost = true
		}
		start = i + 1
	}
	if !hasHost {
		return fail(CodeIncompleteSignature, "'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	c.signedHeaders = signed
	return nil
}

// setSignature decodes the 64 hexadecimal digits of the signature.
func (c *claim) setSignature(sig string) error {
	if len(sig) != 2*len(c.signature) {
		return fail(CodeIncompleteSignature, "Signature must be %d hexadecimal digits, not %d characters", 2*len(c.signature), len(sig))
	}
	if _, err := hex.Decode(c.signature[:], []byte(sig)); err != nil {
		return fail(CodeIncompleteSignature, "Signature %q is not hexadecimal", truncate(sig))
	}
	return nil
}

// setDate parses X-Amz-Date (20240101T000000Z) and checks that it falls on
// the credential scope's date.
func (c *claim) setDate(amzDate string) error {
	t, ok := parseAmzDate(amzDate)
	if !ok {
		return fail(CodeIncompleteSignature, "X-Amz-Date %q must be an ISO 8601 basic UTC time such as 20240101T000000Z", truncate(amzDate))
	}
	if amzDate[:8] != c.date {
		return fail(CodeInvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", c.date, amzDate[:8], amzDate)
	}
	c.amzDate, c.time = amzDate, t
	return nil
}

// parseAmzDate parses YYYYMMDDTHHMMSSZ by hand: time.Parse costs more than
// the rest of a cached signature check.
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != 16 || s[8] != 'T' || s[15] != 'Z' || !isDigits(s[:8], 8) || !isDigits(s[9:15], 6) {
		return time.Time{}, false
	}
	num := func(s string) int {
		n := 0
		for i := 0; i < len(s); i++ {
			n = n*10 + int(s[i]-'0')
		}
		return n
	}
	y, mo, d := num(s[0:4]), num(s[4:6]), num(s[6:8])
	h, mi, sec := num(s[9:11]), num(s[11:13]), num(s[13:15])
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
	// time.Date normalises 20240230 to March 1st; a real date survives.
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d || t.Hour() != h || t.Minute() != mi || t.Second() != sec {
		return time.Time{}, false
	}
	return t, true
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// truncate keeps error messages short whatever a client sends.
func truncate(s string) string {
	const max = 128
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// queryParam is one name=value pair of the query string, decoded and in
// SigV4's canonical encoding.
type queryParam struct {
	name, value           string // decoded
	canonName, canonValue string // RFC 3986 encoded, uppercase hex
}

// parseQuery splits a raw query string into params, appending to dst. Empty
// pieces ("a&&b") are skipped, as Go's url.ParseQuery and the SDK signers
// skip them; a piece without '=' is a name with an empty value. A '+' is a
// space, as the Go SDK's signer reads it.
func parseQuery(dst []queryParam, raw string) ([]queryParam, error) {
	for offset := 0; raw != ""; {
		piece, rest, _ := strings.Cut(raw, "&")
		if piece != "" {
			name, value, _ := strings.Cut(piece, "=")
			var p queryParam
			var err error
			if p.name, p.canonName, err = decodeQueryComponent(name); err != nil {
				return dst, fail(CodeIncompleteSignature, "the query string has a malformed percent-encoding at byte %d", offset)
			}
			if p.value, p.canonValue, err = decodeQueryComponent(value); err != nil {
				return dst, fail(CodeIncompleteSignature, "the query string has a malformed percent-encoding at byte %d", offset+len(name)+1)
			}
			dst = append(dst, p)
		}
		offset += len(piece) + 1
		raw = rest
	}
	return dst, nil
}

// decodeQueryComponent returns a query name or value decoded and in
// canonical form. Components that clients already sent in canonical form
// (the usual case) come back as they are, without allocating.
func decodeQueryComponent(raw string) (decoded, canonical string, err error) {
	if isCanonicalEncoding(raw) {
		if strings.IndexByte(raw, '%') < 0 {
			return raw, raw, nil
		}
		decoded, err = url.QueryUnescape(raw)
		return decoded, raw, err
	}
	decoded, err = url.QueryUnescape(raw)
	if err != nil {
		return "", "", err
	}
	return decoded, string(appendEncoded(nil, decoded, false)), nil
}

// isCanonicalEncoding reports whether s is exactly what appendEncoded makes
// of its decoded form: unreserved characters as they are, everything else as
// %XX with uppercase hex.
func isCanonicalEncoding(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			continue
		}
		if c != '%' || i+2 >= len(s) {
			return false
		}
		hi, ok1 := upperHexValue(s[i+1])
		lo, ok2 := upperHexValue(s[i+2])
		if !ok1 || !ok2 || isUnreserved(hi<<4|lo) {
			return false
		}
		i += 2
	}
	return true
}

func upperHexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// appendEncoded percent-encodes s as SigV4 wants it: every byte outside the
// RFC 3986 unreserved set (and outside '/', when keepSlash) as %XX with
// uppercase hex.
func appendEncoded(dst []byte, s string, keepSlash bool) []byte {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || keepSlash && c == '/' {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return dst
}
