package s3read

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/seqstore/seqstore/internal/s3policy"
	"github.com/seqstore/seqstore/internal/sigv4"
)

// Handler serves the S3 read API.
type Handler struct {
	// Verifier checks signatures; its Service must be "s3".
	Verifier *sigv4.Verifier
	Backend  Backend
	// Region is what GetBucketLocation answers.
	Region string
	Log    *slog.Logger
}

// AliasSuffix ends every bucket name the endpoint serves; a Host whose first
// label ends so addresses its bucket virtual-host style.
const AliasSuffix = "-s3alias"

// request is one request as routed.
type request struct {
	r         *http.Request
	id        string
	bucket    string
	key       string
	hasKey    bool
	operation string
	account   string
	accessKey string
}

// The S3 actions policies name.
const (
	actionGetObject         = "s3:GetObject"
	actionListBucket        = "s3:ListBucket"
	actionGetBucketLocation = "s3:GetBucketLocation"
)

// ServeHTTP answers one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := &request{r: r, id: newRequestID()}
	w.Header().Set("x-amz-request-id", q.id)
	w.Header().Set("x-amz-id-2", q.id)
	w.Header().Set("Server", "seqstore")
	start := time.Now()
	err := h.serve(w, q)
	h.logRequest(q, err, time.Since(start))
	if err != nil {
		h.writeError(w, q, err)
	}
}

func (h *Handler) serve(w http.ResponseWriter, q *request) (err error) {
	defer func() {
		// A panic fails this request, never the process.
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			err = &serverError{err: errors.New("panic serving the request"), detail: p}
		}
	}()
	route(q)
	id, verr := h.Verifier.Verify(q.r, sigv4.Options{AllowUnsignedPayload: true})
	q.accessKey = id.AccessKeyID
	if verr != nil {
		var se *sigv4.Error
		if errors.As(verr, &se) {
			return &Error{Code: se.S3Code(), Status: se.Status(), Message: se.Message()}
		}
		return &serverError{err: verr}
	}
	if id.Deferred {
		// The signature covers a body hash that only reading the body
		// would prove; reads have no body, so none is read.
		return &Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: "the request has a body signed without X-Amz-Content-Sha256; " + readOnlyMessage}
	}
	q.account = id.AccountID
	return h.dispatch(w, q)
}

// route finds the bucket and key, virtual-host style when the Host's first
// label is an access-point alias, else path style.
func route(q *request) {
	path := q.r.URL.Path
	host := q.r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if label, _, _ := strings.Cut(host, "."); strings.HasSuffix(label, AliasSuffix) && label != host {
		q.bucket = label
		q.key, q.hasKey = strings.TrimPrefix(path, "/"), len(path) > 1
		return
	}
	rest := strings.TrimPrefix(path, "/")
	bucket, key, slash := strings.Cut(rest, "/")
	q.bucket = bucket
	q.key, q.hasKey = key, slash && key != ""
}

// readOnlyMessage says what to use instead of a write.
const readOnlyMessage = "seqstore's S3 endpoint only reads: add read sets and references through the omics API (multipart uploads or import jobs)"

// notImplementedQuery lists the subresources of GET and HEAD that are not
// served; answering them as a plain read would mislead a client.
var notImplementedQuery = []string{"acl", "tagging", "torrent", "legal-hold", "retention", "attributes", "uploads", "uploadId",
	"versions", "versioning", "policy", "policyStatus", "cors", "lifecycle", "website", "logging", "notification",
	"replication", "encryption", "object-lock", "ownershipControls", "publicAccessBlock", "requestPayment",
	"accelerate", "analytics", "inventory", "metrics", "intelligent-tiering", "select", "restore", "partNumber"}

