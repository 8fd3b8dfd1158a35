package s3read

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/seqstore/seqstore/internal/sigv4"
)

func TestParseRange(t *testing.T) {
	const size = 1000
	tests := []struct {
		header         string
		offset, length int64
		partial        bool
		invalid        bool
	}{
		{"", 0, size, false, false},
		{"bytes=0-99", 0, 100, true, false},
		{"bytes=100-", 100, 900, true, false},
		{"bytes=-10", 990, 10, true, false},
		{"bytes=-5000", 0, size, true, false},
		{"bytes=990-5000", 990, 10, true, false},
		{"bytes=999-999", 999, 1, true, false},
		{"bytes=1000-", 0, 0, false, true},
		{"bytes=1000-1001", 0, 0, false, true},
		{"bytes=-0", 0, 0, false, true},
		// Ignored, as S3 ignores them: the whole object.
		{"bytes=0-1,5-6", 0, size, false, false},
		{"bytes=10-5", 0, size, false, false},
		{"items=0-1", 0, size, false, false},
		{"bytes=a-b", 0, size, false, false},
		{"bytes=+1-2", 0, size, false, false},
		{"bytes=1", 0, size, false, false},
	}
	for _, tt := range tests {
		off, n, partial, err := parseRange(tt.header, size)
		if tt.invalid {
			e, ok := err.(*Error)
			if !ok || e.Code != "InvalidRange" || e.Status != http.StatusRequestedRangeNotSatisfiable || e.header.Get("Content-Range") != "bytes */1000" {
				t.Errorf("parseRange(%q) = %v; want InvalidRange", tt.header, err)
			}
			continue
		}
		if err != nil || off != tt.offset || n != tt.length || partial != tt.partial {
			t.Errorf("parseRange(%q) = %d, %d, %v, %v; want %d, %d, %v", tt.header, off, n, partial, err, tt.offset, tt.length, tt.partial)
		}
	}
	if _, _, _, err := parseRange("bytes=0-", 0); err == nil {
		t.Error("a range of an empty object is satisfiable")
	}
}

