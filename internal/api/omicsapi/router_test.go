package omicsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// recordingHandler keeps the input of the last call, and answers with out or err.
type recordingHandler struct {
	UnimplementedHandler
	got any
	ctx context.Context
	err error
}

func (h *recordingHandler) GetSequenceStore(ctx context.Context, in *GetSequenceStoreInput) (*GetSequenceStoreOutput, error) {
	h.got, h.ctx = in, ctx
	if h.err != nil {
		return nil, h.err
	}
	return &GetSequenceStoreOutput{Id: in.Id, Arn: "arn:aws:omics:us-east-1:123456789012:sequenceStore/" + in.Id,
		CreationTime: NewTime(time.Date(2024, 1, 12, 4, 50, 33, 548e6, time.UTC))}, nil
}

func (h *recordingHandler) ListReadSets(ctx context.Context, in *ListReadSetsInput) (*ListReadSetsOutput, error) {
	h.got = in
	return &ListReadSetsOutput{}, h.err
}

func (h *recordingHandler) UpdateSequenceStore(ctx context.Context, in *UpdateSequenceStoreInput) (*UpdateSequenceStoreOutput, error) {
	h.got = in
	return nil, h.err
}

func (h *recordingHandler) TagResource(ctx context.Context, in *TagResourceInput) (*TagResourceOutput, error) {
	h.got = in
	return &TagResourceOutput{}, h.err
}

func (h *recordingHandler) UntagResource(ctx context.Context, in *UntagResourceInput) (*UntagResourceOutput, error) {
	h.got = in
	return &UntagResourceOutput{}, h.err
}

func (h *recordingHandler) GetReference(ctx context.Context, in *GetReferenceInput) (*GetReferenceOutput, error) {
	h.got = in
	body := "ACGT" + in.Range
	return &GetReferenceOutput{Payload: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}, h.err
}

func (h *recordingHandler) DeleteSequenceStore(ctx context.Context, in *DeleteSequenceStoreInput) (*DeleteSequenceStoreOutput, error) {
	h.got = in
	return &DeleteSequenceStoreOutput{}, h.err
}

func (h *recordingHandler) UploadReadSetPart(ctx context.Context, in *UploadReadSetPartInput) (*UploadReadSetPartOutput, error) {
	data, err := io.ReadAll(in.Payload)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	h.got = in
	return &UploadReadSetPartOutput{Checksum: hex.EncodeToString(sum[:])}, h.err
}

func (h *recordingHandler) StartReadSetActivationJob(ctx context.Context, in *StartReadSetActivationJobInput) (*StartReadSetActivationJobOutput, error) {
	h.got = in
	return nil, h.err
}

func (h *recordingHandler) PutS3AccessPolicy(ctx context.Context, in *PutS3AccessPolicyInput) (*PutS3AccessPolicyOutput, error) {
	h.got = in
	return &PutS3AccessPolicyOutput{S3AccessPointArn: in.S3AccessPointArn}, h.err
}

type response struct {
	status int
	header http.Header
	body   string
}

func serve(t *testing.T, h http.Handler, req *http.Request) response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

func newRequest(method, target, body string) *http.Request {
	return httptest.NewRequest(method, target, strings.NewReader(body))
}

func ptr[T any](v T) *T { return &v }

func TestRoutingFindsEveryOperation(t *testing.T) {
	h := NewRouter(UnimplementedHandler{}, RouterOptions{})
	for _, op := range Operations {
		// Fill each label with a valid-looking value so the request gets past routing.
		path := op.URI
		for _, label := range []string{"{id}", "{sequenceStoreId}", "{referenceStoreId}", "{uploadId}"} {
			path = strings.ReplaceAll(path, label, "1234567890")
		}
		path = strings.ReplaceAll(path, "{resourceArn}", "arn%3Aaws%3Aomics%3Aus-east-1%3A123456789012%3AsequenceStore%2F1234567890")
		path = strings.ReplaceAll(path, "{s3AccessPointArn}", "arn%3Aaws%3As3%3Aus-east-1%3A123456789012%3Aaccesspoint%2Fx")
		if m, _, _ := matchRoute(op.Method, strings.Split(path[1:], "/")); m != op {
			t.Errorf("%s %s: matched %v, want %s", op.Method, path, m, op.Name)
		}
		// Through the router, every operation is routed (not 404/405) and
		// the unimplemented ones answer NotSupportedOperationException.
		req := newRequest(op.Method, path+"?partNumber=1&tagKeys=k", "{}")
		got := serve(t, h, req)
		if got.header.Get("X-Amzn-Errortype") == CodeUnknownOperationException || got.status == 405 && got.header.Get("Allow") != "" {
			t.Errorf("%s %s: not routed: %d %s", op.Method, path, got.status, got.body)
		}
	}
}