func (h *Handler) dispatch(w http.ResponseWriter, q *request) error {
	r := q.r
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodPatch:
		q.operation = "Write"
		return &Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: readOnlyMessage}
	default:
		q.operation = r.Method
		return &Error{Code: "NotImplemented", Status: http.StatusNotImplemented, Message: "A header you provided implies functionality that is not implemented: method " + r.Method}
	}
	query := r.URL.Query()
	for _, sub := range notImplementedQuery {
		if query.Has(sub) {
			q.operation = "Get" + sub
			return &Error{Code: "NotImplemented", Status: http.StatusNotImplemented, Message: "seqstore's S3 endpoint does not serve ?" + sub + "; it serves GetObject, HeadObject, ListObjectsV2, ListObjects, GetBucketLocation and HeadBucket"}
		}
	}
	if v := query.Get("versionId"); v != "" && v != "null" {
		return &Error{Code: "NoSuchVersion", Status: http.StatusNotFound, Message: "The specified version does not exist: objects here are not versioned."}
	}
	if q.bucket == "" {
		q.operation = "ListBuckets"
		return &Error{Code: "NotImplemented", Status: http.StatusNotImplemented, Message: "ListBuckets is not served; name a store's bucket, the access-point alias in the s3Uri that GetSequenceStore reports"}
	}
	ctx := r.Context()
	b, err := h.Backend.Bucket(ctx, q.bucket)
	if err != nil {
		return backendError(err, q)
	}
	if owner := r.Header.Get("X-Amz-Expected-Bucket-Owner"); owner != "" && owner != b.Owner {
		// The client's guard against reading someone else's bucket.
		q.operation = "ExpectedBucketOwner"
		return &Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: "Access Denied: the bucket is not owned by the account x-amz-expected-bucket-owner names"}
	}
	if q.hasKey {
		q.operation = "GetObject"
		if r.Method == http.MethodHead {
			q.operation = "HeadObject"
		}
		if err := h.authorize(b, q, actionGetObject, b.AccessPointArn+"/object/"+q.key); err != nil {
			return err
		}
		return h.getObject(ctx, w, q, b)
	}
	switch {
	case query.Has("location"):
		q.operation = "GetBucketLocation"
		if err := h.authorize(b, q, actionGetBucketLocation, b.AccessPointArn); err != nil {
			return err
		}
		return h.bucketLocation(w)
	case r.Method == http.MethodHead:
		q.operation = "HeadBucket"
		if err := h.authorize(b, q, actionListBucket, b.AccessPointArn); err != nil {
			return err
		}
		w.Header().Set("x-amz-bucket-region", h.Region)
		w.WriteHeader(http.StatusOK)
		return nil
	}
	q.operation = "ListObjects"
	if query.Get("list-type") == "2" {
		q.operation = "ListObjectsV2"
	}
	if err := h.authorize(b, q, actionListBucket, b.AccessPointArn); err != nil {
		return err
	}
	return h.list(ctx, w, q, b)
}

// authorize lets the owner in unless the policy denies it, and anyone else
// in only where the policy allows.
func (h *Handler) authorize(b *Bucket, q *request, action, resource string) error {
	switch b.Policy.Decide(s3policy.Request{Account: q.account, Action: action, Resource: resource}) {
	case s3policy.Allowed:
		return nil
	case s3policy.NotApplicable:
		if q.account == b.Owner {
			return nil
		}
	}
	return &Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: "Access Denied: account " + q.account + " may not " + action + " on " + resource + "; the store's owner grants other accounts access with PutS3AccessPolicy"}
}

func (h *Handler) bucketLocation(w http.ResponseWriter) error {
	region := h.Region
	if region == "us-east-1" {
		region = "" // S3 answers an empty constraint for us-east-1
	}
	return writeXML(w, http.StatusOK, struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
		Region  string   `xml:",chardata"`
	}{Region: region})
}

