package sigv4

import (
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzParseAuthorization feeds the Authorization parser arbitrary values:
// it must not panic, it must only fail with IncompleteSignatureException,
// and what it accepts must be complete and survive a round trip.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/omics/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date, Signature=a030bfb0c4c350833e6451cba654963e0675845c086de0fe20e50a4967f72edf")
	f.Add("AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/omics/aws4_request,SignedHeaders=host;x-amz-date,Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
	f.Add("AWS4-HMAC-SHA256 Signature=00, Credential=/, SignedHeaders=")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f, SignedHeaders=host;;x, Signature=zz")
	f.Add("AWS AKIDEXAMPLE:signature")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		c, err := parseAuthorization(h)
		if err != nil {
			if got, want := errCode(err), CodeIncompleteSignature; got != want {
				t.Fatalf("parseAuthorization(%q) failed with %v, want %s", h, err, want)
			}
			return
		}
		if c.accessKey == "" || c.region == "" || c.service == "" || len(c.date) != 8 || !strings.Contains(";"+strings.ToLower(c.signedHeaders)+";", ";host;") {
			t.Fatalf("accepted %q with missing parts: %+v", h, c)
		}
		again := "AWS4-HMAC-SHA256 Credential=" + c.accessKey + "/" + c.date + "/" + c.region + "/" + c.service + "/aws4_request, SignedHeaders=" +
			c.signedHeaders + ", Signature=" + hex.EncodeToString(c.signature[:])
		c2, err := parseAuthorization(again)
		if err != nil || c2 != c {
			t.Fatalf("%q reparsed as %q gives %+v, %v; want %+v", h, again, c2, err, c)
		}
	})
}

// FuzzParseQuery: the query parser never panics, fails only with
// IncompleteSignatureException, and its canonical form is a fixed point
// (canonicalising a canonical query changes nothing).
func FuzzParseQuery(f *testing.F) {
	f.Add("maxResults=5&nextToken=abc%2Fdef%3D")
	f.Add("tagKeys=b&tagKeys=a&X-Amz-Signature=00")
	f.Add("a+b=%7e&&=&%zz")
	f.Add("k=%C3%A9&k=é")
	f.Fuzz(func(t *testing.T, raw string) {
		params, err := parseQuery(nil, raw)
		if err != nil {
			if got, want := errCode(err), CodeIncompleteSignature; got != want {
				t.Fatalf("parseQuery(%q): %v, want %s", raw, err, want)
			}
			return
		}
		sortQuery(params)
		canon := string(appendCanonicalQuery(nil, params, ""))
		again, err := parseQuery(nil, canon)
		if err != nil {
			t.Fatalf("the canonical query %q of %q does not parse: %v", canon, raw, err)
		}
		sortQuery(again)
		if got := string(appendCanonicalQuery(nil, again, "")); got != canon {
			t.Fatalf("canonical query of %q is %q, and of that %q", raw, canon, got)
		}
	})
}

// FuzzNormalizePath: normalising twice changes nothing, and the result has
// no empty or dot segments left.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"/", "/a/./b/../c", "//a//", "/..", "a/b", "/tags/" + testARNPath} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		n := normalizePath(p)
		if again := normalizePath(n); again != n {
			t.Fatalf("normalizePath(%q) = %q, and of that %q", p, n, again)
		}
		if strings.Contains(n, "//") || strings.Contains(n+"/", "/./") || strings.Contains(n+"/", "/../") {
			t.Fatalf("normalizePath(%q) = %q keeps empty or dot segments", p, n)
		}
	})
}

// FuzzVerify runs whole verifications of arbitrary Authorization values,
// dates, paths and queries: Verify must not panic and must answer with an
// *Error.
func FuzzVerify(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/omics/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		"20261128T120000Z", "/tags/"+testARNPath, "tagKeys=a&tagKeys=b")
	f.Add("", "", "/", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261128%2Fus-east-1%2Fomics%2Faws4_request&X-Amz-Date=20261128T120000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00")
	v := newVerifier()
	f.Fuzz(func(t *testing.T, authz, date, path, query string) {
		r := &http.Request{Method: "GET", Host: "control-storage-localhost", Header: http.Header{}, RequestURI: "/" + path + "?" + query}
		r.URL = &url.URL{}
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		r.Header.Set("X-Amz-Date", date)
		_, err := v.Verify(r, Options{})
		if errCode(err) == "" || strings.HasPrefix(errCode(err), "not *Error") {
			t.Fatalf("Verify gave %v", err)
		}
	})
}