func TestRoutingPrefersLiteralsAndFallsBackToLabels(t *testing.T) {
	for _, tc := range []struct {
		method, path, want string
	}{
		{"POST", "/sequencestore/1234567890/readset/batch/delete", "BatchDeleteReadSet"},
		{"GET", "/sequencestore/1234567890/readset/batch/metadata", "GetReadSetMetadata"},
		{"GET", "/sequencestore/1234567890/readset/1234567890", "GetReadSet"},
		{"POST", "/sequencestore/1234567890/readsets", "ListReadSets"},
		{"DELETE", "/tags/x", "UntagResource"},
		{"GET", "/tags/x", "ListTagsForResource"},
		{"POST", "/tags/x", "TagResource"},
	} {
		op, _, _ := matchRoute(tc.method, strings.Split(tc.path[1:], "/"))
		if op == nil || op.Name != tc.want {
			t.Errorf("%s %s: got %v, want %s", tc.method, tc.path, op, tc.want)
		}
	}
}

func TestUnknownRouteAndWrongMethod(t *testing.T) {
	h := NewRouter(UnimplementedHandler{}, RouterOptions{})
	for _, tc := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/", 404, CodeUnknownOperationException, ""},
		{"GET", "/workflow/1234", 404, CodeUnknownOperationException, ""},
		{"GET", "/sequencestore/1/readset/2/metadata/extra", 404, CodeUnknownOperationException, ""},
		{"GET", "/a/b/c/d/e/f/g/h/i/j/k", 404, CodeUnknownOperationException, ""},
		{"PUT", "/sequencestore/1234567890", 405, CodeMethodNotAllowedException, "DELETE, GET, PATCH"},
		{"GET", "/sequencestores", 405, CodeMethodNotAllowedException, "POST"},
	} {
		got := serve(t, h, newRequest(tc.method, tc.path, ""))
		if got.status != tc.status || got.header.Get("X-Amzn-Errortype") != tc.code || got.header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: got %d %q allow %q, want %d %q allow %q", tc.method, tc.path,
				got.status, got.header.Get("X-Amzn-Errortype"), got.header.Get("Allow"), tc.status, tc.code, tc.allow)
		}
		var body struct{ Type, Message string }
		body.Type = "unset"
		if err := json.Unmarshal([]byte(got.body), &struct {
			Type    *string `json:"__type"`
			Message *string `json:"message"`
		}{&body.Type, &body.Message}); err != nil || body.Type != tc.code || body.Message == "" {
			t.Errorf("%s %s: body %s", tc.method, tc.path, got.body)
		}
	}
}

