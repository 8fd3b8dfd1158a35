package sigv4

import (
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
)

// requestTarget returns the path and raw query exactly as the client sent
// them. RequestURI is the request line itself: unlike r.URL it survives
// middleware such as http.StripPrefix, and Go never re-escapes it. Requests
// built in-process (tests, clients) have no RequestURI and fall back to the
// URL's escaped path.
func requestTarget(r *http.Request) (path, rawQuery string) {
	uri := r.RequestURI
	if uri != "" && uri[0] != '/' {
		// absolute-form, as sent to proxies: http://host/path?query
		if _, rest, ok := strings.Cut(uri, "://"); ok {
			if i := strings.IndexAny(rest, "/?"); i >= 0 {
				path, rawQuery, _ = strings.Cut(rest[i:], "?")
				return path, rawQuery
			}
			return "", ""
		}
		uri = "" // "*" of OPTIONS, or something we cannot read
	}
	if uri == "" {
		return r.URL.EscapedPath(), r.URL.RawQuery
	}
	path, rawQuery, _ = strings.Cut(uri, "?")
	return path, rawQuery
}

// normalizePath removes dot segments and empty segments from a path as
// botocore's normalize_url_path does (RFC 3986 §5.2.4, plus AWS's
// collapsing of "//"). It works on the path as sent, so "%2E" is no dot. A
// path with nothing to remove comes back unchanged, without allocating.
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] == '/' && !strings.Contains(p, "//") && !strings.Contains(p, "/.") {
		return p
	}
	var out []string
	for rest := p; ; {
		seg, tail, more := strings.Cut(rest, "/")
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
		if !more {
			break
		}
		rest = tail
	}
	var b strings.Builder
	if p[0] == '/' {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(out, "/"))
	if p[len(p)-1] == '/' && len(out) > 0 {
		b.WriteByte('/')
	}
	if b.Len() == 0 {
		return "/" // "." or "a/..": nothing left, which is the root
	}
	return b.String()
}

// appendCanonicalURI writes the canonical URI of a non-S3 service: the path
// as sent, dot segments removed, percent-encoded once more, so that
// "arn%3Aaws" is signed as "arn%253Aaws".
func appendCanonicalURI(dst []byte, escapedPath string) []byte {
	if escapedPath == "" {
		return append(dst, '/')
	}
	return appendEncoded(dst, escapedPath, true)
}

// appendS3CanonicalURI writes S3's canonical URI: the path exactly as sent,
// which the S3 signers encode once and do not normalise, so a key such as
// "a//b/../c" is signed as it is.
func appendS3CanonicalURI(dst []byte, escapedPath string) []byte {
	if escapedPath == "" {
		return append(dst, '/')
	}
	return append(dst, escapedPath...)
}

// sortQuery orders params as the canonical query string lists them: by
// encoded name, then by encoded value (so repeated names keep every value).
func sortQuery(params []queryParam) {
	slices.SortFunc(params, func(a, b queryParam) int {
		if c := strings.Compare(a.canonName, b.canonName); c != 0 {
			return c
		}
		return strings.Compare(a.canonValue, b.canonValue)
	})
}

// appendCanonicalQuery writes sorted params as name=value pairs joined by
// '&', leaving out the one named skip (X-Amz-Signature of a presigned URL).
func appendCanonicalQuery(dst []byte, sorted []queryParam, skip string) []byte {
	first := true
	for i := range sorted {
		p := &sorted[i]
		if skip != "" && p.name == skip {
			continue
		}
		if !first {
			dst = append(dst, '&')
		}
		first = false
		dst = append(dst, p.canonName...)
		dst = append(dst, '=')
		dst = append(dst, p.canonValue...)
	}
	return dst
}

// appendCanonicalHeaders writes one "name:value\n" line per signed header,
// in the order of the SignedHeaders list, then the blank line and the list
// itself. Values of a repeated header are joined by ','; each is trimmed
// and its runs of spaces folded to one, as the SDK signers do. The host
// comes from r.Host (Go moves it out of r.Header), so it keeps the port and
// any host prefix the client put in front (control-storage-, storage-,
// tags-).
func appendCanonicalHeaders(dst []byte, r *http.Request, signed string) []byte {
	for rest := signed; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		dst = appendLower(dst, name)
		dst = append(dst, ':')
		switch {
		case strings.EqualFold(name, "host"):
			host := r.Host
			if host == "" {
				host = r.URL.Host
			}
			dst = appendHeaderValue(dst, host)
		case strings.EqualFold(name, "content-length") && len(r.Header["Content-Length"]) == 0:
			// Go's client keeps the length in r.ContentLength only.
			if r.ContentLength > 0 {
				dst = strconv.AppendInt(dst, r.ContentLength, 10)
			}
		default:
			for i, v := range r.Header[headerKey(name)] {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendHeaderValue(dst, v)
			}
		}
		dst = append(dst, '\n')
	}
	dst = append(dst, '\n')
	return append(dst, signed...)
}

// appendHeaderValue writes v trimmed of white space at both ends, with each
// run of inner spaces folded to one.
func appendHeaderValue(dst []byte, v string) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	if !strings.Contains(v, "  ") {
		return append(dst, v...)
	}
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && v[i-1] == ' ' { // v[0] is no space
			continue
		}
		dst = append(dst, v[i])
	}
	return dst
}

func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// headerKey maps a signed header name to its key in http.Header. The names
// SDKs sign are spelled out, because CanonicalMIMEHeaderKey allocates for
// every lower-case name and this runs for every header of every request.
func headerKey(name string) string {
	switch name {
	case "x-amz-date":
		return "X-Amz-Date"
	case "x-amz-content-sha256":
		return "X-Amz-Content-Sha256"
	case "x-amz-security-token":
		return "X-Amz-Security-Token"
	case "content-type":
		return "Content-Type"
	case "content-length":
		return "Content-Length"
	case "amz-sdk-invocation-id":
		return "Amz-Sdk-Invocation-Id"
	case "amz-sdk-request":
		return "Amz-Sdk-Request"
	case "x-amz-user-agent":
		return "X-Amz-User-Agent"
	case "content-md5":
		return "Content-Md5"
	case "range":
		return "Range"
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}
