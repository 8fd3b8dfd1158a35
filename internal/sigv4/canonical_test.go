package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestAWSTestSuiteVectors verifies two requests of AWS's published SigV4
// test suite (get-vanilla and get-vanilla-query-order-key-case), whose
// signatures are in AWS's documentation; botocore gives the same.
func TestAWSTestSuiteVectors(t *testing.T) {
	tests := []struct{ name, target, signature string }{
		{"get-vanilla", "/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"get-vanilla-query-order-key-case", "/?Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "https://example.amazonaws.com"+tt.target, nil)
			r.Header.Set("X-Amz-Date", "20150830T123600Z")
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature="+tt.signature)
			v := &Verifier{Credentials: testKeys, Service: "service", Region: "us-east-1",
				Now: func() time.Time { return time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC) }}
			if _, err := v.Verify(onWire(t, r, nil), Options{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSigningKey checks the key derivation against AWS's documented example
// ("Derive a signing key", secret wJalr..., 20150830, us-east-1, iam) and
// the hand-rolled HMAC against crypto/hmac.
func TestSigningKey(t *testing.T) {
	k := newSigningKey(testSecret, "20150830", "us-east-1", "iam")
	var key [32]byte
	for i := range key {
		key[i] = k.innerPad[i] ^ 0x36
	}
	if got, want := hex.EncodeToString(key[:]), "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"; got != want {
		t.Fatalf("signing key %s, want %s", got, want)
	}
	for _, msg := range []string{"", "a", strings.Repeat("x", 63), strings.Repeat("y", 64), strings.Repeat("z", 1000)} {
		buf := append(make([]byte, sha256.BlockSize), msg...)
		got := k.sign(buf)
		m := hmac.New(sha256.New, key[:])
		m.Write([]byte(msg))
		if want := m.Sum(nil); !hmac.Equal(got[:], want) {
			t.Errorf("HMAC of %d bytes: %x, want %x", len(msg), got, want)
		}
	}
}

// TestCanonicalURIMatchesBotocore compares the canonical URI of paths as
// sent with what botocore makes of them: quote(normalize_url_path(path),
// safe='/~').
func TestCanonicalURIMatchesBotocore(t *testing.T) {
	py := requireBotocore(t)
	paths := []string{
		"/", "", "/sequencestore/1234567890", "/tags/" + testARNPath, "/a/./b/../c", "/a//b", "//a", "/a/b/", "/a/b/..", "/a/b/../",
		"/..", "/../a", "/./", "/a/.", "/a/%2E%2E/b", "/a%20b/c~d", "/a+b/c!d*e", "/%7Euser", "/s3accesspolicy/arn%3Aaws%3As3%3Aus-east-1%3A1%3Aaccesspoint%2Fx",
		"a/b", "/ü/%C3%BC",
	}
	in, _ := json.Marshal(paths)
	script := `import json, sys
from botocore.utils import normalize_url_path
from botocore.compat import quote
print(json.dumps([quote(normalize_url_path(p), safe="/~") for p in json.load(sys.stdin)]))`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		if got := string(appendCanonicalURI(nil, normalizePath(p))); got != want[i] {
			t.Errorf("canonical URI of %q: %q, botocore %q", p, got, want[i])
		}
	}
}

func TestNormalizePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/sequencestore/1", "/sequencestore/1"},
		{"/a/./b/../c", "/a/c"},
		{"/a//b/", "/a/b/"},
		{"/..", "/"},
		{"/a/b/..", "/a"},
		{"/a/%2E%2E/b", "/a/%2E%2E/b"},
		{"/.hidden", "/.hidden"},
	}
	for _, tt := range tests {
		if got := normalizePath(tt.in); got != tt.want {
			t.Errorf("normalizePath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		raw  string
		want string // canonical query
	}{
		{"", ""},
		{"b=2&a=1", "a=1&b=2"},
		{"tagKeys=b&tagKeys=a&tagKeys=a", "tagKeys=a&tagKeys=a&tagKeys=b"},
		{"max-x=1&max=2&max=10", "max=10&max=2&max-x=1"},
		{"a&&b=", "a=&b="},
		{"k=a+b", "k=a%20b"},
		{"k=%7e%2a%2F", "k=~%2A%2F"},
		{"k=caf%C3%A9", "k=caf%C3%A9"},
		{"k=é", "k=%C3%A9"},
		{"%41=1", "A=1"},
	}
	for _, tt := range tests {
		params, err := parseQuery(nil, tt.raw)
		if err != nil {
			t.Errorf("parseQuery(%q): %v", tt.raw, err)
			continue
		}
		sortQuery(params)
		if got := string(appendCanonicalQuery(nil, params, "")); got != tt.want {
			t.Errorf("canonical query of %q = %q, want %q", tt.raw, got, tt.want)
		}
	}
	_, err := parseQuery(nil, "a=1&b=%4")
	checkRejection(t, err, CodeIncompleteSignature, "the query string has a malformed percent-encoding at byte 6")
}
