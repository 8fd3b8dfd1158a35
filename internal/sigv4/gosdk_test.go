package sigv4

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestGoSignerHeaderAuthIsAccepted signs requests shaped like the omics
// operations with the Go SDK's own signer and checks that the server side
// of the wire verifies them and hands the body on unchanged.
func TestGoSignerHeaderAuthIsAccepted(t *testing.T) {
	part := strings.Repeat("@r\nACGTACGTNN\n+\nIIIIIIIIII\n", 1<<16) // 1.6 MiB
	tests := []struct {
		name    string
		req     clientRequest
		payload string // "" = the body's SHA-256
		claim   bool   // send the payload hash in X-Amz-Content-Sha256
		opts    Options
	}{
		{name: "a GET with a path label and a host prefix and port",
			req: clientRequest{method: "GET", url: "http://control-storage-127.0.0.1:9393/sequencestore/1234567890/readset/1234567890/metadata"}},
		{name: "a POST list with query and JSON body",
			req: clientRequest{method: "POST", url: "http://control-storage-localhost:9393/sequencestore/1234567890/readsets?maxResults=5&nextToken=abc%2Fdef%3D%3D", body: `{"filter":{"status":"ACTIVE"}}`,
				header: http.Header{"Content-Type": {"application/json"}}}},
		{name: "the same with X-Amz-Content-Sha256",
			req: clientRequest{method: "POST", url: "http://control-storage-localhost:9393/sequencestore/1234567890/readsets?maxResults=5", body: `{"filter":{"status":"ACTIVE"}}`,
				header: http.Header{"Content-Type": {"application/json"}}}, claim: true},
		{name: "a percent-encoded ARN in the path",
			req: clientRequest{method: "POST", url: "http://tags-localhost:9393/tags/" + testARNPath, body: `{"tags":{"a":"b"}}`}},
		{name: "repeated query keys, out of order",
			req: clientRequest{method: "DELETE", url: "http://tags-localhost:9393/tags/" + testARNPath + "?tagKeys=zeta&tagKeys=alpha&tagKeys=mid%20dle"}},
		{name: "query values with reserved characters, a space and a plus",
			req: clientRequest{method: "GET", url: "http://control-storage-localhost/sequencestores?nextToken=a%2Bb%20c%21%2A%27%28%29~._-&maxResults=1"}},
		{name: "a query name without value",
			req: clientRequest{method: "GET", url: "http://control-storage-localhost/sequencestores?flag&maxResults=1"}},
		{name: "an UNSIGNED-PAYLOAD part upload",
			req: clientRequest{method: "PUT", url: "http://storage-localhost:9393/sequencestore/1234567890/upload/1111111111/part?partSource=SOURCE1&partNumber=1", body: part,
				header: http.Header{"Content-Type": {"application/octet-stream"}}},
			payload: unsignedPayload, claim: true, opts: Options{AllowUnsignedPayload: true}},
		{name: "a part upload with its SHA-256 in X-Amz-Content-Sha256, streamed",
			req:   clientRequest{method: "PUT", url: "http://storage-localhost:9393/sequencestore/1234567890/upload/1111111111/part?partSource=SOURCE2&partNumber=2", body: part},
			claim: true, opts: Options{AllowUnsignedPayload: true}},
		{name: "a part upload signed over its SHA-256 without the header (checked at the end)",
			req:  clientRequest{method: "PUT", url: "http://storage-localhost:9393/sequencestore/1234567890/upload/1111111111/part?partSource=SOURCE1&partNumber=3", body: part},
			opts: Options{AllowUnsignedPayload: true}},
		{name: "a chunked part upload signed over its SHA-256",
			req:  clientRequest{method: "PUT", url: "http://storage-localhost/sequencestore/1234567890/upload/1111111111/part?partSource=SOURCE1&partNumber=4", body: "ACGT", contentLength: -1},
			opts: Options{AllowUnsignedPayload: true}},
		{name: "a chunked JSON body",
			req: clientRequest{method: "POST", url: "http://control-storage-localhost/sequencestore", body: `{"name":"x"}`, contentLength: -1}},
		{name: "a POST with an empty body",
			req: clientRequest{method: "POST", url: "http://control-storage-localhost/sequencestores"}},
		{name: "a session token, signed",
			req: clientRequest{method: "GET", url: "http://control-storage-localhost/sequencestore/1234567890",
				header: http.Header{"X-Amz-Security-Token": {"FwoGZXIvYXdzEBYaDH+token/=="}}}},
		{name: "header values with runs of spaces and a repeated header",
			req: clientRequest{method: "GET", url: "http://control-storage-localhost/sequencestore/1234567890",
				header: http.Header{"X-Amz-Meta-Note": {"  two   spaces  here ", "second"}, "Amz-Sdk-Request": {"attempt=1; max=3"}}}},
		{name: "dot segments in the path, signed as sent",
			req: clientRequest{method: "GET", url: "http://control-storage-localhost/sequencestore/./1234567890/x/../readset"}},
		{name: "the root path",
			req: clientRequest{method: "GET", url: "http://control-storage-localhost/"}},
		{name: "a default port stripped by the signer",
			req: clientRequest{method: "GET", url: "https://control-storage-omics.us-east-1.amazonaws.com:443/sequencestore/1234567890"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := tt.payload
			if payload == "" {
				payload = sha256Hex([]byte(tt.req.body))
			}
			if tt.claim {
				if tt.req.header == nil {
					tt.req.header = http.Header{}
				}
				tt.req.header.Set("X-Amz-Content-Sha256", payload)
			}
			r := onWire(t, goSign(t, tt.req, payload), nil)
			id, body, err := verifyAndRead(newVerifier(), r, tt.opts)
			if err != nil {
				t.Fatalf("verify: %v\nsigned %s", err, r.Header.Get("Authorization"))
			}
			if got, want := id, (Identity{AccessKeyID: testAccessKey, AccountID: testAccount, Deferred: id.Deferred}); got != want {
				t.Errorf("identity %+v, want %+v", got, want)
			}
			wantDeferred := tt.opts.AllowUnsignedPayload && !tt.claim && payload != unsignedPayload && tt.req.body != ""
			if id.Deferred != wantDeferred {
				t.Errorf("Deferred = %v, want %v", id.Deferred, wantDeferred)
			}
			if got, want := string(body), tt.req.body; got != want {
				t.Errorf("the handler read %d bytes, want the %d sent", len(got), len(want))
			}
			if err := CheckBody(r.Body); err != nil {
				t.Errorf("CheckBody: %v", err)
			}
		})
	}
}