func TestBinding(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  *http.Request
		want any
	}{
		{
			name: "path label",
			req:  newRequest("GET", "/sequencestore/1234567890", ""),
			want: &GetSequenceStoreInput{Id: "1234567890"},
		},
		{
			name: "percent-encoded ARN in one segment, %2F included",
			req: newRequest("POST", "/tags/arn%3Aaws%3Aomics%3Aus-east-1%3A123456789012%3AsequenceStore%2F1234567890%2FreadSet%2F1234567890",
				`{"tags":{"k":"v","empty":""}}`),
			want: &TagResourceInput{ResourceArn: "arn:aws:omics:us-east-1:123456789012:sequenceStore/1234567890/readSet/1234567890",
				Tags: map[string]string{"k": "v", "empty": ""}},
		},
		{
			name: "repeated query key",
			req:  newRequest("DELETE", "/tags/arn%3Aaws%3Ax?tagKeys=a&tagKeys=b%20c", ""),
			want: &UntagResourceInput{ResourceArn: "arn:aws:x", TagKeys: []string{"a", "b c"}},
		},
		{
			name: "query and body on a POST list",
			req: newRequest("POST", "/sequencestore/1234567890/readsets?maxResults=5&nextToken=abc",
				`{"filter": {"createdAfter": "2024-01-02T03:04:05Z", "status": "ACTIVE", "referenceArn": "", "unknown": 1}, "other": [1]}`),
			want: &ListReadSetsInput{SequenceStoreId: "1234567890", MaxResults: ptr(int32(5)), NextToken: "abc",
				Filter: &ReadSetFilter{CreatedAfter: TimePtr(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)), Status: ReadSetStatusActive, ReferenceArn: ptr("")}},
		},
		{
			name: "empty body is {}",
			req:  newRequest("POST", "/sequencestore/1234567890/readsets", ""),
			want: &ListReadSetsInput{SequenceStoreId: "1234567890"},
		},
		{
			name: "empty string differs from absent where the model admits it",
			req:  newRequest("PATCH", "/sequencestore/1234567890", `{"fallbackLocation": "", "propagatedSetLevelTags": []}`),
			want: &UpdateSequenceStoreInput{Id: "1234567890", FallbackLocation: ptr(""), PropagatedSetLevelTags: []string{}},
		},
		{
			name: "Range header, partNumber and file",
			req: func() *http.Request {
				r := newRequest("GET", "/referencestore/1234567890/reference/2345678901?partNumber=3&file=INDEX", "")
				r.Header.Set("Range", "0-99")
				return r
			}(),
			want: &GetReferenceInput{ReferenceStoreId: "1234567890", Id: "2345678901", PartNumber: 3, File: ReferenceFileIndex, Range: "0-99"},
		},
		{
			name: "jsonvalue policy as a string",
			req: newRequest("PUT", "/s3accesspolicy/arn%3Aaws%3As3%3Aus-east-1%3A123456789012%3Aaccesspoint%2F1-2",
				`{"s3AccessPolicy": "{\"Version\":\"2012-10-17\"}"}`),
			want: &PutS3AccessPolicyInput{S3AccessPointArn: "arn:aws:s3:us-east-1:123456789012:accesspoint/1-2", S3AccessPolicy: `{"Version":"2012-10-17"}`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &recordingHandler{}
			got := serve(t, NewRouter(h, RouterOptions{}), tc.req)
			if got.status >= 300 {
				t.Fatalf("status %d: %s", got.status, got.body)
			}
			if !reflect.DeepEqual(h.got, tc.want) {
				t.Errorf("bound\n%#v\nwant\n%#v", h.got, tc.want)
			}
		})
	}
}

func TestStreamingUpload(t *testing.T) {
	h := &recordingHandler{}
	part := bytes.Repeat([]byte("@r\nACGT\n+\nIIII\n"), 1000)
	req := httptest.NewRequest("PUT", "/sequencestore/1234567890/upload/2345678901/part?partSource=SOURCE1&partNumber=2", bytes.NewReader(part))
	got := serve(t, NewRouter(h, RouterOptions{}), req)
	sum := sha256.Sum256(part)
	if want := `{"checksum":"` + hex.EncodeToString(sum[:]) + `"}`; got.status != 200 || got.body != want {
		t.Fatalf("got %d %s, want 200 %s", got.status, got.body, want)
	}
	in := h.got.(*UploadReadSetPartInput)
	if in.PartSource != ReadSetPartSourceSource1 || in.PartNumber != 2 || in.ContentLength != int64(len(part)) {
		t.Errorf("bound %+v", in)
	}

	// A chunked part has no length, which the model requires.
	req = httptest.NewRequest("PUT", "/sequencestore/1234567890/upload/2345678901/part?partSource=SOURCE1&partNumber=2", bytes.NewReader(part))
	req.ContentLength = -1
	got = serve(t, NewRouter(h, RouterOptions{}), req)
	if got.status != 400 || !strings.Contains(got.body, "Content-Length") {
		t.Errorf("chunked part: got %d %s", got.status, got.body)
	}
}

