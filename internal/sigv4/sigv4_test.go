package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/seqstore/seqstore/internal/testutil"
)

type keys map[string][2]string // access key -> secret, account

func (k keys) SecretFor(_ context.Context, id string) (string, string, error) {
	v, ok := k[id]
	if !ok {
		return "", "", ErrUnknownAccessKey
	}
	return v[0], v[1], nil
}

var (
	testKeys = keys{"AKIDEXAMPLE": {"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "123456789012"}}
	testNow  = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
)

func newVerifier() *Verifier {
	return &Verifier{Credentials: testKeys, Service: "omics", Region: "us-east-1", Now: func() time.Time { return testNow }}
}

// goSigned builds a request signed by the Go SDK's signer the way the omics
// client signs: the body's hash, or UNSIGNED-PAYLOAD, in X-Amz-Content-Sha256.
func goSigned(t *testing.T, method, target, body string, unsigned bool, mutate func(*http.Request)) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Host = "control-storage-127.0.0.1:9393"
	r.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256([]byte(body))
	hash := hex.EncodeToString(sum[:])
	if unsigned {
		hash = "UNSIGNED-PAYLOAD"
		r.Header.Set("X-Amz-Content-Sha256", hash)
	}
	// httptest requests carry RequestURI, which the signer rejects.
	r.RequestURI = ""
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: testKeys["AKIDEXAMPLE"][0]}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hash, "omics", "us-east-1", testNow); err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(r)
	}
	return r
}

func TestVerifyAcceptsGoSDKSignatures(t *testing.T) {
	tests := []struct {
		name, method, target, body string
		unsigned                   bool
	}{
		{"a GET with a path label", "GET", "/sequencestore/1234567890", "", false},
		{"a POST with query and body", "POST", "/sequencestores?maxResults=5&nextToken=abc%2Fdef%3D", `{"filter":{"name":"x"}}`, false},
		{"a percent-encoded ARN", "POST", "/tags/arn%3Aaws%3Aomics%3Aus-east-1%3A123456789012%3AsequenceStore%2F1234567890", `{"tags":{"a":"b"}}`, false},
		{"repeated query keys", "DELETE", "/tags/arn%3Aaws%3Aomics%3Aus-east-1%3A123456789012%3AsequenceStore%2F1234567890?tagKeys=b&tagKeys=a", "", false},
		{"an unsigned part upload", "PUT", "/sequencestore/1234567890/upload/1111111111/part?partSource=SOURCE1&partNumber=1", "@r\nACGT\n+\n!!!!\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := goSigned(t, tt.method, tt.target, tt.body, tt.unsigned, nil)
			id, err := newVerifier().Verify(r, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if id.AccountID != "123456789012" || id.AccessKeyID != "AKIDEXAMPLE" {
				t.Fatalf("identity %+v", id)
			}
			got, _ := io.ReadAll(r.Body)
			if string(got) != tt.body {
				t.Fatalf("body after verify %q, want %q", got, tt.body)
			}
		})
	}
}

func TestVerifyPresigned(t *testing.T) {
	r := httptest.NewRequest("GET", "/sequencestore/1234567890/readset/1234567890?partNumber=1&file=SOURCE1", nil)
	r.Host = "storage-localhost:9393"
	r.RequestURI = ""
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: testKeys["AKIDEXAMPLE"][0]}
	q := r.URL.Query()
	q.Set("X-Amz-Expires", "300")
	r.URL.RawQuery = q.Encode()
	url, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, r, "UNSIGNED-PAYLOAD", "omics", "us-east-1", testNow)
	if err != nil {
		t.Fatal(err)
	}
	pr := httptest.NewRequest("GET", url, nil)
	pr.Host = r.Host
	if _, err := newVerifier().Verify(pr, Options{}); err != nil {
		t.Fatalf("fresh presigned URL: %v", err)
	}
	late := newVerifier()
	late.Now = func() time.Time { return testNow.Add(10 * time.Minute) }
	if _, err := late.Verify(pr, Options{}); code(err) != CodeInvalidSignature {
		t.Fatalf("expired presigned URL: %v", err)
	}
	tampered := httptest.NewRequest("GET", strings.Replace(url, "partNumber=1", "partNumber=2", 1), nil)
	tampered.Host = r.Host
	if _, err := newVerifier().Verify(tampered, Options{}); code(err) != CodeInvalidSignature {
		t.Fatalf("tampered presigned URL: %v", err)
	}
}

func code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return ""
}

