package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/omics"
)

// signNow signs r for the storage API in us-east-1, now, as keyID with
// secret over payloadHash (a body's hex SHA-256, or UNSIGNED-PAYLOAD).
func signNow(t testing.TB, r *http.Request, keyID, secret, payloadHash string) {
	t.Helper()
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}, r, payloadHash, "omics", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
}

// newFASTQUpload starts a FASTQ multipart upload in store and returns its ID.
func newFASTQUpload(t testing.TB, c *omics.Client, store string) string {
	t.Helper()
	up, err := c.CreateMultipartReadSetUpload(context.Background(), &omics.CreateMultipartReadSetUploadInput{
		SequenceStoreId: aws.String(store), SourceFileType: "FASTQ", SubjectId: aws.String("s"), SampleId: aws.String("s"), Name: aws.String("n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return *up.UploadId
}

// Requests that are not signed, or signed wrongly, get 403 with AWS's error
// names, a message and a request ID, whatever the operation.
func TestAuthenticationFailures(t *testing.T) {
	in := start(t, backends[0], nil)
	key := in.rootKey()
	const emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	sign := func(r *http.Request, secret, region string, at time.Time) {
		v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: secret}, r, emptySHA, "omics", region, at)
	}
	tests := []struct {
		name   string
		prep   func(r *http.Request)
		code   string
		inText string
	}{
		{"no signature", func(r *http.Request) {}, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"a wrong secret", func(r *http.Request) { sign(r, "wrong", "us-east-1", time.Now()) }, "InvalidSignatureException", "does not match"},
		{"another region", func(r *http.Request) { sign(r, key.Secret, "eu-west-1", time.Now()) }, "InvalidSignatureException", "us-east-1"},
		{"a clock 20 minutes slow", func(r *http.Request) { sign(r, key.Secret, "us-east-1", time.Now().Add(-20*time.Minute)) }, "InvalidSignatureException", "Signature expired"},
		{"a garbled header", func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 nonsense") }, "IncompleteSignatureException", "Authorization"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", in.endpoint+"/sequencestore/1234567890", nil)
			tt.prep(r)
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ Message string }
			json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != tt.code || !strings.Contains(body.Message, tt.inText) {
				t.Fatalf("%d %s %q; want 403 %s containing %q", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body.Message, tt.code, tt.inText)
			}
			if resp.Header.Get("X-Amzn-Requestid") == "" {
				t.Error("no x-amzn-RequestId")
			}
		})
	}
}

// A part whose bytes differ from the hash it was signed with is refused as an
// authentication failure, and nothing of it is kept.
func TestTamperedPartIsRefused(t *testing.T) {
	in := start(t, backends[0], nil)
	key := in.rootKey()
	c := in.goClient(key)
	ctx := context.Background()
	store := newStore(t, c, "")
	upload := newFASTQUpload(t, c, store)
	good, bad := "@r\nACGT\n+\n!!!!\n", "@r\nACGA\n+\n!!!!\n"
	sum := sha256.Sum256([]byte(good))
	hash := hex.EncodeToString(sum[:])
	r, _ := http.NewRequest("PUT", in.endpoint+"/sequencestore/"+store+"/upload/"+upload+"/part?partSource=SOURCE1&partNumber=1", strings.NewReader(good))
	r.Header.Set("X-Amz-Content-Sha256", hash)
	signNow(t, r, key.ID, key.Secret, hash)
	r.Body = io.NopCloser(strings.NewReader(bad))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != "InvalidSignatureException" {
		t.Fatalf("tampered part: %d %s, want 403 InvalidSignatureException", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
	parts, err := c.ListReadSetUploadParts(ctx, &omics.ListReadSetUploadPartsInput{SequenceStoreId: aws.String(store), UploadId: aws.String(upload), PartSource: "SOURCE1"})
	if err != nil || len(parts.Parts) != 0 {
		t.Fatalf("parts after a refused upload: %+v %v", parts, err)
	}
}

// A part whose signature covers its body's hash (no X-Amz-Content-Sha256
// header) proves who sent it only once the body is read. Until then a wrong
// secret must not learn whether an upload exists: both a forged and a real
// caller of a missing upload are answered only after the body is checked.
func TestUnprovenCallerLearnsNothingOfUploads(t *testing.T) {
	in := start(t, backends[0], nil)
	key := in.rootKey()
	store := newStore(t, in.goClient(key), "")
	body := "@r\nACGT\n+\n!!!!\n"
	sum := sha256.Sum256([]byte(body))
	for _, tc := range []struct {
		name, secret, wantType string
		wantStatus             int
	}{
		{"forged secret", key.Secret + "x", "InvalidSignatureException", 403},
		{"owner", key.Secret, "ResourceNotFoundException", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest("PUT", in.endpoint+"/sequencestore/"+store+"/upload/1234567890/part?partSource=SOURCE1&partNumber=1", strings.NewReader(body))
			signNow(t, r, key.ID, tc.secret, hex.EncodeToString(sum[:]))
			if r.Header.Get("X-Amz-Content-Sha256") != "" {
				t.Fatal("the signer set X-Amz-Content-Sha256; this test needs a request without it")
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus || resp.Header.Get("X-Amzn-ErrorType") != tc.wantType {
				t.Fatalf("part for a missing upload: %d %s, want %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), tc.wantStatus, tc.wantType)
			}
		})
	}
}

// A JSON operation signed over UNSIGNED-PAYLOAD would let anyone who sees the
// request send it again with another body; it is refused, and the swapped
// body does nothing.
func TestUnsignedPayloadOnlyForParts(t *testing.T) {
	in := start(t, backends[0], nil)
	key := in.rootKey()
	ctx := context.Background()
	r, _ := http.NewRequest("POST", in.endpoint+"/sequencestore", strings.NewReader(`{"name":"signed"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	signNow(t, r, key.ID, key.Secret, "UNSIGNED-PAYLOAD")
	r.Body = io.NopCloser(strings.NewReader(`{"name":"swapped"}`))
	r.ContentLength = int64(len(`{"name":"swapped"}`))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != "InvalidSignatureException" {
		t.Fatalf("CreateSequenceStore over UNSIGNED-PAYLOAD: %d %s, want 403 InvalidSignatureException", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
	stores, err := in.goClient(key).ListSequenceStores(ctx, &omics.ListSequenceStoresInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(stores.SequenceStores) != 0 {
		t.Fatalf("the refused request created %d stores", len(stores.SequenceStores))
	}
}