func TestValidationMessages(t *testing.T) {
	longKey := strings.Repeat("k", 129)
	for _, tc := range []struct {
		name string
		req  *http.Request
		want string // the whole message: a hand-checked literal in the form AWS uses
	}{
		{"label too short", newRequest("GET", "/sequencestore/12", ""),
			"1 validation error detected: Value '12' at 'id' failed to satisfy constraint: Member must have length greater than or equal to 10"},
		{"label breaks pattern and length", newRequest("GET", "/sequencestore/12a", ""),
			"2 validation errors detected: Value '12a' at 'id' failed to satisfy constraint: Member must have length greater than or equal to 10; " +
				"Value '12a' at 'id' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]+"},
		{"empty label is null", newRequest("GET", "/sequencestore/", ""),
			"1 validation error detected: Value null at 'id' failed to satisfy constraint: Member must not be null"},
		{"required query missing", newRequest("GET", "/sequencestore/1234567890/readset/1234567890", ""),
			"1 validation error detected: Value null at 'partNumber' failed to satisfy constraint: Member must not be null"},
		{"query integer does not parse", newRequest("POST", "/sequencestores?maxResults=ten", ""),
			"1 validation error detected: Value 'ten' at 'maxResults' failed to satisfy constraint: Member must be an integer"},
		{"query integer out of range", newRequest("POST", "/sequencestores?maxResults=101", ""),
			"1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"},
		{"query enum", newRequest("GET", "/sequencestore/1234567890/readset/1234567890?partNumber=1&file=SOURCE3", ""),
			"1 validation error detected: Value 'SOURCE3' at 'file' failed to satisfy constraint: Member must satisfy enum value set: [SOURCE1, SOURCE2, INDEX]"},
		{"nested list element path", newRequest("POST", "/sequencestore/1234567890/activationjob", `{"sources":[{"readSetId":"1234567890"},{}]}`),
			"1 validation error detected: Value null at 'sources.2.member.readSetId' failed to satisfy constraint: Member must not be null"},
		{"list too short", newRequest("POST", "/sequencestore/1234567890/activationjob", `{"sources":[]}`),
			"1 validation error detected: Value with 0 items at 'sources' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"required body member missing", newRequest("POST", "/sequencestore", `{}`),
			"1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"},
		{"nested structure", newRequest("POST", "/sequencestore", `{"name":"n","sseConfig":{"type":"AES"},"s3AccessConfig":{"accessLogLocation":"http://x"}}`),
			"2 validation errors detected: Value 'AES' at 'sseConfig.type' failed to satisfy constraint: Member must satisfy enum value set: [KMS]; " +
				"Value 'http://x' at 's3AccessConfig.accessLogLocation' failed to satisfy constraint: Member must satisfy regular expression pattern: $|^s3://([a-z0-9][a-z0-9-.]{1,61}[a-z0-9])/?((.{1,800})/)?"},
		{"map key too long", newRequest("POST", "/tags/arn%3Ax", `{"tags":{"`+longKey+`":"v"}}`),
			"1 validation error detected: Value '" + longKey + "' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128]"},
		{"repeated query list too long", newRequest("DELETE", "/tags/arn%3Ax?"+strings.Repeat("tagKeys=k&", 51), ""),
			"1 validation error detected: Value '[" + strings.TrimSuffix(strings.Repeat("k, ", 51), ", ") + "]' at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to 50"},
		{"wrong JSON type names the member", newRequest("POST", "/sequencestore/1234567890/readsets", `{"filter":{"status":5}}`),
			"1 validation error detected: Value of type number at 'filter.status' failed to satisfy constraint: Member must be a string"},
		{"bad timestamp names the member", newRequest("POST", "/sequencestore/1234567890/readsets", `{"filter":{"createdAfter":1704164645}}`),
			"1 validation error detected: Value '1704164645' of type number at 'filter.createdAfter' failed to satisfy constraint: Member must be a timestamp in RFC 3339 form such as 2024-01-12T04:50:33.548Z"},
		{"body is not an object", newRequest("POST", "/sequencestores", `[1]`),
			"The request body must be a JSON object, not array"},
		{"malformed JSON", newRequest("POST", "/sequencestores", `{"filter":`),
			"The request body is not valid JSON: unexpected end of JSON input (at byte offset 10)"},
		{"S3 URI pattern is a whole-value match", newRequest("POST", "/sequencestore/1234567890/exportjob", `{"destination":"s3://bucket/prefix","roleArn":"arn:aws:iam::123456789012:role/r","sources":[{"readSetId":"1234567890"}]}`),
			"1 validation error detected: Value 's3://bucket/prefix' at 'destination' failed to satisfy constraint: Member must satisfy regular expression pattern: s3://([a-z0-9][a-z0-9-.]{1,61}[a-z0-9])/?((.{1,1024})/)?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := serve(t, NewRouter(&recordingHandler{}, RouterOptions{}), tc.req)
			var body struct {
				Message string `json:"message"`
			}
			json.Unmarshal([]byte(got.body), &body)
			if got.status != 400 || got.header.Get("X-Amzn-Errortype") != CodeValidationException || body.Message != tc.want {
				t.Errorf("got %d %s %q\nwant 400 ValidationException %q", got.status, got.header.Get("X-Amzn-Errortype"), body.Message, tc.want)
			}
		})
	}
}

