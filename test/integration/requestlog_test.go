package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/omics"

	"github.com/seqstore/seqstore"
)

// lockedLog collects the JSON lines a server logs while it runs.
type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the logged records whose msg is msg.
func (l *lockedLog) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(l.b.Bytes()), []byte("\n")) {
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
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
	logs := &lockedLog{}
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

	refused := logs.lines(t, "request refused")
	failed := logs.lines(t, "request failed")
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
