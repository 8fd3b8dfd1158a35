package sigv4

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/seqstore/seqstore/internal/testutil"
)

// TestJSOmicsClientIsAccepted runs the omics client of the AWS SDK for
// JavaScript v3 (installed for the smoke test in test/js) against a server
// that verifies every request, then the SDK's bare signer
// (@smithy/signature-v4) with applyChecksum off, which signs a streamed
// upload as UNSIGNED-PAYLOAD and a byte-array upload over its SHA-256
// without saying either in an X-Amz-Content-Sha256 header. (The client
// itself, 3.1048, does send the header; older ones and hand-made signers
// do not.)
func TestJSOmicsClientIsAccepted(t *testing.T) {
	node := testutil.RequireTool(t, "node")
	sdkDir, err := filepath.Abs("../../test/js")
	if err != nil {
		t.Fatal(err)
	}
	testutil.RequireDir(t, filepath.Join(sdkDir, "node_modules", "@aws-sdk", "client-omics"))

	srv := newRecordingServer(t, newVerifier())
	const partQuarter = 1 << 18 // 1 MiB parts
	spec, _ := json.Marshal(map[string]any{"sdkDir": sdkDir, "endpoint": "http://localhost:" + srv.port(), "region": testRegion,
		"accessKey": testAccessKey, "secret": testSecret, "partQuarter": partQuarter})
	cmd := exec.Command(node, "testdata/js_client.cjs")
	// The test sets the client up itself; exported AWS settings (a
	// disabled host prefix, say) would change what it checks.
	cmd.Env = testutil.EnvWithoutAWS()
	cmd.Stdin = bytes.NewReader(spec)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("js_client.cjs: %v\n%s", err, stderr.String())
	}
	var out struct{ Calls []clientCall }
	if err := json.Unmarshal(stdout, &out); err != nil {
		t.Fatalf("js_client.cjs printed %q: %v", stdout, err)
	}
	srv.check(t, out.Calls, 4*partQuarter)

	// Of the uploads without X-Amz-Content-Sha256, the byte-array one can
	// only have its signature checked at the body's end.
	var headerless, deferred int
	for _, r := range srv.seen {
		if r.method == "PUT" && r.contentSHA256 == "" {
			headerless++
		}
		if r.deferred {
			deferred++
		}
	}
	if got, want := headerless, 2; got != want {
		t.Errorf("%d uploads came without X-Amz-Content-Sha256, want %d", got, want)
	}
	if got, want := deferred, 1; got != want {
		t.Errorf("%d requests had their signature checked at the body's end, want %d", got, want)
	}
}