// Error is an S3 error answer.
type Error struct {
	Code    string
	Message string
	Status  int
	// header is set on the answer too (Content-Range of InvalidRange).
	header http.Header
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// serverError is the server's fault: logged in full, answered InternalError.
type serverError struct {
	err    error
	detail any
}

func (e *serverError) Error() string { return e.err.Error() }
func (e *serverError) Unwrap() error { return e.err }

func backendError(err error, q *request) error {
	switch {
	case errors.Is(err, ErrNoSuchBucket):
		return &Error{Code: "NoSuchBucket", Status: http.StatusNotFound, Message: "The specified bucket does not exist: " + q.bucket + " is no store's access-point alias"}
	case errors.Is(err, ErrNoSuchKey):
		return &Error{Code: "NoSuchKey", Status: http.StatusNotFound, Message: "The specified key does not exist."}
	case errors.Is(err, context.Canceled):
		return err
	}
	return &serverError{err: err}
}

// errorBody is S3's XML error document.
type errorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	Resource  string `xml:",omitempty"`
	RequestID string `xml:"RequestId"`
	HostID    string `xml:"HostId"`
}

func (h *Handler) writeError(w http.ResponseWriter, q *request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		if errors.Is(err, context.Canceled) {
			return // the client went away; nothing to answer
		}
		e = &Error{Code: "InternalError", Status: http.StatusInternalServerError, Message: "We encountered an internal error. Please try again."}
	}
	// Headers set for the object before the failure must not describe
	// the error's body.
	w.Header().Del("Content-Length")
	w.Header().Del("Content-Range")
	for k, v := range e.header {
		w.Header()[k] = v
	}
	if e.Status == http.StatusNotModified || q.r.Method == http.MethodHead {
		// Neither carries a body; HEAD clients read the status alone.
		w.Header().Set("x-amz-error-code", e.Code)
		w.WriteHeader(e.Status)
		return
	}
	resource := q.r.URL.Path
	writeXML(w, e.Status, errorBody{Code: e.Code, Message: e.Message, Resource: resource, RequestID: q.id, HostID: q.id})
}

func writeXML(w http.ResponseWriter, status int, v any) error {
	body, err := xml.Marshal(v)
	if err != nil {
		return &serverError{err: err}
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(body)
	return nil
}

func (h *Handler) logRequest(q *request, err error, d time.Duration) {
	if h.Log == nil {
		return
	}
	attrs := []any{"operation", q.operation, "bucket", q.bucket, "key", q.key, "accessKeyId", q.accessKey,
		"remote", q.r.RemoteAddr, "duration", d, "requestId", q.id}
	var e *Error
	var se *serverError
	switch {
	case err == nil:
		h.Log.Debug("s3 request served", attrs...)
	case errors.As(err, &e):
		h.Log.Info("s3 request refused", append(attrs, "status", e.Status, "code", e.Code, "message", e.Message)...)
	case errors.As(err, &se):
		if se.detail != nil {
			attrs = append(attrs, "panic", se.detail)
		}
		h.Log.Error("s3 request failed", append(attrs, "err", se.err)...)
	case errors.Is(err, context.Canceled):
		h.Log.Debug("s3 request cancelled by the client", attrs...)
	default:
		h.Log.Error("s3 request failed", append(attrs, "err", err)...)
	}
}

// newRequestID returns 16 random hex digits, as S3's request IDs look.
func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// OperationName names a request's S3 operation for metrics, from its
// method and query alone (before it is routed).
func OperationName(r *http.Request) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	default:
		return "s3:Write"
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	virtual := false
	if label, _, _ := strings.Cut(r.Host, "."); strings.HasSuffix(label, AliasSuffix) && label != r.Host {
		virtual = true
	}
	hasKey := path != "" && (virtual || strings.Contains(strings.TrimSuffix(path, "/"), "/"))
	q := r.URL.Query()
	switch {
	case hasKey && r.Method == http.MethodHead:
		return "s3:HeadObject"
	case hasKey:
		return "s3:GetObject"
	case q.Has("location"):
		return "s3:GetBucketLocation"
	case r.Method == http.MethodHead:
		return "s3:HeadBucket"
	case q.Get("list-type") == "2":
		return "s3:ListObjectsV2"
	}
	return "s3:ListObjects"
}