func TestBodyCap(t *testing.T) {
	h := NewRouter(&recordingHandler{}, RouterOptions{MaxBodyBytes: 64})
	big := `{"filter":{"name":"` + strings.Repeat("n", 100) + `"}}`
	got := serve(t, h, newRequest("POST", "/sequencestores", big))
	if got.status != 400 || !strings.Contains(got.body, "larger than the 64 bytes") {
		t.Errorf("declared length: got %d %s", got.status, got.body)
	}
	req := newRequest("POST", "/sequencestores", big)
	req.ContentLength = -1 // chunked: caught while reading
	got = serve(t, h, req)
	if got.status != 400 || !strings.Contains(got.body, "larger than the 64 bytes") {
		t.Errorf("chunked: got %d %s", got.status, got.body)
	}
}

func TestResponses(t *testing.T) {
	h := &recordingHandler{}
	rt := NewRouter(h, RouterOptions{})
	for _, tc := range []struct {
		name        string
		req         *http.Request
		status      int
		contentType string
		body        string
	}{
		{"JSON output", newRequest("GET", "/sequencestore/1234567890", ""), 200, "application/json",
			`{"id":"1234567890","arn":"arn:aws:omics:us-east-1:123456789012:sequenceStore/1234567890","creationTime":"2024-01-12T04:50:33.548Z"}`},
		{"required list emitted empty", newRequest("POST", "/sequencestore/1234567890/readsets", ""), 200, "application/json", `{"readSets":[]}`},
		{"empty output is {}", newRequest("DELETE", "/sequencestore/1234567890", ""), 200, "application/json", `{}`},
		{"nil output is {}", newRequest("PATCH", "/sequencestore/1234567890", ""), 200, "application/json", `{"id":"","arn":"","creationTime":"0001-01-01T00:00:00.000Z"}`},
		{"TagResource is 204 without a body", newRequest("POST", "/tags/arn%3Ax", `{"tags":{}}`), 204, "", ""},
		{"UntagResource is 204 without a body", newRequest("DELETE", "/tags/arn%3Ax?tagKeys=a", ""), 204, "", ""},
		{"streaming output", func() *http.Request {
			r := newRequest("GET", "/referencestore/1234567890/reference/2345678901?partNumber=1", "")
			r.Header.Set("Range", "1-2")
			return r
		}(), 200, "application/octet-stream", "ACGT1-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := serve(t, rt, tc.req)
			if got.status != tc.status || got.header.Get("Content-Type") != tc.contentType || got.body != tc.body {
				t.Errorf("got %d %q %s\nwant %d %q %s", got.status, got.header.Get("Content-Type"), got.body, tc.status, tc.contentType, tc.body)
			}
			if tc.body != "" && got.header.Get("Content-Length") != strconv.Itoa(len(tc.body)) {
				t.Errorf("Content-Length %q for %d bytes", got.header.Get("Content-Length"), len(tc.body))
			}
			if len(got.header.Get("X-Amzn-Requestid")) != 36 {
				t.Errorf("x-amzn-RequestId %q", got.header.Get("X-Amzn-Requestid"))
			}
		})
	}
}

