package omicsapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/seqstore/seqstore/internal/api/omicsapi"
)

// echoHandler answers a representative set of operations by echoing their
// inputs into their outputs, so a test can see what the SDK sent and whether
// the SDK parses what comes back.
type echoHandler struct {
	omicsapi.UnimplementedHandler

	mu       sync.Mutex
	lastIn   any
	fail     error             // returned by CreateMultipartReadSetUpload and GetReadSet when set
	policies map[string]string // S3 access policies by access point ARN

	// Seen by the Authenticate hook, by operation name.
	payloadHash   map[string]string // X-Amz-Content-Sha256
	authorization map[string]string
}

// authenticate records what the SDK signed with; it accepts every request.
func (h *echoHandler) authenticate(r *http.Request, op *omicsapi.Operation) (context.Context, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.payloadHash == nil {
		h.payloadHash, h.authorization = map[string]string{}, map[string]string{}
	}
	h.payloadHash[op.Name] = r.Header.Get("X-Amz-Content-Sha256")
	h.authorization[op.Name] = r.Header.Get("Authorization")
	return r.Context(), nil
}

func (h *echoHandler) record(in any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastIn = in
}

func (h *echoHandler) last() any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lastIn
}

var created = time.Date(2024, 1, 12, 4, 50, 33, 548e6, time.UTC)

func (h *echoHandler) GetSequenceStore(ctx context.Context, in *omicsapi.GetSequenceStoreInput) (*omicsapi.GetSequenceStoreOutput, error) {
	h.record(in)
	return &omicsapi.GetSequenceStoreOutput{
		Id: in.Id, Arn: "arn:aws:omics:us-east-1:123456789012:sequenceStore/" + in.Id, Name: "store " + in.Id,
		CreationTime: omicsapi.NewTime(created), UpdateTime: omicsapi.TimePtr(created.Add(time.Hour)),
		SseConfig: &omicsapi.SseConfig{Type: omicsapi.EncryptionTypeKms}, Status: omicsapi.SequenceStoreStatusActive,
		ETagAlgorithmFamily: omicsapi.ETagAlgorithmFamilyMd5up, PropagatedSetLevelTags: []string{"a", "b"},
		FallbackLocation: aws.String(""),
	}, nil
}

func (h *echoHandler) CreateSequenceStore(ctx context.Context, in *omicsapi.CreateSequenceStoreInput) (*omicsapi.CreateSequenceStoreOutput, error) {
	h.record(in)
	return &omicsapi.CreateSequenceStoreOutput{Id: "1234567890", Arn: "arn:aws:omics:us-east-1:123456789012:sequenceStore/1234567890",
		Name: in.Name, Description: in.ClientToken, CreationTime: omicsapi.NewTime(created)}, nil
}

func (h *echoHandler) ListReadSets(ctx context.Context, in *omicsapi.ListReadSetsInput) (*omicsapi.ListReadSetsOutput, error) {
	h.record(in)
	out := &omicsapi.ListReadSetsOutput{}
	if in.NextToken == "" {
		out.NextToken = "page2"
	}
	item := omicsapi.ReadSetListItem{Id: "1111111111", Arn: "arn:aws:omics:us-east-1:123456789012:sequenceStore/" + in.SequenceStoreId + "/readSet/1111111111",
		SequenceStoreId: in.SequenceStoreId, Status: omicsapi.ReadSetStatusActive, FileType: omicsapi.FileTypeFastq,
		CreationTime: omicsapi.NewTime(created), Description: fmt.Sprint("maxResults=", *in.MaxResults, " token=", in.NextToken),
		SequenceInformation: &omicsapi.SequenceInformation{TotalReadCount: aws.Int64(200), TotalBaseCount: aws.Int64(30000)}}
	if in.Filter != nil {
		item.Name = in.Filter.Name
		if in.Filter.CreatedAfter != nil {
			item.CreationTime = *in.Filter.CreatedAfter // echo the filter's time
		}
	}
	out.ReadSets = append(out.ReadSets, item)
	return out, nil
}

func (h *echoHandler) TagResource(ctx context.Context, in *omicsapi.TagResourceInput) (*omicsapi.TagResourceOutput, error) {
	h.record(in)
	return &omicsapi.TagResourceOutput{}, nil
}

