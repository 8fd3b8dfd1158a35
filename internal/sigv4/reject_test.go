package sigv4

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// replace returns a tamper function that replaces the first old by new in
// the wire text of a request.
func replace(old, new string) func(string) string {
	return func(s string) string { return strings.Replace(s, old, new, 1) }
}

// replaceHeader returns a tamper function that sets header line name (all
// of its occurrences) to value, or removes it when value is "".
func replaceHeader(name, value string) func(string) string {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `: [^\r]*\r\n`)
	return func(s string) string {
		line := ""
		if value != "" {
			line = name + ": " + value + "\r\n"
		}
		done := false
		return re.ReplaceAllStringFunc(s, func(string) string {
			if done {
				return ""
			}
			done = true
			return line
		})
	}
}

// rejectCase is a request that must fail: signed by the Go SDK, changed on
// the wire by tamper, verified by a verifier changed by setup.
type rejectCase struct {
	name    string
	req     *clientRequest // nil: baseRequest
	payload string         // the hash signed; "" = the body's
	claim   bool           // send X-Amz-Content-Sha256
	tamper  func(string) string
	setup   func(*Verifier)
	opts    Options
	code    string // "" = must verify
	message string // when set, the exact message
}

var baseRequest = clientRequest{method: "POST", body: `{"filter":{"status":"ACTIVE"}}`,
	url:    "http://control-storage-localhost:9393/sequencestore/1234567890/readsets?maxResults=5&tagKeys=a&tagKeys=b",
	header: http.Header{"Content-Type": {"application/json"}}}

func runRejectCases(t *testing.T, tests []rejectCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := baseRequest
			if tt.req != nil {
				c = *tt.req
			}
			c.header = c.header.Clone()
			payload := tt.payload
			if payload == "" {
				payload = sha256Hex([]byte(c.body))
			}
			if tt.claim {
				if c.header == nil {
					c.header = http.Header{}
				}
				c.header.Set("X-Amz-Content-Sha256", payload)
			}
			r := onWire(t, goSign(t, c, payload), func(s string) string {
				if tt.tamper == nil {
					return s
				}
				out := tt.tamper(s)
				if out == s {
					t.Fatalf("the tampering changed nothing in\n%s", s)
				}
				return out
			})
			v := newVerifier()
			if tt.setup != nil {
				tt.setup(v)
			}
			_, _, err := verifyAndRead(v, r, tt.opts)
			checkRejection(t, err, tt.code, tt.message)
		})
	}
}