// TestCheckBodyReadsWhatTheHandlerLeft: a handler that stops reading early
// (or never starts) still gets a verdict from CheckBody, over the whole
// body.
func TestCheckBodyReadsWhatTheHandlerLeft(t *testing.T) {
	part := strings.Repeat("ACGT", 100_000)
	for _, tamper := range []bool{false, true} {
		c := clientRequest{method: "PUT", body: part, url: "http://storage-localhost/sequencestore/1/upload/2/part?partSource=SOURCE1&partNumber=1"}
		r := goSign(t, c, "")
		var change func(string) string
		if tamper {
			change = func(s string) string { return s[:len(s)-1] + "N" }
		}
		sr := onWire(t, r, change)
		id, err := newVerifier().Verify(sr, Options{AllowUnsignedPayload: true})
		if err != nil || !id.Deferred {
			t.Fatalf("Verify: %+v, %v; want a deferred identity", id, err)
		}
		if _, err := io.ReadFull(sr.Body, make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
		want := ""
		if tamper {
			want = CodeInvalidSignature
		}
		if got := errCode(CheckBody(sr.Body)); got != want {
			t.Errorf("tampered %v: CheckBody gave %q, want %q", tamper, got, want)
		}
	}
	if err := CheckBody(strings.NewReader("not wrapped")); err != nil {
		t.Errorf("CheckBody of a body Verify did not wrap: %v", err)
	}
}

// goPresign returns the server's view of a URL presigned by the Go SDK's
// signer for expires seconds, changed on the way by tamper if it is set.
func goPresign(t testing.TB, rawURL, payloadHash string, expires int, header http.Header, tamper func(string) string) *http.Request {
	t.Helper()
	r, err := http.NewRequest("GET", rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		r.Header[k] = v
	}
	q := r.URL.Query()
	if expires > 0 {
		q.Set("X-Amz-Expires", strconv.Itoa(expires))
	}
	r.URL.RawQuery = q.Encode()
	signed, signedHeader, err := v4.NewSigner().PresignHTTP(context.Background(), testCreds, r, payloadHash, "omics", testRegion, testNow)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := http.NewRequest("GET", signed, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range signedHeader {
		if k != "Host" {
			pr.Header[k] = v
		}
	}
	return onWire(t, pr, tamper)
}

func TestGoSignerPresignedURLIsAccepted(t *testing.T) {
	tests := []struct {
		name, url, payload string
		header             http.Header
	}{
		{"GetReadSet over UNSIGNED-PAYLOAD", "http://storage-localhost:9393/sequencestore/1234567890/readset/1234567890?partNumber=1&file=SOURCE1", unsignedPayload, nil},
		{"a GET over the empty body's hash", "http://control-storage-localhost:9393/sequencestore/1234567890/readset/1234567890/metadata", emptySHA256, nil},
		{"an ARN path with repeated keys", "http://tags-localhost/tags/" + testARNPath + "?tagKeys=b&tagKeys=a", unsignedPayload, nil},
		{"a session token hoisted into the query", "http://control-storage-localhost/sequencestore/1", unsignedPayload, http.Header{"X-Amz-Security-Token": {"tok/en=="}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := goPresign(t, tt.url, tt.payload, 300, tt.header, nil)
			id, err := newVerifier().Verify(r, Options{})
			if err != nil {
				t.Fatalf("verify %s: %v", r.RequestURI, err)
			}
			if got, want := id.AccountID, testAccount; got != want {
				t.Errorf("account %q, want %q", got, want)
			}
			// Still valid at the last second, expired a second later.
			v := newVerifier()
			v.Now = func() time.Time { return testNow.Add(300 * time.Second) }
			if _, err := v.Verify(r, Options{}); err != nil {
				t.Errorf("at expiry: %v", err)
			}
			v.Now = func() time.Time { return testNow.Add(301 * time.Second) }
			_, err = v.Verify(r, Options{})
			if got, want := errCode(err), CodeInvalidSignature; got != want {
				t.Fatalf("a second after expiry: %v, want %s", err, want)
			}
			if got, want := err.(*Error).Message(), "Signature expired: 20261128T120000Z is now earlier than 20261128T120001Z (20261128T120501Z - 300 sec.)"; got != want {
				t.Errorf("message %q\nwant     %q", got, want)
			}
		})
	}
}

// TestGoOmicsClientIsAccepted drives the real omics client of the Go SDK,
// host prefixes and all, against a server that verifies every request.
func TestGoOmicsClientIsAccepted(t *testing.T) {
	srv := newRecordingServer(t, newVerifier())
	client := newGoOmicsClient(t, srv)
	ctx := context.Background()
	part := bytes.Repeat([]byte("ACGT"), 1<<18)
	calls := runGoOmicsCalls(ctx, client, part)
	srv.check(t, calls, len(part))
}

// goOmicsCredentials is the SDK's static credentials provider.
var goOmicsCredentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return testCreds, nil })
