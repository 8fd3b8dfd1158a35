package omicsapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/seqstore/seqstore/internal/api/omicsapi"
	"github.com/seqstore/seqstore/internal/testutil"
)

// buggyHandler panics in GetSequenceStore before answering, and in
// GetReadSet after the payload has begun; ListSequenceStores works.
type buggyHandler struct{ omicsapi.UnimplementedHandler }

func (buggyHandler) GetSequenceStore(_ context.Context, in *omicsapi.GetSequenceStoreInput) (*omicsapi.GetSequenceStoreOutput, error) {
	var stores []*omicsapi.GetSequenceStoreOutput
	return stores[len(in.Id)], nil // a real bug, not a panic call: index out of range
}

func (buggyHandler) GetReadSet(_ context.Context, in *omicsapi.GetReadSetInput) (*omicsapi.GetReadSetOutput, error) {
	length := int64(-1) // streamed without Content-Length: a cut must not look whole
	if in.File == omicsapi.ReadSetFileIndex {
		length = 2 << 20
	}
	return &omicsapi.GetReadSetOutput{Payload: io.NopCloser(&panicAfter{n: 1 << 20}), ContentLength: length}, nil
}

func (buggyHandler) ListSequenceStores(context.Context, *omicsapi.ListSequenceStoresInput) (*omicsapi.ListSequenceStoresOutput, error) {
	return &omicsapi.ListSequenceStoresOutput{SequenceStores: []omicsapi.SequenceStoreDetail{}}, nil
}

// panicAfter reads as n bytes of 'A' and then panics.
type panicAfter struct{ n int }

func (p *panicAfter) Read(b []byte) (int, error) {
	if p.n == 0 {
		panic("payload source broke")
	}
	k := min(len(b), p.n)
	copy(b, bytes.Repeat([]byte("A"), k))
	p.n -= k
	return k, nil
}

// A panic in a handler fails its request, over real HTTP, with a 500
// InternalServerException whose request ID is in the log; a panic after the
// payload has begun cuts the connection, so no client takes a short payload
// for a whole one. The server serves on.
func TestHandlerPanicFailsOnlyItsRequest(t *testing.T) {
	logs := &testutil.SyncBuffer{}
	srv := httptest.NewServer(omicsapi.NewRouter(buggyHandler{}, omicsapi.RouterOptions{Logger: slog.New(slog.NewTextHandler(logs, nil))}))
	t.Cleanup(srv.Close)
	srv.Config.ErrorLog = nil
	client := omics.New(omics.Options{
		BaseEndpoint: aws.String(srv.URL), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:  srv.Client(), Retryer: aws.NopRetryer{},
		APIOptions: []func(*middleware.Stack) error{disableHostPrefix},
	})
	ctx := context.Background()

	_, err := client.GetSequenceStore(ctx, &omics.GetSequenceStoreInput{Id: aws.String("1234567890")})
	var api smithy.APIError
	var re *awshttp.ResponseError
	if !errors.As(err, &api) || api.ErrorCode() != "InternalServerException" || !errors.As(err, &re) || re.HTTPStatusCode() != 500 {
		t.Fatalf("a panicking handler: %v, want a 500 InternalServerException", err)
	}
	if id := re.ServiceRequestID(); id == "" || !strings.Contains(logs.String(), "request_id="+id) || !strings.Contains(logs.String(), "index out of range") {
		t.Fatalf("request id %q and the panic are not both in the log:\n%s", id, logs.String())
	} else if n := strings.Count(logs.String(), "request_id="+id); n != 1 {
		t.Fatalf("the failed request %s is logged on %d lines, want one:\n%s", id, n, logs.String())
	}

	for _, file := range []omics.GetReadSetInput{{File: "SOURCE1"}, {File: "INDEX"}} {
		out, err := client.GetReadSet(ctx, &omics.GetReadSetInput{Id: aws.String("1234567890"), SequenceStoreId: aws.String("1234567890"), PartNumber: aws.Int32(1), File: file.File})
		if err != nil {
			t.Fatalf("GetReadSet %s: %v (the panic comes after the headers)", file.File, err)
		}
		n, err := io.Copy(io.Discard, out.Payload)
		out.Payload.Close()
		if err == nil {
			t.Fatalf("GetReadSet %s: read %d bytes and no error; a payload cut by a panic must fail", file.File, n)
		}
	}

	if _, err := client.ListSequenceStores(ctx, &omics.ListSequenceStoresInput{}); err != nil {
		t.Fatalf("after the panics: %v", err)
	}
}