func TestVerifyRejects(t *testing.T) {
	body := `{"name":"x"}`
	tests := []struct {
		name     string
		mutate   func(*http.Request)
		verifier func(*Verifier)
		want     string
	}{
		{"no authentication", func(r *http.Request) { r.Header.Del("Authorization") }, nil, CodeMissingAuthenticationToken},
		{"a malformed header", func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 garbage") }, nil, CodeIncompleteSignature},
		{"another algorithm", func(r *http.Request) { r.Header.Set("Authorization", "AWS3 x") }, nil, CodeIncompleteSignature},
		{"an unknown key", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AKIDEXAMPLE", "AKIDOTHER", 1))
		}, nil, CodeUnrecognizedClient},
		{"a tampered path", func(r *http.Request) { r.URL.Path = "/sequencestore/9999999999"; r.URL.RawPath = "" }, nil, CodeInvalidSignature},
		{"a tampered query", func(r *http.Request) { r.URL.RawQuery = "maxResults=6" }, nil, CodeInvalidSignature},
		{"a tampered header", func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, nil, CodeInvalidSignature},
		{"another host", func(r *http.Request) { r.Host = "evil:9393" }, nil, CodeInvalidSignature},
		{"a tampered body", func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader(`{"name":"y"}`)) }, nil, CodeInvalidSignature},
		{"another region", nil, func(v *Verifier) { v.Region = "eu-west-1" }, CodeInvalidSignature},
		{"another service", nil, func(v *Verifier) { v.Service = "s3" }, CodeInvalidSignature},
		{"a clock far ahead", nil, func(v *Verifier) { v.Now = func() time.Time { return testNow.Add(16 * time.Minute) } }, CodeInvalidSignature},
		{"a clock far behind", nil, func(v *Verifier) { v.Now = func() time.Time { return testNow.Add(-16 * time.Minute) } }, CodeInvalidSignature},
		{"a wrong secret", nil, func(v *Verifier) {
			v.Credentials = keys{"AKIDEXAMPLE": {"not the secret", "123456789012"}}
		}, CodeInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := goSigned(t, "POST", "/sequencestores?maxResults=5", body, false, tt.mutate)
			v := newVerifier()
			if tt.verifier != nil {
				tt.verifier(v)
			}
			_, err := v.Verify(r, Options{})
			if got := code(err); got != tt.want {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
			var e *Error
			if errors.As(err, &e) && e.Status() != http.StatusForbidden {
				t.Fatalf("status %d, want 403", e.Status())
			}
		})
	}
}

func TestStreamedBodyMustMatchItsSignedHash(t *testing.T) {
	big := bytes.Repeat([]byte("ACGT"), 1<<19) // 2 MiB, over the buffering limit
	sum := sha256.Sum256(big)
	r := httptest.NewRequest("PUT", "/sequencestore/1234567890/upload/1111111111/part?partSource=SOURCE1&partNumber=1", bytes.NewReader(big))
	r.Host = "storage-localhost"
	r.RequestURI = ""
	r.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: testKeys["AKIDEXAMPLE"][0]}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "omics", "us-east-1", testNow); err != nil {
		t.Fatal(err)
	}
	corrupt := append([]byte(nil), big...)
	corrupt[len(corrupt)-1] = 'N'
	r.Body = io.NopCloser(bytes.NewReader(corrupt))
	if _, err := newVerifier().Verify(r, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r.Body); code(err) != CodeInvalidSignature {
		t.Fatalf("reading a body that differs from its signed hash: %v", err)
	}
}

func TestUnsignedPayloadWithoutHeader(t *testing.T) {
	// The JavaScript SDK signs a streamed upload as UNSIGNED-PAYLOAD and
	// sends no X-Amz-Content-Sha256.
	jsSigned := func() *http.Request {
		r := httptest.NewRequest("PUT", "/sequencestore/1234567890/upload/1111111111/part?partSource=SOURCE1&partNumber=1", strings.NewReader("ACGT"))
		r.Host = "storage-localhost"
		r.RequestURI = ""
		creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: testKeys["AKIDEXAMPLE"][0]}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, "UNSIGNED-PAYLOAD", "omics", "us-east-1", testNow); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if _, err := newVerifier().Verify(jsSigned(), Options{}); code(err) != CodeInvalidSignature {
		t.Fatalf("without permission: %v", err)
	}
	if _, err := newVerifier().Verify(jsSigned(), Options{AllowUnsignedPayload: true}); err != nil {
		t.Fatalf("with permission: %v", err)
	}
}

func TestVerifyAcceptsBotocoreSignatures(t *testing.T) {
	py := testutil.RequireTool(t, "python3")
	if exec.Command(py, "-c", "import botocore").Run() != nil {
		if testutil.InCI() {
			t.Fatal("botocore is not importable")
		}
		t.Skip("botocore is not importable")
	}
	tests := []struct{ method, url, body string }{
		{"GET", "http://control-storage-localhost:9393/sequencestore/1234567890/readset/1234567890/metadata", ""},
		{"POST", "http://tags-localhost:9393/tags/arn%3Aaws%3Aomics%3Aus-east-1%3A123456789012%3AsequenceStore%2F1234567890", `{"tags": {"a": "b"}}`},
		{"DELETE", "http://tags-localhost:9393/tags/arn%3Aaws%3Aomics%3Aus-east-1%3A123456789012%3AsequenceStore%2F1234567890?tagKeys=k&tagKeys=k2", ""},
		{"POST", "http://control-storage-localhost:9393/sequencestore/1234567890/readsets?maxResults=5", `{"filter": {"createdAfter": "2024-01-02T03:04:05Z"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.url, func(t *testing.T) {
			spec, _ := json.Marshal(map[string]any{"method": tt.method, "url": tt.url, "body": tt.body, "accessKey": "AKIDEXAMPLE",
				"secret": testKeys["AKIDEXAMPLE"][0], "region": "us-east-1", "headers": map[string]string{"Content-Type": "application/json"}})
			cmd := exec.Command(py, "testdata/botocore_sign.py")
			cmd.Stdin = bytes.NewReader(spec)
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			var signed struct {
				URL     string
				Headers map[string]string
			}
			json.Unmarshal(out, &signed)
			r := httptest.NewRequest(tt.method, signed.URL, strings.NewReader(tt.body))
			for k, v := range signed.Headers {
				r.Header.Set(k, v)
			}
			v := newVerifier()
			v.Now = time.Now
			if _, err := v.Verify(r, Options{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/omics/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	f.Add("AWS4-HMAC-SHA256 Credential=/, SignedHeaders=, Signature=")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err == nil && (a.accessKey == "" || a.signature == "" || len(a.signedHeaders) == 0) {
			t.Fatalf("accepted %q with empty parts: %+v", h, a)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	v := newVerifier()
	t := &testing.T{}
	r := goSigned(t, "GET", "/sequencestore/1234567890", "", false, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
