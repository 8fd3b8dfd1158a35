package sigv4

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/testutil"
)

// requireBotocore returns python3 when it can import botocore; it skips
// (fails in CI) otherwise.
func requireBotocore(t *testing.T) string {
	t.Helper()
	py := testutil.RequireTool(t, "python3")
	if out, err := exec.Command(py, "-c", "import botocore").CombinedOutput(); err != nil {
		if testutil.InCI() {
			t.Fatalf("botocore is not importable: %s", out)
		}
		t.Skipf("botocore is not importable: %s", out)
	}
	return py
}

// runBotocore runs testdata/botocore_sign.py with spec and decodes its
// answer into out.
func runBotocore(t *testing.T, py string, spec map[string]any, out any) {
	t.Helper()
	in, _ := json.Marshal(spec)
	cmd := exec.Command(py, "testdata/botocore_sign.py")
	// The test sets the client up itself; exported AWS settings (a
	// disabled host prefix, say) would change what it checks.
	cmd.Env = testutil.EnvWithoutAWS()
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("botocore_sign.py: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("botocore_sign.py printed %q: %v", stdout, err)
	}
}

// TestBotocoreSignedRequestsAreAccepted signs requests with botocore's own
// SigV4Auth and SigV4QueryAuth and verifies them as the server receives
// them. botocore keeps the query in the order given and removes dot
// segments before signing, unlike the Go SDK, so it checks other paths of
// the verifier.
func TestBotocoreSignedRequestsAreAccepted(t *testing.T) {
	py := requireBotocore(t)
	tests := []struct {
		name, method, url, body string
		header                  map[string]string
		token                   string
		expires                 int
		opts                    Options
	}{
		{name: "GetReadSetMetadata with a host prefix and port", method: "GET",
			url: "http://control-storage-localhost:9393/sequencestore/1234567890/readset/1234567890/metadata"},
		{name: "ListReadSets with query and a JSON body", method: "POST",
			url:  "http://control-storage-localhost:9393/sequencestore/1234567890/readsets?maxResults=5",
			body: `{"filter": {"createdAfter": "2024-01-02T03:04:05Z"}}`, header: map[string]string{"Content-Type": "application/json"}},
		{name: "TagResource with an ARN label", method: "POST",
			url: "http://tags-localhost:9393/tags/" + testARNPath, body: `{"tags": {"a": "b"}}`},
		{name: "UntagResource with repeated keys in the order sent", method: "DELETE",
			url: "http://tags-localhost:9393/tags/" + testARNPath + "?tagKeys=k2&tagKeys=k&tagKeys=a%20b"},
		{name: "one query name a prefix of another", method: "GET",
			url: "http://control-storage-localhost/sequencestores?max-x=1&max=2&max=10"},
		{name: "empty query values", method: "GET",
			url: "http://control-storage-localhost/sequencestores?nextToken=&maxResults=3"},
		{name: "reserved characters in a query value", method: "GET",
			url: "http://control-storage-localhost/sequencestores?nextToken=a%2Bb%20c%2F%3D%21%2A~"},
		{name: "dot segments and a double slash in the path", method: "GET",
			url: "http://control-storage-localhost/sequencestore/./1234567890/x/..//readset"},
		{name: "a trailing slash", method: "GET",
			url: "http://control-storage-localhost/sequencestore/"},
		{name: "a header with runs of spaces", method: "GET",
			url:    "http://control-storage-localhost/sequencestore/1234567890",
			header: map[string]string{"X-Amz-Meta-Note": "  a   b  c "}},
		{name: "UploadReadSetPart with X-Amz-Content-SHA256: UNSIGNED-PAYLOAD", method: "PUT",
			url:  "http://storage-localhost:9393/sequencestore/1234567890/upload/1111111111/part?partSource=SOURCE1&partNumber=1",
			body: strings.Repeat("ACGTN", 1000), header: map[string]string{"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
			opts: Options{AllowUnsignedPayload: true}},
		{name: "a session token", method: "GET", url: "http://control-storage-localhost/sequencestore/1", token: "FwoG/token+=="},
		{name: "a presigned GetReadSet", method: "GET", expires: 300,
			url: "http://storage-localhost:9393/sequencestore/1234567890/readset/1234567890?partNumber=1&file=SOURCE1"},
		{name: "a presigned URL with a session token", method: "GET", expires: 604800, token: "FwoG/token+==",
			url: "http://tags-localhost/tags/" + testARNPath},
	}
	var requests []map[string]any
	for _, tt := range tests {
		req := map[string]any{"method": tt.method, "url": tt.url, "body": tt.body, "headers": tt.header, "expires": tt.expires}
		if tt.token != "" {
			req["token"] = tt.token
		}
		requests = append(requests, req)
	}
	var out struct {
		Signed []struct {
			URL     string
			Headers map[string]string
		}
	}
	// One run signs them all: starting Python costs more than signing.
	runBotocore(t, py, map[string]any{"mode": "sign", "time": testNow.Format(amzDateLayout), "requests": requests,
		"accessKey": testAccessKey, "secret": testSecret, "region": testRegion}, &out)
	if got, want := len(out.Signed), len(tests); got != want {
		t.Fatalf("botocore signed %d requests, want %d", got, want)
	}
	for i, tt := range tests {
		signed := out.Signed[i]
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(tt.method, signed.URL, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range signed.Headers {
				r.Header.Set(k, v)
			}
			sr := onWire(t, r, nil)
			id, body, err := verifyAndRead(newVerifier(), sr, tt.opts)
			if err != nil {
				t.Fatalf("verify %s %s: %v\nheaders %v", tt.method, signed.URL, err, signed.Headers)
			}
			if got, want := id.AccountID, testAccount; got != want {
				t.Errorf("account %q, want %q", got, want)
			}
			if got, want := string(body), tt.body; got != want {
				t.Errorf("body %q, want %q", got, want)
			}
		})
	}
}

// TestBotocoreOmicsClientIsAccepted runs boto3's omics client, host
// prefixes and all, against a server that verifies every request.
func TestBotocoreOmicsClientIsAccepted(t *testing.T) {
	py := requireBotocore(t)
	srv := newRecordingServer(t, newVerifier())
	const partQuarter = 1 << 18 // 1 MiB part
	var out struct{ Calls []clientCall }
	runBotocore(t, py, map[string]any{"mode": "client", "endpoint": "http://localhost:" + srv.port(), "accessKey": testAccessKey,
		"secret": testSecret, "region": testRegion, "partQuarter": partQuarter}, &out)
	srv.check(t, out.Calls, 4*partQuarter)
}
