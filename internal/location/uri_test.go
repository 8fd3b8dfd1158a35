package location

import (
	"strings"
	"testing"

	seqstore "github.com/seqstore/seqstore"
)

func TestParse(t *testing.T) {
	long := strings.Repeat("k", maxKeyLength)
	cases := []struct {
		name   string
		uri    string
		prefix bool
		bucket string
		key    string
		path   string
		bad    string // part of the message when the URI is refused
	}{
		{name: "an object", uri: "s3://my-bucket/reads/a.bam", bucket: "my-bucket", key: "reads/a.bam"},
		{name: "a key with spaces and unicode", uri: "s3://b.example/Ünïcødé dir/read 1.fq", bucket: "b.example", key: "Ünïcødé dir/read 1.fq"},
		{name: "a key with dot-dot is only a name", uri: "s3://bucket/a/../b", bucket: "bucket", key: "a/../b"},
		{name: "percent signs are taken literally", uri: "s3://bucket/a%20b?x#y", bucket: "bucket", key: "a%20b?x#y"},
		{name: "the longest key", uri: "s3://bucket/" + long, bucket: "bucket", key: long},
		{name: "a key too long", uri: "s3://bucket/" + long + "k", bad: "S3 keys are at most"},
		{name: "a bucket alone is no object", uri: "s3://bucket", bad: "names no object"},
		{name: "a key ending in a slash is no object", uri: "s3://bucket/dir/", bad: "names no object"},
		{name: "a bucket alone is a prefix", uri: "s3://bucket", prefix: true, bucket: "bucket"},
		{name: "a prefix may end in a slash", uri: "s3://bucket/out/", prefix: true, bucket: "bucket", key: "out/"},
		{name: "an upper-case bucket", uri: "s3://Bucket/k", bad: "lower-case"},
		{name: "a short bucket", uri: "s3://ab/k", bad: "3 to 63"},
		{name: "a bucket with two dots together", uri: "s3://a..b/k", bad: "two dots"},
		{name: "a bucket beginning with a hyphen", uri: "s3://-ab/k", bad: "begins and ends"},
		{name: "a bucket shaped like an IP address", uri: "s3://192.168.1.1/k", bad: "IP address"},
		{name: "an empty bucket", uri: "s3:///k", bad: "3 to 63"},
		{name: "an absolute file", uri: "file:///data/in/a b.fq", path: "/data/in/a b.fq"},
		{name: "a file path with dot-dot is kept for resolving", uri: "file:///data/../etc/passwd", path: "/data/../etc/passwd"},
		{name: "a relative file", uri: "file://data/a.fq", bad: "not absolute"},
		{name: "a relative file with a dot", uri: "file://./a.fq", bad: "not absolute"},
		{name: "a file URI with no path", uri: "file://", bad: "not absolute"},
		{name: "a directory is no file", uri: "file:///data/", bad: "names a directory"},
		{name: "a directory is a prefix", uri: "file:///data/", prefix: true, path: "/data/"},
		{name: "another scheme", uri: "https://host/a", bad: "must begin with s3:// or file://"},
		{name: "an upper-case scheme", uri: "S3://bucket/a", bad: "must begin with"},
		{name: "a bare path", uri: "/data/a.fq", bad: "must begin with"},
		{name: "a NUL byte", uri: "file:///data/a\x00b", bad: "control character"},
		{name: "a newline in a key", uri: "s3://bucket/a\nb", bad: "control character"},
		{name: "bytes that are not UTF-8", uri: "s3://bucket/\xff", bad: "UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parse(c.uri, c.prefix)
			if c.bad != "" {
				if err == nil {
					t.Fatalf("parse(%q) = %+v, want an error saying %q", c.uri, got, c.bad)
				}
				if seqstore.CodeOf(err) != seqstore.CodeValidation || !strings.Contains(err.Error(), c.bad) {
					t.Fatalf("parse(%q): %v; want a ValidationException saying %q", c.uri, err, c.bad)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse(%q): %v", c.uri, err)
			}
			if got.bucket != c.bucket || got.key != c.key || got.path != c.path {
				t.Errorf("parse(%q) = bucket %q key %q path %q; want %q %q %q", c.uri, got.bucket, got.key, got.path, c.bucket, c.key, c.path)
			}
		})
	}
}

func TestJoin(t *testing.T) {
	for _, c := range []struct{ prefix, name, want string }{
		{"s3://bucket", "a.bam", "s3://bucket/a.bam"},
		{"s3://bucket/", "a.bam", "s3://bucket/a.bam"},
		{"s3://bucket/out", "x/a.bam", "s3://bucket/out/x/a.bam"},
		{"file:///data/out/", "a.bam", "file:///data/out/a.bam"},
		{"file:///", "a.bam", "file:///a.bam"},
	} {
		if got := Join(c.prefix, c.name); got != c.want {
			t.Errorf("Join(%q, %q) = %q, want %q", c.prefix, c.name, got, c.want)
		}
	}
}

// FuzzParse checks that any URI either parses into parts that rebuild it
// or is refused as a ValidationException, and that a parsed prefix joined
// with a name parses as an object in the same place.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"s3://bucket/key", "file:///a/b", "file://a", "s3://a.b-c/ü x/../y", "s3://bucket/", "file:///"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, uri string, prefix bool) {
		got, err := parse(uri, prefix)
		if err != nil {
			if seqstore.CodeOf(err) != seqstore.CodeValidation {
				t.Fatalf("parse(%q): %v is not a ValidationException", uri, err)
			}
			return
		}
		var rebuilt string
		if got.s3 {
			rebuilt = "s3://" + got.bucket
			if got.key != "" || strings.HasPrefix(uri, rebuilt+"/") {
				rebuilt += "/" + got.key
			}
		} else {
			if !strings.HasPrefix(got.path, "/") {
				t.Fatalf("parse(%q) gave the relative path %q", uri, got.path)
			}
			rebuilt = "file://" + got.path
		}
		if rebuilt != uri {
			t.Fatalf("parse(%q) = %+v, which rebuilds as %q", uri, got, rebuilt)
		}
		if prefix {
			joined := Join(uri, "name")
			obj, err := parse(joined, false)
			if err != nil && !strings.Contains(err.Error(), "at most") && !strings.Contains(err.Error(), "limit") {
				t.Fatalf("Join(%q, name) = %q does not parse: %v", uri, joined, err)
			}
			if err == nil && (obj.s3 != got.s3 || obj.bucket != got.bucket) {
				t.Fatalf("Join(%q, name) = %q moved to %+v", uri, joined, obj)
			}
		}
	})
}