// checkRejection checks err's code, message and status.
func checkRejection(t *testing.T, err error, code, message string) {
	t.Helper()
	if got, want := errCode(err), code; got != want {
		t.Fatalf("got %v, want code %q", err, want)
	}
	if err == nil {
		return
	}
	e := err.(*Error)
	if message != "" && e.Message() != message {
		t.Errorf("message %q\nwant    %q", e.Message(), message)
	}
	wantStatus := http.StatusForbidden
	if code == CodeRequestEntityTooLarge {
		wantStatus = http.StatusRequestEntityTooLarge
	}
	if got := e.Status(); got != wantStatus {
		t.Errorf("status %d, want %d", got, wantStatus)
	}
	if got, want := e.Error(), e.Code()+": "+e.Message(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestHeaderAuthRejects(t *testing.T) {
	goodAuth := func(s string) string { // the Authorization value in s
		_, rest, _ := strings.Cut(s, "Authorization: ")
		v, _, _ := strings.Cut(rest, "\r\n")
		return v
	}
	setAuth := func(f func(string) string) func(string) string {
		return func(s string) string { return replaceHeader("Authorization", f(goodAuth(s)))(s) }
	}
	arnRequest := clientRequest{method: "POST", url: "http://tags-localhost:9393/tags/" + testARNPath, body: `{"tags":{"a":"b"}}`}
	streamed := clientRequest{method: "PUT", body: strings.Repeat("ACGT", 1000),
		url: "http://storage-localhost:9393/sequencestore/1234567890/upload/1111111111/part?partSource=SOURCE1&partNumber=1"}
	tests := []rejectCase{
		{name: "the untouched request verifies"},
		{name: "query pairs in another order verify", tamper: replace("?maxResults=5&tagKeys=a&tagKeys=b", "?tagKeys=b&maxResults=5&tagKeys=a")},
		{name: "an unsigned header changed verifies", tamper: replaceHeader("User-Agent", "curl/8")},

		{name: "no authentication at all", tamper: replaceHeader("Authorization", ""),
			code: CodeMissingAuthenticationToken, message: "Missing Authentication Token"},
		{name: "an Authorization without components", tamper: setAuth(func(string) string { return "AWS4-HMAC-SHA256 garbage" }),
			code: CodeIncompleteSignature},
		{name: "an Authorization missing Signature and SignedHeaders",
			tamper: setAuth(func(a string) string { c, _, _ := strings.Cut(a, ","); return c }),
			code:   CodeIncompleteSignature, message: "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."},
		{name: "another algorithm", tamper: setAuth(func(a string) string { return strings.Replace(a, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1) }),
			code: CodeIncompleteSignature},
		{name: "a short signature", tamper: setAuth(func(a string) string { return a[:len(a)-2] }), code: CodeIncompleteSignature},
		{name: "a signature that is not hex", tamper: setAuth(func(a string) string { return a[:len(a)-2] + "zz" }), code: CodeIncompleteSignature},
		{name: "a credential without service", tamper: setAuth(func(a string) string { return strings.Replace(a, "/omics/", "/", 1) }),
			code: CodeIncompleteSignature},
		{name: "a credential with another terminator", tamper: setAuth(func(a string) string { return strings.Replace(a, "aws4_request", "aws4_reqest", 1) }),
			code: CodeIncompleteSignature, message: `Credential should be scoped with a valid terminator: 'aws4_request', not "aws4_reqest".`},
		{name: "SignedHeaders without host", tamper: setAuth(func(a string) string { return strings.Replace(a, "host;", "", 1) }),
			code: CodeIncompleteSignature, message: "'Host' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "Credential twice", tamper: setAuth(func(a string) string { return a + ", Credential=x/20261128/us-east-1/omics/aws4_request" }),
			code: CodeIncompleteSignature},
		{name: "two Authorization headers", tamper: func(s string) string {
			return strings.Replace(s, "Authorization: ", "Authorization: "+goodAuth(s)+"\r\nAuthorization: ", 1)
		}, code: CodeIncompleteSignature},
		{name: "both an Authorization header and a presigned query", tamper: replace("?maxResults=5", "?X-Amz-Algorithm=AWS4-HMAC-SHA256&maxResults=5"),
			code: CodeIncompleteSignature},
		{name: "no X-Amz-Date", tamper: replaceHeader("X-Amz-Date", ""), code: CodeIncompleteSignature},
		{name: "an X-Amz-Date in another format", tamper: replaceHeader("X-Amz-Date", "2026-11-28T12:00:00Z"), code: CodeIncompleteSignature},
		{name: "an X-Amz-Date that is no date", tamper: replaceHeader("X-Amz-Date", "20261131T120000Z"), code: CodeIncompleteSignature},
		{name: "an X-Amz-Date on another day than the scope", tamper: replaceHeader("X-Amz-Date", "20261129T000000Z"),
			setup: func(v *Verifier) { v.Now = func() time.Time { return time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC) } },
			code:  CodeInvalidSignature, message: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261128' != '20261129', from '20261129T000000Z'."},
		{name: "an unknown access key", tamper: setAuth(func(a string) string { return strings.Replace(a, testAccessKey, "AKIDOTHER", 1) }),
			code: CodeUnrecognizedClient, message: "The security token included in the request is invalid."},
		{name: "a wrong secret", setup: func(v *Verifier) { v.Credentials = memKeys{testAccessKey: {"not the secret", testAccount}} },
			code: CodeInvalidSignature, message: msgSignatureWrong},
		{name: "another region", setup: func(v *Verifier) { v.Region = "eu-west-1" },
			code: CodeInvalidSignature, message: "Credential should be scoped to a valid region, not 'us-east-1'. This server serves region 'eu-west-1'."},
		{name: "another service", setup: func(v *Verifier) { v.Service = "s3" },
			code: CodeInvalidSignature, message: "Credential should be scoped to correct service: 's3'."},
		{name: "a clock exactly 15 minutes ahead verifies", setup: func(v *Verifier) { v.Now = func() time.Time { return testNow.Add(15 * time.Minute) } }},
		{name: "a clock more than 15 minutes ahead", setup: func(v *Verifier) { v.Now = func() time.Time { return testNow.Add(15*time.Minute + time.Second) } },
			code: CodeInvalidSignature, message: "Signature expired: 20261128T120000Z is now earlier than 20261128T120001Z (20261128T121501Z - 15 min.)"},
		{name: "a clock more than 15 minutes behind", setup: func(v *Verifier) { v.Now = func() time.Time { return testNow.Add(-15*time.Minute - time.Second) } },
			code: CodeInvalidSignature, message: "Signature not yet current: 20261128T120000Z is still later than 20261128T115959Z (20261128T114459Z + 15 min.)"},
		{name: "a narrower skew window", setup: func(v *Verifier) {
			v.MaxSkew = time.Minute
			v.Now = func() time.Time { return testNow.Add(2 * time.Minute) }
		}, code: CodeInvalidSignature, message: "Signature expired: 20261128T120000Z is now earlier than 20261128T120100Z (20261128T120200Z - 1 min.)"},

		{name: "a tampered path", tamper: replace("/sequencestore/1234567890/", "/sequencestore/1234567891/"), code: CodeInvalidSignature},
		{name: "an ARN label decoded on the way", req: &arnRequest, tamper: replace(testARNPath, strings.ReplaceAll(strings.ReplaceAll(testARNPath, "%3A", ":"), "%2F", "/")),
			code: CodeInvalidSignature},
		{name: "an ARN label with lower-case escapes", req: &arnRequest, tamper: replace(testARNPath, strings.ReplaceAll(testARNPath, "%3A", "%3a")),
			code: CodeInvalidSignature},
		{name: "a dot segment added to the path", tamper: replace("/sequencestore/1234567890/", "/sequencestore/./1234567890/x/../"), code: ""},
		{name: "a tampered method", tamper: replace("POST /", "PUT /"), code: CodeInvalidSignature},
		{name: "a tampered query value", tamper: replace("maxResults=5", "maxResults=6"), code: CodeInvalidSignature},
		{name: "a query parameter added", tamper: replace("maxResults=5", "maxResults=5&nextToken=x"), code: CodeInvalidSignature},
		{name: "one of a repeated key dropped", tamper: replace("&tagKeys=b", ""), code: CodeInvalidSignature},
		{name: "a malformed query escape", tamper: replace("maxResults=5", "maxResults=%zz"), code: CodeIncompleteSignature},
		{name: "a tampered signed header", tamper: replaceHeader("Content-Type", "text/plain"), code: CodeInvalidSignature},
		{name: "a signed header repeated", tamper: replace("Content-Type: application/json\r\n", "Content-Type: application/json\r\nContent-Type: text/plain\r\n"),
			code: CodeInvalidSignature},
		{name: "the host prefix removed", tamper: replaceHeader("Host", "localhost:9393"), code: CodeInvalidSignature},
		{name: "another port", tamper: replaceHeader("Host", "control-storage-localhost:9394"), code: CodeInvalidSignature},
		{name: "a tampered JSON body", tamper: replace(`"ACTIVE"`, `"DELETE"`), code: CodeInvalidSignature, message: msgSignatureWrong},
		{name: "a tampered JSON body under a signed X-Amz-Content-Sha256", claim: true, tamper: replace(`"ACTIVE"`, `"DELETE"`),
			code: CodeInvalidSignature, message: errBodyMismatch.Message()},
		{name: "a streaming X-Amz-Content-Sha256", claim: true, payload: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", code: CodeIncompleteSignature},
		{name: "a JSON body over the buffer limit", setup: func(v *Verifier) { v.MaxBufferedBody = 16 }, code: CodeRequestEntityTooLarge},
		{name: "a chunked JSON body over the buffer limit", req: &clientRequest{method: "POST", url: baseRequest.url, body: baseRequest.body, contentLength: -1},
			setup: func(v *Verifier) { v.MaxBufferedBody = 16 }, code: CodeRequestEntityTooLarge},
		{name: "UNSIGNED-PAYLOAD without the header where the operation wants a signed body", payload: unsignedPayload, code: CodeInvalidSignature},
		{name: "UNSIGNED-PAYLOAD without the header where the operation allows it", req: &streamed, payload: unsignedPayload,
			opts: Options{AllowUnsignedPayload: true}},
		{name: "UNSIGNED-PAYLOAD in X-Amz-Content-Sha256 where the operation wants a signed body", payload: unsignedPayload, claim: true,
			code: CodeInvalidSignature, message: errUnsignedPayloadRefused.Message()},
		{name: "UNSIGNED-PAYLOAD in X-Amz-Content-Sha256 and the JSON body swapped", payload: unsignedPayload, claim: true,
			tamper: replace(`"ACTIVE"`, `"DELETE"`), code: CodeInvalidSignature, message: errUnsignedPayloadRefused.Message()},
		{name: "UNSIGNED-PAYLOAD in X-Amz-Content-Sha256 on a request without a body", payload: unsignedPayload, claim: true,
			req:  &clientRequest{method: "GET", url: "http://control-storage-localhost:9393/sequencestore/1234567890"},
			code: CodeInvalidSignature, message: errUnsignedPayloadRefused.Message()},
		{name: "UNSIGNED-PAYLOAD in X-Amz-Content-Sha256 where the operation allows it", req: &streamed, payload: unsignedPayload, claim: true,
			opts: Options{AllowUnsignedPayload: true}},
	}
	runRejectCases(t, tests)
}

// TestStreamedBodyRejects covers the uploads whose body is checked while
// the handler reads it: Verify succeeds, and the Read that completes the
// body fails.
func TestStreamedBodyRejects(t *testing.T) {
	part := strings.Repeat("ACGTN", 200_000) // 1 MB
	url := "http://storage-localhost:9393/sequencestore/1234567890/upload/1111111111/part?partSource=SOURCE1&partNumber=1"
	flipLast := func(s string) string { return s[:len(s)-1] + "X" }
	streamOpts := Options{AllowUnsignedPayload: true}
	tests := []struct {
		name      string
		req       clientRequest
		claim     bool
		tamper    func(string) string
		setup     func(*Verifier)
		message   string
		deferred  bool
		byLengths bool // read exactly Content-Length bytes (io.CopyN), never seeing io.EOF
	}{
		{name: "a signed X-Amz-Content-Sha256 and a changed last byte", req: clientRequest{method: "PUT", url: url, body: part}, claim: true,
			tamper: flipLast, message: errBodyMismatch.Message()},
		{name: "the same read by length", req: clientRequest{method: "PUT", url: url, body: part}, claim: true,
			tamper: flipLast, message: errBodyMismatch.Message(), byLengths: true},
		{name: "a signature over the body's hash, without header, and a changed last byte", req: clientRequest{method: "PUT", url: url, body: part},
			tamper: flipLast, message: msgSignatureWrong, deferred: true},
		{name: "the same read by length", req: clientRequest{method: "PUT", url: url, body: part},
			tamper: flipLast, message: msgSignatureWrong, deferred: true, byLengths: true},
		{name: "a signature over the body's hash, without header, by a wrong secret", req: clientRequest{method: "PUT", url: url, body: part},
			setup: func(v *Verifier) { v.Credentials = memKeys{testAccessKey: {"not the secret", testAccount}} }, message: msgSignatureWrong, deferred: true},
		{name: "a chunked body without header, changed", req: clientRequest{method: "PUT", url: url, body: "ACGTACGT", contentLength: -1},
			tamper: replace("ACGTACGT", "ACGTACGA"), message: msgSignatureWrong, deferred: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.req
			payload := sha256Hex([]byte(c.body))
			if tt.claim {
				c.header = http.Header{"X-Amz-Content-Sha256": {payload}}
			}
			r := onWire(t, goSign(t, c, payload), tt.tamper)
			v := newVerifier()
			if tt.setup != nil {
				tt.setup(v)
			}
			id, err := v.Verify(r, streamOpts)
			if err != nil {
				t.Fatalf("Verify: %v; the body should be checked as it is read", err)
			}
			if got, want := id.Deferred, tt.deferred; got != want {
				t.Errorf("Deferred = %v, want %v", got, want)
			}
			var n int64
			if tt.byLengths {
				// io.CopyN drops the error of the read that fills its
				// count, so the handler asks CheckBody.
				n, err = io.CopyN(io.Discard, r.Body, r.ContentLength)
				if err != nil {
					t.Fatalf("io.CopyN: %v", err)
				}
				err = CheckBody(r.Body)
			} else {
				n, err = io.Copy(io.Discard, r.Body)
				if got, want := errCode(CheckBody(r.Body)), CodeInvalidSignature; got != want {
					t.Errorf("CheckBody after the failed read: %s, want %s", got, want)
				}
			}
			checkRejection(t, err, CodeInvalidSignature, tt.message)
			if got, want := n, int64(len(c.body)); got != want {
				t.Errorf("the failing read still delivered %d bytes in all, want %d", got, want)
			}
			if _, err := r.Body.Read(make([]byte, 1)); errCode(err) != CodeInvalidSignature {
				t.Errorf("a read after the failure returned %v, want the failure again", err)
			}
		})
	}
}

func TestPresignedRejects(t *testing.T) {
	const url = "http://storage-localhost:9393/sequencestore/1234567890/readset/1234567890?partNumber=1&file=SOURCE1"
	tests := []struct {
		name    string
		expires int // 0: no X-Amz-Expires
		header  http.Header
		tamper  func(string) string
		setup   func(*Verifier)
		code    string
		message string
	}{
		{name: "the untouched URL verifies", expires: 60},
		{name: "the longest expiry verifies", expires: 604800},
		{name: "no X-Amz-Expires", code: CodeIncompleteSignature,
			message: "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires'. Re-examine the query-string parameters."},
		{name: "X-Amz-Expires over a week", expires: 604801, code: CodeIncompleteSignature, message: "X-Amz-Expires must be less than a week (in seconds) that is 604800"},
		{name: "X-Amz-Expires not a number", expires: 60, tamper: replace("X-Amz-Expires=60", "X-Amz-Expires=6O"), code: CodeIncompleteSignature},
		{name: "X-Amz-Expires zero", expires: 60, tamper: replace("X-Amz-Expires=60", "X-Amz-Expires=0"), code: CodeIncompleteSignature},
		{name: "X-Amz-Expires lengthened", expires: 60, tamper: replace("X-Amz-Expires=60", "X-Amz-Expires=600"), code: CodeInvalidSignature},
		{name: "expired", expires: 60, setup: func(v *Verifier) { v.Now = func() time.Time { return testNow.Add(61 * time.Second) } },
			code: CodeInvalidSignature, message: "Signature expired: 20261128T120000Z is now earlier than 20261128T120001Z (20261128T120101Z - 60 sec.)"},
		{name: "dated more than 15 minutes ahead", expires: 3600, setup: func(v *Verifier) { v.Now = func() time.Time { return testNow.Add(-16 * time.Minute) } },
			code: CodeInvalidSignature, message: "Signature not yet current: 20261128T120000Z is still later than 20261128T115900Z (20261128T114400Z + 15 min.)"},
		{name: "another algorithm", expires: 60, tamper: replace("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1"), code: CodeIncompleteSignature},
		{name: "the signature twice", expires: 60, tamper: replace("X-Amz-Signature=", "X-Amz-Signature=00&X-Amz-Signature="), code: CodeIncompleteSignature},
		{name: "no signature", expires: 60, tamper: func(s string) string {
			return regexp.MustCompile(`&X-Amz-Signature=[0-9a-f]+`).ReplaceAllString(s, "")
		}, code: CodeIncompleteSignature},
		{name: "a tampered query value", expires: 60, tamper: replace("partNumber=1", "partNumber=2"), code: CodeInvalidSignature},
		{name: "a tampered path", expires: 60, tamper: replace("/readset/1234567890", "/readset/1234567891"), code: CodeInvalidSignature},
		{name: "another host", expires: 60, tamper: replaceHeader("Host", "control-storage-localhost:9393"), code: CodeInvalidSignature},
		{name: "a tampered signed header", expires: 60, header: http.Header{"Content-Type": {"application/json"}},
			tamper: replaceHeader("Content-Type", "text/plain"), code: CodeInvalidSignature},
		{name: "an unknown access key", expires: 60, tamper: replace("X-Amz-Credential="+testAccessKey, "X-Amz-Credential=AKIDOTHER"),
			code: CodeUnrecognizedClient, message: msgUnknownKey},
		{name: "another region", expires: 60, setup: func(v *Verifier) { v.Region = "us-west-2" }, code: CodeInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := goPresign(t, url, unsignedPayload, tt.expires, tt.header, func(s string) string {
				if tt.tamper == nil {
					return s
				}
				out := tt.tamper(s)
				if out == s {
					t.Fatalf("the tampering changed nothing in\n%s", s)
				}
				return out
			})
			v := newVerifier()
			if tt.setup != nil {
				tt.setup(v)
			}
			_, err := v.Verify(r, Options{})
			checkRejection(t, err, tt.code, tt.message)
		})
	}
}

// failingKeys is a CredentialStore whose backend is down.
type failingKeys struct{ err error }

func (f failingKeys) SecretFor(context.Context, string) (string, string, error) { return "", "", f.err }

func TestCredentialStoreFailureIsNotAnAuthError(t *testing.T) {
	down := errors.New("database is down")
	v := newVerifier()
	v.Credentials = failingKeys{down}
	_, err := v.Verify(onWire(t, goSign(t, baseRequest, ""), nil), Options{})
	var e *Error
	if errors.As(err, &e) {
		t.Fatalf("got *Error %v; a store failure is the server's fault, not the client's", e)
	}
	if !errors.Is(err, down) {
		t.Fatalf("got %v, want it to wrap %v", err, down)
	}
}

// TestRotatedSecret checks that the signing-key cache does not outlive a
// secret: after the store changes the secret, the old signature fails and
// the new one verifies.
func TestRotatedSecret(t *testing.T) {
	v := newVerifier()
	keys := memKeys{testAccessKey: {testSecret, testAccount}}
	v.Credentials = keys
	if _, err := v.Verify(onWire(t, goSign(t, baseRequest, ""), nil), Options{}); err != nil {
		t.Fatal(err)
	}
	keys[testAccessKey] = [2]string{"rotated secret", testAccount}
	_, err := v.Verify(onWire(t, goSign(t, baseRequest, ""), nil), Options{})
	checkRejection(t, err, CodeInvalidSignature, msgSignatureWrong)
}

// A presigned URL signs no body: on an operation whose body must be signed,
// it is accepted only with a signature over the body's hash, so a holder of
// the URL cannot send another body under it.
func TestPresignedJSONBodyMustBeSigned(t *testing.T) {
	const url = "http://control-storage-localhost:9393/sequencestore/1234567890/readset/batch/delete"
	const body = `{"ids":["1234567890"]}`
	presign := func(payload string) *http.Request {
		r, err := http.NewRequest("POST", url+"?X-Amz-Expires=60", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), testCreds, r, payload, "omics", testRegion, testNow)
		if err != nil {
			t.Fatal(err)
		}
		pr, err := http.NewRequest("POST", signed, strings.NewReader(`{"ids":["9999999999"]}`))
		if err != nil {
			t.Fatal(err)
		}
		return onWire(t, pr, nil)
	}
	_, _, err := verifyAndRead(newVerifier(), presign(unsignedPayload), Options{})
	checkRejection(t, err, CodeInvalidSignature, msgSignatureWrong)
	_, _, err = verifyAndRead(newVerifier(), presign(sha256Hex([]byte(body))), Options{})
	checkRejection(t, err, CodeInvalidSignature, msgSignatureWrong)

	r, _ := http.NewRequest("POST", url+"?X-Amz-Expires=60", strings.NewReader(body))
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), testCreds, r, sha256Hex([]byte(body)), "omics", testRegion, testNow)
	if err != nil {
		t.Fatal(err)
	}
	pr, _ := http.NewRequest("POST", signed, strings.NewReader(body))
	if _, _, err := verifyAndRead(newVerifier(), onWire(t, pr, nil), Options{}); err != nil {
		t.Fatalf("a presigned POST over its body's hash: %v", err)
	}
}