func (h *echoHandler) UntagResource(ctx context.Context, in *omicsapi.UntagResourceInput) (*omicsapi.UntagResourceOutput, error) {
	h.record(in)
	return &omicsapi.UntagResourceOutput{}, nil
}

func (h *echoHandler) ListTagsForResource(ctx context.Context, in *omicsapi.ListTagsForResourceInput) (*omicsapi.ListTagsForResourceOutput, error) {
	h.record(in)
	return &omicsapi.ListTagsForResourceOutput{Tags: map[string]string{"arn": in.ResourceArn}}, nil
}

func (h *echoHandler) UploadReadSetPart(ctx context.Context, in *omicsapi.UploadReadSetPartInput) (*omicsapi.UploadReadSetPartOutput, error) {
	data, err := io.ReadAll(in.Payload)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != in.ContentLength {
		return nil, omicsapi.NewValidationException("read %d bytes, Content-Length said %d", len(data), in.ContentLength)
	}
	h.record(in)
	sum := sha256.Sum256(data)
	return &omicsapi.UploadReadSetPartOutput{Checksum: fmt.Sprintf("%s/%d/%s", in.PartSource, in.PartNumber, hex.EncodeToString(sum[:]))}, nil
}

// readSetPart is the payload GetReadSet serves for a part.
func readSetPart(file omicsapi.ReadSetFile, part int32) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("%s part %d\n", file, part)), 10000)
}

func (h *echoHandler) GetReadSet(ctx context.Context, in *omicsapi.GetReadSetInput) (*omicsapi.GetReadSetOutput, error) {
	h.record(in)
	if h.fail != nil {
		return nil, h.fail
	}
	data := readSetPart(in.File, in.PartNumber)
	return &omicsapi.GetReadSetOutput{Payload: io.NopCloser(bytes.NewReader(data)), ContentLength: int64(len(data))}, nil
}

func (h *echoHandler) CreateMultipartReadSetUpload(ctx context.Context, in *omicsapi.CreateMultipartReadSetUploadInput) (*omicsapi.CreateMultipartReadSetUploadOutput, error) {
	h.record(in)
	return nil, h.fail
}

func (h *echoHandler) PutS3AccessPolicy(ctx context.Context, in *omicsapi.PutS3AccessPolicyInput) (*omicsapi.PutS3AccessPolicyOutput, error) {
	h.record(in)
	h.mu.Lock()
	h.policies[in.S3AccessPointArn] = in.S3AccessPolicy
	h.mu.Unlock()
	return &omicsapi.PutS3AccessPolicyOutput{S3AccessPointArn: in.S3AccessPointArn, StoreId: "1234567890", StoreType: omicsapi.StoreTypeSequenceStore}, nil
}

func (h *echoHandler) GetS3AccessPolicy(ctx context.Context, in *omicsapi.GetS3AccessPolicyInput) (*omicsapi.GetS3AccessPolicyOutput, error) {
	h.mu.Lock()
	policy, ok := h.policies[in.S3AccessPointArn]
	h.mu.Unlock()
	if !ok {
		return nil, omicsapi.NewResourceNotFoundException("no policy on %s", in.S3AccessPointArn)
	}
	return &omicsapi.GetS3AccessPolicyOutput{S3AccessPointArn: in.S3AccessPointArn, S3AccessPolicy: policy, UpdateTime: omicsapi.TimePtr(created)}, nil
}

