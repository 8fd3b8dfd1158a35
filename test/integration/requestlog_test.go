package integration

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/omics"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/testutil"
)

// logLines returns the JSON records in logs whose msg is msg.
func logLines(t *testing.T, logs *testutil.SyncBuffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(strings.TrimSpace(logs.String())) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// requestIDOf is the x-amzn-RequestId of the response err came with.
func requestIDOf(t *testing.T, err error) string {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("%v is no HTTP response error", err)
	}
	return re.ServiceRequestID()
}

// Every failed request is logged once, at Info for the client's fault and at
// Error for the server's, with what an operator needs to find who sent it
// and why it failed, and never a secret.
func TestFailedRequestsAreLogged(t *testing.T) {
	ctx := context.Background()
	logs := &testutil.SyncBuffer{}
	in := startLogged(t, backends[0], nil, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	root := in.rootKey()
	c := in.goClient(root)

	if _, err := c.ListSequenceStores(ctx, &omics.ListSequenceStoresInput{}); err != nil {
		t.Fatal(err)
	}
	stranger := seqstore.AccessKey{ID: "SQNOSUCHKEY000000001", Secret: "a secret the server never knew"}
	_, unknownErr := in.goClient(stranger).ListSequenceStores(ctx, &omics.ListSequenceStoresInput{})
	_, missingErr := c.GetSequenceStore(ctx, &omics.GetSequenceStoreInput{Id: aws.String("1234567890")})

	// The metadata store goes away under the server: the root key is still
	// in the key cache, so the request gets as far as the handler, which
	// fails for a reason that is the server's.
	in.srv.Meta.Close()
	_, faultErr := c.ListSequenceStores(ctx, &omics.ListSequenceStoresInput{})

	refused := logLines(t, logs, "request refused")
	failed := logLines(t, logs, "request failed")
	// The SDK retries a 500: each attempt is a request of its own.
	if len(refused) != 2 || len(failed) == 0 {
		t.Fatalf("want 2 refused and some failed requests logged, got:\n%s", logs)
	}
	lastFailed := failed[len(failed)-1]
	for _, c := range []struct {
		rec                  map[string]any
		err                  error
		level, op, code, key string
		status               float64
	}{
		{refused[0], unknownErr, "INFO", "ListSequenceStores", "UnrecognizedClientException", stranger.ID, 403},
		{refused[1], missingErr, "INFO", "GetSequenceStore", "ResourceNotFoundException", root.ID, 404},
		{lastFailed, faultErr, "ERROR", "ListSequenceStores", "InternalServerException", root.ID, 500},
	} {
		rec := c.rec
		if rec["level"] != c.level || rec["op"] != c.op || rec["code"] != c.code || rec["access_key_id"] != c.key || rec["status"] != c.status ||
			rec["request_id"] != requestIDOf(t, c.err) || !strings.HasPrefix(rec["remote_addr"].(string), "127.0.0.1:") || rec["duration"] == nil {
			t.Errorf("logged %v\nwant level %s, op %s, code %s, key %s, status %v, the request's id, a remote address and a duration", rec, c.level, c.op, c.code, c.key, c.status)
		}
	}
	if lastFailed["error"] == nil {
		t.Errorf("the server's failure is logged without its error: %v", lastFailed)
	}
	for _, secret := range []string{root.Secret, stranger.Secret} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("the log holds a secret:\n%s", logs)
		}
	}
}
