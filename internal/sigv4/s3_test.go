package sigv4

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

func newS3Verifier() *Verifier {
	return &Verifier{Credentials: testKeys, Service: "s3", Region: testRegion, Now: func() time.Time { return testNow }}
}

// s3Sign signs c as the Go SDK's S3 client does: the path encoded once and
// left as it is, the payload hash in X-Amz-Content-Sha256.
func s3Sign(t *testing.T, c clientRequest, payload string, at time.Time) *http.Request {
	t.Helper()
	r := c.build(t)
	r.Header.Set("X-Amz-Content-Sha256", payload)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), testCreds, r, payload, "s3", testRegion, at); err != nil {
		t.Fatal(err)
	}
	return r
}

// s3Presign presigns c as S3 presigned URLs are: UNSIGNED-PAYLOAD, the
// path once encoded.
func s3Presign(t *testing.T, c clientRequest, expires time.Duration, at time.Time) *http.Request {
	t.Helper()
	r := c.build(t)
	q := r.URL.Query()
	q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
	r.URL.RawQuery = q.Encode()
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	u, _, err := signer.PresignHTTP(context.Background(), testCreds, r, unsignedPayload, "s3", testRegion, at)
	if err != nil {
		t.Fatal(err)
	}
	return clientRequest{method: c.method, url: u}.build(t)
}

// TestS3Verification checks the S3 variant: the path signed once and not
// normalised, UNSIGNED-PAYLOAD on bodiless requests, and S3's names for the
// failures.
func TestS3Verification(t *testing.T) {
	key := "/123456789012-1234567890-seqstore-s3alias/123456789012/sequenceStore/1234567890/readSet/1111111111/a%20b%2Bc.bam"
	tests := []struct {
		name    string
		req     func(t *testing.T) *http.Request
		wantS3  string // "" = accepted
		service string // of the verifier; "" = s3
	}{
		{name: "a GET signed over the empty body's hash",
			req: func(t *testing.T) *http.Request {
				return s3Sign(t, clientRequest{method: "GET", url: "http://127.0.0.1:9000" + key}, emptySHA256, testNow)
			}},
		{name: "a GET signed over UNSIGNED-PAYLOAD",
			req: func(t *testing.T) *http.Request {
				return s3Sign(t, clientRequest{method: "GET", url: "http://127.0.0.1:9000" + key, header: http.Header{"Range": {"bytes=0-9"}}}, unsignedPayload, testNow)
			}},
		{name: "a path with double slashes and dot segments is signed as it is",
			req: func(t *testing.T) *http.Request {
				return s3Sign(t, clientRequest{method: "GET", url: "http://localhost/bucket/a//b/../c"}, emptySHA256, testNow)
			}},
		{name: "a listing with a query",
			req: func(t *testing.T) *http.Request {
				return s3Sign(t, clientRequest{method: "GET", url: "http://localhost/bucket?list-type=2&prefix=a%2Fb&delimiter=%2F"}, emptySHA256, testNow)
			}},
		{name: "a presigned GET",
			req: func(t *testing.T) *http.Request {
				return s3Presign(t, clientRequest{method: "GET", url: "http://localhost" + key}, time.Minute, testNow.Add(-30*time.Second))
			}},
		{name: "an expired presigned GET is AccessDenied",
			req: func(t *testing.T) *http.Request {
				return s3Presign(t, clientRequest{method: "GET", url: "http://localhost" + key}, time.Minute, testNow.Add(-2*time.Minute))
			}, wantS3: S3CodeAccessDenied},
		{name: "a stale header signature is RequestTimeTooSkewed",
			req: func(t *testing.T) *http.Request {
				return s3Sign(t, clientRequest{method: "GET", url: "http://localhost" + key}, emptySHA256, testNow.Add(-time.Hour))
			}, wantS3: S3CodeRequestTimeTooSkewed},
		{name: "a wrong secret is SignatureDoesNotMatch",
			req: func(t *testing.T) *http.Request {
				r := s3Sign(t, clientRequest{method: "GET", url: "http://localhost" + key}, emptySHA256, testNow)
				r.URL.Path += "x"
				r.URL.RawPath = ""
				return r
			}, wantS3: S3CodeSignatureDoesNotMatch},
		{name: "a credential scoped to omics is AuthorizationHeaderMalformed",
			req: func(t *testing.T) *http.Request {
				return goSign(t, clientRequest{method: "GET", url: "http://localhost" + key}, "")
			}, wantS3: S3CodeAuthorizationHeaderMalformed},
		{name: "an omics verifier still refuses the S3 scope",
			req: func(t *testing.T) *http.Request {
				return s3Sign(t, clientRequest{method: "GET", url: "http://localhost" + key}, emptySHA256, testNow)
			}, service: "omics", wantS3: S3CodeAuthorizationHeaderMalformed},
		{name: "a presigned URL missing X-Amz-Expires is AuthorizationQueryParametersError",
			req: func(t *testing.T) *http.Request {
				return clientRequest{method: "GET", url: "http://localhost/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00"}.build(t)
			}, wantS3: S3CodeAuthorizationQueryError},
		{name: "no signature at all is AccessDenied",
			req: func(t *testing.T) *http.Request {
				return clientRequest{method: "GET", url: "http://localhost/b/k"}.build(t)
			}, wantS3: S3CodeAccessDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newS3Verifier()
			if tt.service != "" {
				v.Service = tt.service
			}
			r := onWire(t, tt.req(t), nil)
			id, err := v.Verify(r, Options{AllowUnsignedPayload: true})
			if tt.wantS3 == "" {
				if err != nil || id.AccountID != testAccount {
					t.Fatalf("Verify = %+v, %v; want account %s", id, err, testAccount)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("Verify = %v; want an *Error", err)
			}
			if e.S3Code() != tt.wantS3 {
				t.Fatalf("S3Code = %s (%v); want %s", e.S3Code(), e, tt.wantS3)
			}
		})
	}
}

// TestOmicsStillRefusesUnsignedPayloadOnGet keeps the omics listener as
// strict as it was: a GET over UNSIGNED-PAYLOAD is refused there.
func TestOmicsStillRefusesUnsignedPayloadOnGet(t *testing.T) {
	r := clientRequest{method: "GET", url: "http://localhost/sequencestores", header: http.Header{"X-Amz-Content-Sha256": {unsignedPayload}}}.build(t)
	if err := v4.NewSigner().SignHTTP(context.Background(), testCreds, r, unsignedPayload, "omics", testRegion, testNow); err != nil {
		t.Fatal(err)
	}
	if _, err := newVerifier().Verify(onWire(t, r, nil), Options{}); errCode(err) != CodeInvalidSignature {
		t.Fatalf("Verify = %v; want %s", err, CodeInvalidSignature)
	}
}