// disableHostPrefix stops the SDK from prepending control-storage- and the
// like to the test server's address, which would not resolve.
func disableHostPrefix(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("DisableHostPrefix",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}

func newSDKClient(t *testing.T, h *echoHandler) *omics.Client {
	t.Helper()
	srv := httptest.NewServer(omicsapi.NewRouter(h, omicsapi.RouterOptions{Authenticate: h.authenticate, Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	return omics.New(omics.Options{
		BaseEndpoint: aws.String(srv.URL),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:   srv.Client(),
		Retryer:      aws.NopRetryer{},
		APIOptions:   []func(*middleware.Stack) error{disableHostPrefix},
	})
}

func TestSDKGetWithPathLabels(t *testing.T) {
	h := &echoHandler{}
	client := newSDKClient(t, h)
	out, err := client.GetSequenceStore(context.Background(), &omics.GetSequenceStoreInput{Id: aws.String("1234567890")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.last(), (&omicsapi.GetSequenceStoreInput{Id: "1234567890"}); !reflect.DeepEqual(got, want) {
		t.Errorf("bound %+v, want %+v", got, want)
	}
	if aws.ToString(out.Id) != "1234567890" || aws.ToString(out.Name) != "store 1234567890" || !out.CreationTime.Equal(created) ||
		!out.UpdateTime.Equal(created.Add(time.Hour)) || out.SseConfig.Type != types.EncryptionTypeKms ||
		out.Status != types.SequenceStoreStatusActive || out.ETagAlgorithmFamily != types.ETagAlgorithmFamilyMd5up ||
		!reflect.DeepEqual(out.PropagatedSetLevelTags, []string{"a", "b"}) || out.FallbackLocation == nil || *out.FallbackLocation != "" {
		t.Errorf("SDK parsed %+v", out)
	}
	if id, ok := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response); !ok || len(id.Header.Get("X-Amzn-Requestid")) != 36 {
		t.Errorf("no request id on the response")
	}
}

func TestSDKIdempotencyTokenArrives(t *testing.T) {
	h := &echoHandler{}
	client := newSDKClient(t, h)
	out, err := client.CreateSequenceStore(context.Background(), &omics.CreateSequenceStoreInput{Name: aws.String("my store")})
	if err != nil {
		t.Fatal(err)
	}
	in := h.last().(*omicsapi.CreateSequenceStoreInput)
	if in.Name != "my store" || len(in.ClientToken) < 10 || aws.ToString(out.Description) != in.ClientToken {
		t.Errorf("bound %+v; SDK got %+v", in, out)
	}
}

func TestSDKPostListWithQueryBodyFilterAndTimestamps(t *testing.T) {
	h := &echoHandler{}
	client := newSDKClient(t, h)
	after := time.Date(2024, 1, 2, 3, 4, 5, 123e6, time.UTC)
	in := &omics.ListReadSetsInput{
		SequenceStoreId: aws.String("1234567890"), MaxResults: aws.Int32(7),
		Filter: &types.ReadSetFilter{Name: aws.String("sample one"), Status: types.ReadSetStatusActive, CreatedAfter: &after, ReferenceArn: aws.String("")},
	}
	out, err := client.ListReadSets(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	want := &omicsapi.ListReadSetsInput{SequenceStoreId: "1234567890", MaxResults: aws.Int32(7),
		Filter: &omicsapi.ReadSetFilter{Name: "sample one", Status: omicsapi.ReadSetStatusActive, CreatedAfter: omicsapi.TimePtr(after), ReferenceArn: aws.String("")}}
	got := h.last().(*omicsapi.ListReadSetsInput)
	if !got.Filter.CreatedAfter.Equal(after) {
		t.Errorf("createdAfter arrived as %v, want %v", got.Filter.CreatedAfter, after)
	}
	got.Filter.CreatedAfter, want.Filter.CreatedAfter = nil, nil // compared above; locations differ
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bound %+v %+v, want %+v %+v", got, got.Filter, want, want.Filter)
	}
	if len(out.ReadSets) != 1 || aws.ToString(out.NextToken) != "page2" {
		t.Fatalf("SDK parsed %+v", out)
	}
	item := out.ReadSets[0]
	if !item.CreationTime.Equal(after) || aws.ToString(item.Name) != "sample one" || aws.ToString(item.Description) != "maxResults=7 token=" ||
		item.Status != types.ReadSetStatusActive || item.FileType != types.FileTypeFastq || aws.ToInt64(item.SequenceInformation.TotalBaseCount) != 30000 {
		t.Errorf("SDK parsed item %+v", item)
	}

	// The SDK's paginator follows nextToken through the query.
	pages := omics.NewListReadSetsPaginator(client, &omics.ListReadSetsInput{SequenceStoreId: aws.String("1234567890"), MaxResults: aws.Int32(1)})
	var descriptions []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		descriptions = append(descriptions, aws.ToString(page.ReadSets[0].Description))
	}
	if want := []string{"maxResults=1 token=", "maxResults=1 token=page2"}; !reflect.DeepEqual(descriptions, want) {
		t.Errorf("pages %q, want %q", descriptions, want)
	}
}

const readSetArn = "arn:aws:omics:us-east-1:123456789012:sequenceStore/1234567890/readSet/1234567890"

func TestSDKTagging(t *testing.T) {
	h := &echoHandler{}
	client := newSDKClient(t, h)
	ctx := context.Background()
	if _, err := client.TagResource(ctx, &omics.TagResourceInput{ResourceArn: aws.String(readSetArn), Tags: map[string]string{"project": "x y", "empty": ""}}); err != nil {
		t.Fatal(err)
	}
	if got, want := h.last(), (&omicsapi.TagResourceInput{ResourceArn: readSetArn, Tags: map[string]string{"project": "x y", "empty": ""}}); !reflect.DeepEqual(got, want) {
		t.Errorf("TagResource bound %+v, want %+v", got, want)
	}
	if _, err := client.UntagResource(ctx, &omics.UntagResourceInput{ResourceArn: aws.String(readSetArn), TagKeys: []string{"a&b=c", "project"}}); err != nil {
		t.Fatal(err)
	}
	if got, want := h.last(), (&omicsapi.UntagResourceInput{ResourceArn: readSetArn, TagKeys: []string{"a&b=c", "project"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("UntagResource bound %+v, want %+v", got, want)
	}
	out, err := client.ListTagsForResource(ctx, &omics.ListTagsForResourceInput{ResourceArn: aws.String(readSetArn)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out.Tags, map[string]string{"arn": readSetArn}) {
		t.Errorf("tags %v", out.Tags)
	}
}

func TestSDKStreamingUploadAndDownload(t *testing.T) {
	h := &echoHandler{}
	client := newSDKClient(t, h)
	ctx := context.Background()
	part := bytes.Repeat([]byte("@read\nACGTACGT\n+\nIIIIIIII\n"), 40000) // about 1 MB
	out, err := client.UploadReadSetPart(ctx, &omics.UploadReadSetPartInput{
		SequenceStoreId: aws.String("1234567890"), UploadId: aws.String("2345678901"),
		PartSource: types.ReadSetPartSourceSource2, PartNumber: aws.Int32(3), Payload: bytes.NewReader(part),
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(part)
	if got, want := aws.ToString(out.Checksum), "SOURCE2/3/"+hex.EncodeToString(sum[:]); got != want {
		t.Errorf("checksum %s, want %s", got, want)
	}
	in := h.last().(*omicsapi.UploadReadSetPartInput)
	if in.SequenceStoreId != "1234567890" || in.UploadId != "2345678901" || in.ContentLength != int64(len(part)) {
		t.Errorf("bound %+v", in)
	}
	// The part is signed as UNSIGNED-PAYLOAD, as the operation table says, with service omics.
	if got := h.payloadHash["UploadReadSetPart"]; got != "UNSIGNED-PAYLOAD" || !omicsapi.OpUploadReadSetPart.UnsignedPayload {
		t.Errorf("UploadReadSetPart payload hash %q", got)
	}
	if auth := h.authorization["UploadReadSetPart"]; !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/us-east-1/omics/aws4_request") {
		t.Errorf("Authorization %q", auth)
	}

	got, err := client.GetReadSet(ctx, &omics.GetReadSetInput{Id: aws.String("1234567890"), SequenceStoreId: aws.String("2345678901"),
		PartNumber: aws.Int32(2), File: types.ReadSetFileIndex})
	if err != nil {
		t.Fatal(err)
	}
	defer got.Payload.Close()
	data, err := io.ReadAll(got.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if want := readSetPart(omicsapi.ReadSetFileIndex, 2); !bytes.Equal(data, want) {
		t.Errorf("downloaded %d bytes, want %d", len(data), len(want))
	}
}

func TestSDKS3AccessPolicyAsJSONString(t *testing.T) {
	h := &echoHandler{policies: map[string]string{}}
	client := newSDKClient(t, h)
	ctx := context.Background()
	arn := "arn:aws:s3:us-east-1:123456789012:accesspoint/123456789012-1234567890"
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"*"}]}`
	put, err := client.PutS3AccessPolicy(ctx, &omics.PutS3AccessPolicyInput{S3AccessPointArn: aws.String(arn), S3AccessPolicy: aws.String(policy)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.S3AccessPointArn) != arn || put.StoreType != types.StoreTypeSequenceStore {
		t.Errorf("put output %+v", put)
	}
	get, err := client.GetS3AccessPolicy(ctx, &omics.GetS3AccessPolicyInput{S3AccessPointArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(get.S3AccessPolicy) != policy || !get.UpdateTime.Equal(created) {
		t.Errorf("policy came back as %q at %v", aws.ToString(get.S3AccessPolicy), get.UpdateTime)
	}
}

func isA[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

func TestSDKTypedErrors(t *testing.T) {
	h := &echoHandler{}
	client := newSDKClient(t, h)
	ctx := context.Background()
	upload := func() error {
		_, err := client.CreateMultipartReadSetUpload(ctx, &omics.CreateMultipartReadSetUploadInput{
			SequenceStoreId: aws.String("1234567890"), SourceFileType: types.FileTypeFastq,
			SubjectId: aws.String("s"), SampleId: aws.String("s"), Name: aws.String("n")})
		return err
	}
	getReadSet := func() error {
		_, err := client.GetReadSet(ctx, &omics.GetReadSetInput{Id: aws.String("1234567890"), SequenceStoreId: aws.String("1234567890"), PartNumber: aws.Int32(1)})
		return err
	}
	for _, tc := range []struct {
		err   *omicsapi.Error
		call  func() error
		typed func(error) bool
	}{
		{omicsapi.NewAccessDeniedException("denied"), upload, isA[*types.AccessDeniedException]},
		{omicsapi.NewConflictException("read set is archived"), getReadSet, isA[*types.ConflictException]},
		{omicsapi.NewInternalServerException("oops"), upload, isA[*types.InternalServerException]},
		{omicsapi.NewNotSupportedOperationException("no"), upload, isA[*types.NotSupportedOperationException]},
		{omicsapi.NewRangeNotSatisfiableException("part 9 of 2"), getReadSet, isA[*types.RangeNotSatisfiableException]},
		{omicsapi.NewRequestTimeoutException("slow"), upload, isA[*types.RequestTimeoutException]},
		{omicsapi.NewResourceNotFoundException("The specified sequence store does not exist."), upload, isA[*types.ResourceNotFoundException]},
		{omicsapi.NewServiceQuotaExceededException("too many"), upload, isA[*types.ServiceQuotaExceededException]},
		{omicsapi.NewThrottlingException("slow down"), upload, isA[*types.ThrottlingException]},
		{omicsapi.NewValidationException("bad"), upload, isA[*types.ValidationException]},
	} {
		t.Run(tc.err.Code, func(t *testing.T) {
			h.fail = tc.err
			err := tc.call()
			var apiErr smithy.APIError
			if !tc.typed(err) || !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.err.Code || apiErr.ErrorMessage() != tc.err.Message {
				t.Errorf("got %T %v, want the SDK's typed %s with message %q", err, err, tc.err.Code, tc.err.Message)
			}
			var respErr *awshttp.ResponseError
			if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != tc.err.Status || len(respErr.ServiceRequestID()) != 36 {
				t.Errorf("response error %v", err)
			}
		})
	}
	h.fail = nil

	// Validation by the router and the unimplemented answer arrive typed too.
	_, err := client.GetReadSet(ctx, &omics.GetReadSetInput{Id: aws.String("12"), SequenceStoreId: aws.String("1234567890"), PartNumber: aws.Int32(1)})
	var validation *types.ValidationException
	if !errors.As(err, &validation) || validation.ErrorMessage() != "1 validation error detected: Value '12' at 'id' failed to satisfy constraint: Member must have length greater than or equal to 10" {
		t.Errorf("validation: %v", err)
	}
	_, err = client.AbortMultipartReadSetUpload(ctx, &omics.AbortMultipartReadSetUploadInput{SequenceStoreId: aws.String("1234567890"), UploadId: aws.String("1234567890")})
	var unsupported *types.NotSupportedOperationException
	if !errors.As(err, &unsupported) || unsupported.ErrorMessage() != "seqstore does not implement AbortMultipartReadSetUpload yet" {
		t.Errorf("unimplemented: %v", err)
	}
}