func TestCheckConditions(t *testing.T) {
	modified := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	const etag = `"abc"`
	before, at, after := modified.Add(-time.Hour).Format(http.TimeFormat), modified.Format(http.TimeFormat), modified.Add(time.Hour).Format(http.TimeFormat)
	tests := []struct {
		name   string
		header map[string]string
		want   string // "" passes
	}{
		{"none", nil, ""},
		{"If-Match that matches", map[string]string{"If-Match": etag}, ""},
		{"If-Match unquoted, in a list", map[string]string{"If-Match": `"x", abc`}, ""},
		{"If-Match *", map[string]string{"If-Match": "*"}, ""},
		{"If-Match that does not", map[string]string{"If-Match": `"x"`}, "PreconditionFailed"},
		{"If-None-Match that matches", map[string]string{"If-None-Match": etag}, "NotModified"},
		{"If-None-Match weak", map[string]string{"If-None-Match": `W/"abc"`}, "NotModified"},
		{"If-None-Match that does not", map[string]string{"If-None-Match": `"x"`}, ""},
		{"If-Modified-Since earlier", map[string]string{"If-Modified-Since": before}, ""},
		{"If-Modified-Since the same second", map[string]string{"If-Modified-Since": at}, "NotModified"},
		{"If-Modified-Since later", map[string]string{"If-Modified-Since": after}, "NotModified"},
		{"If-Unmodified-Since earlier", map[string]string{"If-Unmodified-Since": before}, "PreconditionFailed"},
		{"If-Unmodified-Since the same second", map[string]string{"If-Unmodified-Since": at}, ""},
		{"If-Match wins over If-Unmodified-Since", map[string]string{"If-Match": etag, "If-Unmodified-Since": before}, ""},
		{"If-None-Match wins over If-Modified-Since", map[string]string{"If-None-Match": `"x"`, "If-Modified-Since": after}, ""},
		{"a failed If-Match wins over If-None-Match", map[string]string{"If-Match": `"x"`, "If-None-Match": etag}, "PreconditionFailed"},
		{"a malformed date is ignored", map[string]string{"If-Modified-Since": "yesterday"}, ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/b/k", nil)
		for k, v := range tt.header {
			r.Header.Set(k, v)
		}
		err := checkConditions(r, etag, modified)
		got := ""
		if e, ok := err.(*Error); ok {
			got = e.Code
		} else if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestRoute(t *testing.T) {
	tests := []struct {
		host, target string
		bucket, key  string
		hasKey       bool
	}{
		{"127.0.0.1:9000", "/b-s3alias/a/b/c.bam", "b-s3alias", "a/b/c.bam", true},
		{"127.0.0.1:9000", "/b-s3alias/", "b-s3alias", "", false},
		{"127.0.0.1:9000", "/b-s3alias", "b-s3alias", "", false},
		{"127.0.0.1:9000", "/", "", "", false},
		{"127.0.0.1:9000", "/b/a%20b%2Bc", "b", "a b+c", true},
		{"1-2-seqstore-s3alias.localhost:9000", "/a/b.bam", "1-2-seqstore-s3alias", "a/b.bam", true},
		{"1-2-seqstore-s3alias.s3.example.org", "/?list-type=2", "1-2-seqstore-s3alias", "", false},
		// A bare host that ends like an alias is no virtual host.
		{"x-s3alias", "/b/k", "b", "k", true},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.target, nil)
		r.Host = tt.host
		q := &request{r: r}
		route(q)
		if q.bucket != tt.bucket || q.key != tt.key || q.hasKey != tt.hasKey {
			t.Errorf("%s %s: bucket %q key %q (%v); want %q %q (%v)", tt.host, tt.target, q.bucket, q.key, q.hasKey, tt.bucket, tt.key, tt.hasKey)
		}
	}
}

func TestOperationName(t *testing.T) {
	tests := []struct{ method, host, target, want string }{
		{"GET", "h", "/b/k", "s3:GetObject"},
		{"HEAD", "h", "/b/k", "s3:HeadObject"},
		{"GET", "h", "/b?list-type=2", "s3:ListObjectsV2"},
		{"GET", "h", "/b/", "s3:ListObjects"},
		{"GET", "h", "/b?location", "s3:GetBucketLocation"},
		{"HEAD", "h", "/b", "s3:HeadBucket"},
		{"PUT", "h", "/b/k", "s3:Write"},
		{"GET", "x-s3alias.h", "/k", "s3:GetObject"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.target, nil)
		r.Host = tt.host
		if got := OperationName(r); got != tt.want {
			t.Errorf("%s %s%s: %s, want %s", tt.method, tt.host, tt.target, got, tt.want)
		}
	}
}

func TestContinuationTokens(t *testing.T) {
	for _, tc := range []struct {
		kind byte
		s    string
	}{{'k', "a/b/c"}, {'p', "a/"}, {'k', ""}} {
		kind, s, ok := decodeToken(encodeToken(tc.kind, tc.s))
		if !ok || kind != tc.kind || s != tc.s {
			t.Errorf("token of %c %q came back %c %q %v", tc.kind, tc.s, kind, s, ok)
		}
	}
	for _, bad := range []string{"", "!!", encodeToken('x', "a")} {
		if _, _, ok := decodeToken(bad); ok {
			t.Errorf("decodeToken(%q) accepted", bad)
		}
	}
}

// FuzzParseRange: whatever the header, a range it grants lies inside the
// object.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-1", "bytes=-1", "bytes=5-", "bytes=9223372036854775807-", "bytes=-9223372036854775808"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		if size < 0 {
			return
		}
		off, n, _, err := parseRange(h, size)
		if err != nil {
			return
		}
		if off < 0 || n < 0 || off+n > size {
			t.Fatalf("parseRange(%q, %d) = %d, %d: outside the object", h, size, off, n)
		}
	})
}

type oneKey struct{}

func (oneKey) SecretFor(_ context.Context, id string) (string, string, error) {
	if id != "AKID" {
		return "", "", sigv4.ErrUnknownAccessKey
	}
	return "secret", "123456789012", nil
}

// TestUnprovenBodyIsRefused: a request whose signature covers a body that
// was not read is refused before anything is looked up (the handler has no
// backend here; a lookup would fail the request with InternalError).
func TestUnprovenBodyIsRefused(t *testing.T) {
	h := &Handler{Verifier: &sigv4.Verifier{Credentials: oneKey{}, Service: "s3", Region: "us-east-1"}, Region: "us-east-1"}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, forge := range []bool{false, true} {
		r, err := http.NewRequest("GET", srv.URL+"/1-2-seqstore-s3alias/k", strings.NewReader("a body"))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte("a body"))
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, r, hex.EncodeToString(sum[:]), "s3", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		if forge {
			// Another signature: its last hex digit changed.
			a := r.Header.Get("Authorization")
			last := "0"
			if strings.HasSuffix(a, "0") {
				last = "1"
			}
			r.Header.Set("Authorization", a[:len(a)-1]+last)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "<Code>AccessDenied</Code>") {
			t.Errorf("forged %v: %d %s; want 403 AccessDenied", forge, resp.StatusCode, body)
		}
	}
}