func TestRequestIDReachesHandlerAndDiffers(t *testing.T) {
	h := &recordingHandler{}
	rt := NewRouter(h, RouterOptions{})
	seen := map[string]bool{}
	for range 100 {
		got := serve(t, rt, newRequest("GET", "/sequencestore/1234567890", ""))
		id := got.header.Get("X-Amzn-Requestid")
		if RequestID(h.ctx) != id || OperationOf(h.ctx) != OpGetSequenceStore {
			t.Fatalf("RequestID(ctx) = %q, header %q; OperationOf = %v", RequestID(h.ctx), id, OperationOf(h.ctx))
		}
		if seen[id] {
			t.Fatalf("request id %s repeated", id)
		}
		seen[id] = true
	}
}

func TestHandlerErrors(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	errDomain := errors.New("disk on fire")
	for _, tc := range []struct {
		name        string
		err         error
		mapError    func(error) *Error
		status      int
		code        string
		message     string
		serverFault bool
	}{
		{"modeled error passes through", NewResourceNotFoundException("The specified sequence store does not exist."), nil,
			404, CodeResourceNotFoundException, "The specified sequence store does not exist.", false},
		{"wrapped *Error passes through", errors.Join(errDomain, NewConflictException("busy")), nil, 409, CodeConflictException, "busy", false},
		{"other errors become 500", errDomain, nil, 500, CodeInternalServerException, "internal error (request id ", true},
		{"MapError maps domain errors", errDomain, func(err error) *Error {
			if errors.Is(err, errDomain) {
				return NewThrottlingException("slow down")
			}
			return nil
		}, 429, CodeThrottlingException, "slow down", false},
		{"MapError returning nil falls back", errDomain, func(error) *Error { return nil }, 500, CodeInternalServerException, "internal error", true},
		{"status from the code when left 0", &Error{Code: CodeAccessDeniedException, Message: "no"}, nil, 403, CodeAccessDeniedException, "no", false},
		{"unimplemented", NewUnimplemented("GetSequenceStore"), nil, 405, CodeNotSupportedOperationException, "seqstore does not implement GetSequenceStore yet", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			h := &recordingHandler{err: tc.err}
			got := serve(t, NewRouter(h, RouterOptions{MapError: tc.mapError, Logger: logger}), newRequest("GET", "/sequencestore/1234567890", ""))
			var body struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal([]byte(got.body), &body); err != nil {
				t.Fatalf("body %q: %v", got.body, err)
			}
			if got.status != tc.status || got.header.Get("X-Amzn-Errortype") != tc.code || body.Type != tc.code || !strings.HasPrefix(body.Message, tc.message) {
				t.Errorf("got %d %s %s %q, want %d %s %q", got.status, got.header.Get("X-Amzn-Errortype"), body.Type, body.Message, tc.status, tc.code, tc.message)
			}
			// Every failure is logged with its code; a server failure at
			// Error with what it hid from the client, a client's at Info.
			id := got.header.Get("X-Amzn-Requestid")
			line := logs.String()
			want := []string{"level=INFO", "request_id=" + id, "code=" + tc.code, "status=" + strconv.Itoa(tc.status), "op=GetSequenceStore", "remote_addr=192.0.2.1:1234"}
			if tc.serverFault {
				want[0] = "level=ERROR"
				want = append(want, `error="disk on fire"`)
			}
			for _, w := range want {
				if !strings.Contains(line, w) {
					t.Errorf("the log lacks %s: %s", w, line)
				}
			}
			if strings.Count(line, "\n") != 1 {
				t.Errorf("want one line, logged: %s", line)
			}
			if !tc.serverFault && strings.Contains(line, "disk on fire") {
				t.Errorf("a client's failure logged the underlying error: %s", line)
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	type accountKey struct{}
	var gotOp *Operation
	auth := func(r *http.Request, op *Operation) (context.Context, error) {
		gotOp = op
		switch r.Header.Get("Authorization") {
		case "":
			return nil, NewError(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
		case "bad":
			return nil, &Error{Code: "InvalidSignatureException", Status: 403, Message: "The request signature we calculated does not match"}
		case "upper":
			r.Body = io.NopCloser(strings.NewReader("WRAPPED"))
		}
		return context.WithValue(r.Context(), accountKey{}, "123456789012"), nil
	}
	h := &recordingHandler{}
	rt := NewRouter(h, RouterOptions{Authenticate: auth})
	for _, tc := range []struct {
		authorization string
		status        int
		code          string
	}{
		{"", 403, "MissingAuthenticationTokenException"},
		{"bad", 403, "InvalidSignatureException"},
		{"good", 200, ""},
	} {
		req := newRequest("GET", "/sequencestore/1234567890", "")
		req.Header.Set("Authorization", tc.authorization)
		got := serve(t, rt, req)
		if got.status != tc.status || got.header.Get("X-Amzn-Errortype") != tc.code || gotOp != OpGetSequenceStore {
			t.Errorf("%q: got %d %q (op %v), want %d %q", tc.authorization, got.status, got.header.Get("X-Amzn-Errortype"), gotOp, tc.status, tc.code)
		}
	}
	if h.ctx.Value(accountKey{}) != "123456789012" || RequestID(h.ctx) == "" {
		t.Errorf("handler context lacks the account or request id")
	}

	// A body Authenticate wraps is the body the handler reads.
	req := httptest.NewRequest("PUT", "/sequencestore/1234567890/upload/2345678901/part?partSource=SOURCE1&partNumber=1", strings.NewReader("original"))
	req.Header.Set("Authorization", "upper")
	got := serve(t, rt, req)
	sum := sha256.Sum256([]byte("WRAPPED"))
	if !strings.Contains(got.body, hex.EncodeToString(sum[:])) {
		t.Errorf("handler did not read the wrapped body: %s", got.body)
	}
}

func TestBodyReadErrorFromAuthenticateWrapper(t *testing.T) {
	auth := func(r *http.Request, op *Operation) (context.Context, error) {
		r.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"fil`), errReader{NewError(400, "XAmzContentSHA256Mismatch", "hash mismatch")}))
		return nil, nil
	}
	got := serve(t, NewRouter(&recordingHandler{}, RouterOptions{Authenticate: auth}), newRequest("POST", "/sequencestores", `{}`))
	if got.status != 400 || got.header.Get("X-Amzn-Errortype") != "XAmzContentSHA256Mismatch" {
		t.Errorf("got %d %s %s", got.status, got.header.Get("X-Amzn-Errortype"), got.body)
	}
}

func TestBodyReadErrorGoesThroughMapError(t *testing.T) {
	errHash := errors.New("payload hash mismatch")
	auth := func(r *http.Request, op *Operation) (context.Context, error) {
		r.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"fil`), errReader{errHash}))
		return nil, nil
	}
	mapError := func(err error) *Error {
		if errors.Is(err, errHash) {
			return NewError(400, "XAmzContentSHA256Mismatch", "%v", err)
		}
		return nil
	}
	got := serve(t, NewRouter(&recordingHandler{}, RouterOptions{Authenticate: auth, MapError: mapError}), newRequest("POST", "/sequencestores", `{}`))
	if got.status != 400 || got.header.Get("X-Amzn-Errortype") != "XAmzContentSHA256Mismatch" {
		t.Errorf("got %d %s %s", got.status, got.header.Get("X-Amzn-Errortype"), got.body)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

type panickingHandler struct{ UnimplementedHandler }

func (panickingHandler) GetSequenceStore(context.Context, *GetSequenceStoreInput) (*GetSequenceStoreOutput, error) {
	panic("bug")
}

func TestHandlerPanicIsA500(t *testing.T) {
	var logs bytes.Buffer
	got := serve(t, NewRouter(panickingHandler{}, RouterOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))}),
		newRequest("GET", "/sequencestore/1234567890", ""))
	if got.status != 500 || got.header.Get("X-Amzn-Errortype") != CodeInternalServerException || !strings.Contains(logs.String(), "panic=bug") {
		t.Errorf("got %d %s; log %s", got.status, got.body, logs.String())
	}
}

func TestAccessLogAtDebug(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	got := serve(t, NewRouter(&recordingHandler{}, RouterOptions{Logger: logger}), newRequest("GET", "/sequencestore/1234567890", ""))
	line := logs.String()
	for _, want := range []string{"level=DEBUG", "method=GET", "op=GetSequenceStore", "status=200", "duration=", "request_id=" + got.header.Get("X-Amzn-Requestid")} {
		if !strings.Contains(line, want) {
			t.Errorf("access line %q lacks %q", line, want)
		}
	}
}
