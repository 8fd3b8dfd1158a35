package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// memKeys is a CredentialStore over a map: access key -> {secret, account}.
type memKeys map[string][2]string

func (k memKeys) SecretFor(_ context.Context, id string) (string, string, error) {
	v, ok := k[id]
	if !ok {
		return "", "", errors.Join(ErrUnknownAccessKey, errors.New(id))
	}
	return v[0], v[1], nil
}

const (
	testAccessKey = "AKIDEXAMPLE"
	testSecret    = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testAccount   = "123456789012"
	testRegion    = "us-east-1"
	// testARN is a sequence store ARN as clients put it in a path label.
	testARNPath = "arn%3Aaws%3Aomics%3Aus-east-1%3A123456789012%3AsequenceStore%2F1234567890"
)

var (
	testKeys  = memKeys{testAccessKey: {testSecret, testAccount}}
	testNow   = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	testCreds = aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret}
)

func newVerifier() *Verifier {
	return &Verifier{Credentials: testKeys, Service: "omics", Region: testRegion, Now: func() time.Time { return testNow }}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// clientRequest is a request as an SDK builds it before signing.
type clientRequest struct {
	method, url, body string
	host              string // Host header; empty means the URL's host
	header            http.Header
	contentLength     int64 // -1: unknown (chunked); 0: len(body)
}

func (c clientRequest) build(t testing.TB) *http.Request {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	r, err := http.NewRequest(c.method, c.url, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.host != "" {
		r.Host = c.host
	}
	if c.contentLength < 0 {
		r.ContentLength = -1
		r.Body = io.NopCloser(strings.NewReader(c.body)) // hides the length from req.Write
	}
	for k, vs := range c.header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	return r
}

// goSign signs c with the Go SDK's signer over payloadHash ("" means the
// body's SHA-256), at testNow unless at is set.
func goSign(t testing.TB, c clientRequest, payloadHash string, at ...time.Time) *http.Request {
	t.Helper()
	r := c.build(t)
	if payloadHash == "" {
		payloadHash = sha256Hex([]byte(c.body))
	}
	when := testNow
	if len(at) > 0 {
		when = at[0]
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), testCreds, r, payloadHash, "omics", testRegion, when); err != nil {
		t.Fatal(err)
	}
	return r
}

// onWire returns the request the server sees when the client sends r:
// r is written in HTTP/1.1 wire form, optionally changed by tamper (which
// stands for anything between client and server), and parsed back as
// net/http's server parses requests.
func onWire(t testing.TB, r *http.Request, tamper func(string) string) *http.Request {
	t.Helper()
	var wire bytes.Buffer
	if err := r.Write(&wire); err != nil {
		t.Fatal(err)
	}
	text := wire.String()
	if tamper != nil {
		text = tamper(text)
	}
	sr, err := http.ReadRequest(bufio.NewReader(strings.NewReader(text)))
	if err != nil {
		t.Fatalf("the tampered request does not parse: %v\n%s", err, text)
	}
	return sr
}

// errCode is the AWS code of a verification error, "" for none, and
// "not *Error" for other errors.
func errCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return "not *Error: " + err.Error()
}

// verifyAndRead verifies r and reads its body through, as a handler would.
func verifyAndRead(v *Verifier, r *http.Request, o Options) (Identity, []byte, error) {
	id, err := v.Verify(r, o)
	if err != nil {
		return id, nil, err
	}
	if r.Body == nil {
		return id, nil, nil
	}
	body, err := io.ReadAll(r.Body)
	return id, body, err
}