// The bodies of requests whose signatures are not yet proven share one
// budget: while one holds most of it, another is answered 429
// ThrottlingException (which SDKs retry), and the budget comes back when
// the first is done.
func TestUnauthenticatedBodiesShareABudget(t *testing.T) {
	v := newVerifier()
	v.MaxBufferedTotal = 8 << 10
	body := strings.Repeat(`{"name":"x"}`, 512) // 6 KiB
	req := clientRequest{method: "POST", url: "http://control-storage-localhost:9393/sequencestore", body: body}

	held := onWire(t, goSign(t, req, ""), nil)
	rest, more := io.Pipe()
	held.Body = io.NopCloser(io.MultiReader(strings.NewReader(body[:5<<10]), rest))
	done := make(chan error, 1)
	go func() { _, _, err := verifyAndRead(v, held, Options{}); done <- err }()
	for v.unauthenticatedBudget().used.Load() < 4<<10 {
		time.Sleep(time.Millisecond)
	}

	_, _, err := verifyAndRead(v, onWire(t, goSign(t, req, ""), nil), Options{})
	if got := errCode(err); got != CodeThrottling || err.(*Error).Status() != http.StatusTooManyRequests {
		t.Fatalf("a second body while the first holds the budget: %v, want 429 %s", err, CodeThrottling)
	}

	io.WriteString(more, body[5<<10:])
	more.Close()
	if err := <-done; err != nil {
		t.Fatalf("the first request: %v", err)
	}
	if used := v.unauthenticatedBudget().used.Load(); used != 0 {
		t.Fatalf("%d bytes still charged after the requests ended", used)
	}
	if _, _, err := verifyAndRead(v, onWire(t, goSign(t, req, ""), nil), Options{}); err != nil {
		t.Fatalf("a body once the budget is back: %v", err)
	}
}
