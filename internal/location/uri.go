package location

import (
	"strings"
	"unicode/utf8"

	seqstore "github.com/seqstore/seqstore"
)

// Bounds of what a URI may name: S3's longest key, and Linux's PATH_MAX.
const (
	maxKeyLength  = 1024
	maxPathLength = 4096
)

// target is a parsed URI: an S3 bucket and key, or an absolute path.
type target struct {
	uri    string
	s3     bool
	bucket string
	key    string // empty for a whole-bucket prefix
	path   string // as written; resolved against the roots later
}

// parse reads an s3://bucket/key or file:///abs/path URI literally. With
// prefix set it is a place to write under: the key may be empty and a
// trailing slash is allowed.
func parse(uri string, prefix bool) (target, error) {
	t := target{uri: uri}
	if !utf8.ValidString(uri) {
		return t, invalid(uri, "is not valid UTF-8")
	}
	if i := strings.IndexFunc(uri, isControl); i >= 0 {
		return t, invalid(uri, "has a control character at byte %d", i)
	}
	switch {
	case strings.HasPrefix(uri, "s3://"):
		t.s3 = true
		t.bucket, t.key, _ = strings.Cut(uri[len("s3://"):], "/")
		if err := validBucketName(t.bucket); err != nil {
			return t, invalid(uri, "names the bucket %q: %v", t.bucket, err)
		}
		if len(t.key) > maxKeyLength {
			return t, invalid(uri, "has a key of %d bytes; S3 keys are at most %d", len(t.key), maxKeyLength)
		}
		if !prefix && (t.key == "" || strings.HasSuffix(t.key, "/")) {
			return t, invalid(uri, "names no object: give s3://bucket/key")
		}
	case strings.HasPrefix(uri, "file://"):
		t.path = uri[len("file://"):]
		if !strings.HasPrefix(t.path, "/") {
			return t, invalid(uri, "is not absolute: write file:///abs/path, with three slashes")
		}
		if len(t.path) > maxPathLength {
			return t, invalid(uri, "has a path of %d bytes; the limit is %d", len(t.path), maxPathLength)
		}
		if !prefix && strings.HasSuffix(t.path, "/") {
			return t, invalid(uri, "names a directory, not a file")
		}
	default:
		return t, invalid(uri, "must begin with s3:// or file://")
	}
	return t, nil
}

func invalid(uri, format string, args ...any) error {
	e := seqstore.Errorf(seqstore.CodeValidation, format, args...)
	e.Message = quoteURI(uri) + " " + e.Message
	return e
}

// quoteURI shows a URI in a message, shortened when long.
func quoteURI(uri string) string {
	const max = 200
	if len(uri) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(uri[cut]) {
			cut--
		}
		uri = uri[:cut] + "..."
	}
	return strings.ToValidUTF8(uri, "\uFFFD")
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// validBucketName applies S3's rules for bucket names: 3 to 63 lower-case
// letters, digits, dots and hyphens, beginning and ending with a letter or
// digit, with no two dots together and not shaped like an IP address.
func validBucketName(name string) error {
	if len(name) < 3 || len(name) > 63 {
		return errorString("a bucket name has 3 to 63 characters")
	}
	digitsAndDots := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', c == '-':
			digitsAndDots = false
		case '0' <= c && c <= '9', c == '.':
		default:
			return errorString("a bucket name has only lower-case letters, digits, dots and hyphens")
		}
	}
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return errorString("a bucket name begins and ends with a letter or digit")
	}
	if strings.Contains(name, "..") {
		return errorString("a bucket name has no two dots together")
	}
	if digitsAndDots && strings.Count(name, ".") == 3 {
		return errorString("a bucket name is not an IP address")
	}
	return nil
}

func alnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

type errorString string

func (e errorString) Error() string { return string(e) }
