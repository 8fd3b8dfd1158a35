package sigv4

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"
)

// recordingServer is an HTTP server that verifies every request the way
// the API layer will (UploadReadSetPart streams; everything else does not),
// reads its body through, answers 200 {} or the verification error, and
// remembers what it saw.
type recordingServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct {
	method, uri, host string
	bodyLen           int64
	deferred          bool
	contentSHA256     string // the X-Amz-Content-Sha256 header
	err               error
}

func newRecordingServer(t *testing.T, v *Verifier) *recordingServer {
	// Real clients sign with the real clock.
	v.Now = nil
	s := &recordingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opts := Options{AllowUnsignedPayload: r.Method == "PUT" && strings.HasSuffix(r.URL.Path, "/part")}
		id, err := v.Verify(r, opts)
		var n int64
		if err == nil {
			n, err = io.Copy(io.Discard, r.Body)
		}
		s.mu.Lock()
		s.seen = append(s.seen, seenRequest{method: r.Method, uri: r.RequestURI, host: r.Host, bodyLen: n, deferred: id.Deferred, contentSHA256: r.Header.Get("X-Amz-Content-Sha256"), err: err})
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		var e *Error
		switch {
		case errors.As(err, &e):
			w.Header().Set("X-Amzn-ErrorType", e.Code())
			w.WriteHeader(e.Status())
			json.NewEncoder(w).Encode(map[string]string{"message": e.Message()})
		case err != nil:
			w.WriteHeader(http.StatusInternalServerError)
			json.NewEncoder(w).Encode(map[string]string{"message": err.Error()})
		default:
			io.WriteString(w, "{}")
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// dialer connects to the test server whatever host name the client asks
// for, so that clients can keep their host prefixes (control-storage-,
// storage-, tags-), which no resolver here knows.
func (s *recordingServer) dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, s.Listener.Addr().String())
	}
}

// port is the test server's port.
func (s *recordingServer) port() string {
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	return port
}

// clientCall is one operation a client ran and what it returned.
type clientCall struct {
	Op    string `json:"op"`
	Error string `json:"error"`
}

// check fails t unless every call succeeded, the server saw exactly one
// verified request per call, part uploads arrived whole, and every host
// prefix was used.
func (s *recordingServer) check(t *testing.T, calls []clientCall, partLen int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range calls {
		if c.Error != "" {
			t.Errorf("%s: %s", c.Op, c.Error)
		}
	}
	if got, want := len(s.seen), len(calls); got != want {
		t.Errorf("the server saw %d requests for %d calls", got, want)
	}
	prefixes := map[string]bool{}
	for _, r := range s.seen {
		if r.err != nil {
			t.Errorf("%s %s (Host %s): %v", r.method, r.uri, r.host, r.err)
		}
		if r.method == "PUT" && r.bodyLen != int64(partLen) {
			t.Errorf("%s %s: read %d body bytes, want %d", r.method, r.uri, r.bodyLen, partLen)
		}
		prefix, _, _ := strings.Cut(r.host, "localhost")
		prefixes[prefix] = true
		t.Logf("verified %s %s Host: %s (body %d bytes, X-Amz-Content-Sha256 %q, deferred %v)", r.method, r.uri, r.host, r.bodyLen, r.contentSHA256, r.deferred)
	}
	for _, p := range []string{"control-storage-", "storage-", "tags-"} {
		if !prefixes[p] {
			t.Errorf("no request came with host prefix %s; hosts %v", p, prefixes)
		}
	}
}

func newGoOmicsClient(t *testing.T, srv *recordingServer) *omics.Client {
	return omics.New(omics.Options{
		Region:           testRegion,
		BaseEndpoint:     aws.String("http://localhost:" + srv.port()),
		Credentials:      goOmicsCredentials,
		HTTPClient:       &http.Client{Transport: &http.Transport{DialContext: srv.dialer()}, Timeout: time.Minute},
		RetryMaxAttempts: 1,
	})
}

// runGoOmicsCalls runs one operation of each shape the signer must get
// right: a label path, query and JSON body, an ARN label, repeated query
// keys, an UNSIGNED-PAYLOAD upload and a streamed download.
func runGoOmicsCalls(ctx context.Context, c *omics.Client, part []byte) []clientCall {
	const store, arn = "1234567890", "arn:aws:omics:us-east-1:123456789012:sequenceStore/1234567890"
	var calls []clientCall
	record := func(op string, err error) {
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		calls = append(calls, clientCall{op, msg})
	}
	_, err := c.GetSequenceStore(ctx, &omics.GetSequenceStoreInput{Id: aws.String(store)})
	record("GetSequenceStore", err)
	_, err = c.ListReadSets(ctx, &omics.ListReadSetsInput{SequenceStoreId: aws.String(store), MaxResults: aws.Int32(5),
		NextToken: aws.String("next/token=="), Filter: &types.ReadSetFilter{Status: types.ReadSetStatusActive, Name: aws.String("a  b")}})
	record("ListReadSets", err)
	_, err = c.TagResource(ctx, &omics.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"team": "genomics"}})
	record("TagResource", err)
	_, err = c.UntagResource(ctx, &omics.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"zeta", "alpha"}})
	record("UntagResource", err)
	_, err = c.UploadReadSetPart(ctx, &omics.UploadReadSetPartInput{SequenceStoreId: aws.String(store), UploadId: aws.String("1111111111"),
		PartSource: types.ReadSetPartSourceSource1, PartNumber: aws.Int32(1), Payload: strings.NewReader(string(part))})
	record("UploadReadSetPart", err)
	out, err := c.GetReadSet(ctx, &omics.GetReadSetInput{SequenceStoreId: aws.String(store), Id: aws.String("2222222222"),
		PartNumber: aws.Int32(1), File: types.ReadSetFileSource1})
	if err == nil {
		io.Copy(io.Discard, out.Payload)
		out.Payload.Close()
	}
	record("GetReadSet", err)
	return calls
}
