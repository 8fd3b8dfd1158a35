package integration

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore/internal/blob"
)

// A part whose last byte arrives after the upload was completed, or
// aborted, is refused and leaves nothing behind: the read set is made of
// exactly the parts Complete validated.
func TestPartLandingAfterCompleteOrAbortIsRefused(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			in := start(t, b, nil)
			c := in.goClient(in.rootKey())
			store := newStore(t, c, "")
			dir := t.TempDir()
			big, bigMD5 := gzipFASTQ(t, dir, "big", 2000)
			tiny, _ := gzipFASTQ(t, dir, "tiny", 10)

			t.Run("after Complete", func(t *testing.T) {
				upload := createFASTQUpload(t, c, store)
				checksum := putPart(t, c, store, upload, big)
				late := sendHeldPart(t, in, store, upload, tiny)
				done, err := c.CompleteMultipartReadSetUpload(context.Background(), &omics.CompleteMultipartReadSetUploadInput{
					SequenceStoreId: aws.String(store), UploadId: aws.String(upload),
					Parts: []types.CompleteReadSetUploadPartListItem{{PartNumber: aws.Int32(1), PartSource: types.ReadSetPartSourceSource1, Checksum: aws.String(checksum)}},
				})
				if err != nil {
					t.Fatal(err)
				}
				status, errType := late.finish(t)
				md := waitIngested(t, c, store, *done.ReadSetId)
				if status != http.StatusNotFound || errType != "ResourceNotFoundException" {
					t.Errorf("the part that landed after Complete was answered %d %s, want 404 ResourceNotFoundException", status, errType)
				}
				if md.Status != types.ReadSetStatusActive || *md.SequenceInformation.TotalReadCount != 2000 || *md.Etag.Source1 != bigMD5 {
					t.Fatalf("read set %s %q with %d reads, ETag %s; want ACTIVE with the 2000 reads of the part Complete validated, ETag %s",
						md.Status, aws.ToString(md.StatusMessage), aws.ToInt64(md.SequenceInformation.TotalReadCount), aws.ToString(md.Etag.Source1), bigMD5)
				}
				wantNoObjects(t, in, store, upload)
			})

			t.Run("after Abort", func(t *testing.T) {
				upload := createFASTQUpload(t, c, store)
				putPart(t, c, store, upload, big)
				late := sendHeldPart(t, in, store, upload, tiny)
				if _, err := c.AbortMultipartReadSetUpload(context.Background(), &omics.AbortMultipartReadSetUploadInput{
					SequenceStoreId: aws.String(store), UploadId: aws.String(upload),
				}); err != nil {
					t.Fatal(err)
				}
				if status, errType := late.finish(t); status != http.StatusNotFound || errType != "ResourceNotFoundException" {
					t.Errorf("the part that landed after Abort was answered %d %s, want 404 ResourceNotFoundException", status, errType)
				}
				wantNoObjects(t, in, store, upload)
			})
		})
	}
}

// gzipFASTQ writes n reads as NAME.fq.gz and returns its path and the MD5
// of the uncompressed FASTQ (the FASTQ_MD5up ETag of a one-part source).
func gzipFASTQ(t *testing.T, dir, name string, n int) (string, string) {
	t.Helper()
	plain := filepath.Join(dir, name+".fq")
	sum := writeFASTQ(t, plain, n, 1)
	raw, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(raw)
	zw.Close()
	path := plain + ".gz"
	if err := os.WriteFile(path, zb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, sum
}

func createFASTQUpload(t *testing.T, c *omics.Client, store string) string {
	t.Helper()
	up, err := c.CreateMultipartReadSetUpload(context.Background(), &omics.CreateMultipartReadSetUploadInput{
		SequenceStoreId: aws.String(store), SourceFileType: types.FileTypeFastq,
		SubjectId: aws.String("s"), SampleId: aws.String("s"), Name: aws.String("late-part"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return *up.UploadId
}

// putPart uploads a file as part 1 of SOURCE1 and returns its checksum.
func putPart(t *testing.T, c *omics.Client, store, upload, path string) string {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.UploadReadSetPart(context.Background(), &omics.UploadReadSetPartInput{
		SequenceStoreId: aws.String(store), UploadId: aws.String(upload),
		PartSource: types.ReadSetPartSourceSource1, PartNumber: aws.Int32(1), Payload: bytes.NewReader(body),
	})
	if err != nil {
		t.Fatal(err)
	}
	return *out.Checksum
}

// heldPart is an UploadReadSetPart request sent, as AWS's clients send
// parts (UNSIGNED-PAYLOAD), over a connection of its own, all but its last
// byte.
type heldPart struct {
	conn net.Conn
	last byte
}

// sendHeldPart sends part 1 of SOURCE1 with the bytes of path, holding back
// the last byte, and returns once the server has had time to accept the
// request and begin storing its body.
func sendHeldPart(t *testing.T, in *instance, store, upload, path string) *heldPart {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(in.endpoint + "/sequencestore/" + store + "/upload/" + upload + "/part?partSource=SOURCE1&partNumber=1")
	if err != nil {
		t.Fatal(err)
	}
	r, err := http.NewRequest(http.MethodPut, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", fmt.Sprint(len(body)))
	r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	key := in.rootKey()
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret},
		r, "UNSIGNED-PAYLOAD", "omics", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var head bytes.Buffer
	fmt.Fprintf(&head, "PUT %s HTTP/1.1\r\nHost: %s\r\n", u.RequestURI(), u.Host)
	r.Header.Write(&head)
	head.WriteString("\r\n")
	head.Write(body[:len(body)-1])
	if _, err := conn.Write(head.Bytes()); err != nil {
		t.Fatal(err)
	}
	// Headers and all but one byte are on the wire; the server checks the
	// upload and starts storing the body within milliseconds.
	time.Sleep(500 * time.Millisecond)
	return &heldPart{conn: conn, last: body[len(body)-1]}
}

// finish sends the last byte and returns the response's status and error
// type.
func (h *heldPart) finish(t *testing.T) (int, string) {
	t.Helper()
	if _, err := h.conn.Write([]byte{h.last}); err != nil {
		t.Fatal(err)
	}
	h.conn.SetReadDeadline(time.Now().Add(time.Minute))
	resp, err := http.ReadResponse(bufio.NewReader(h.conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType")
}

// wantNoObjects fails the test if objects of the upload's parts are still
// in the object store a few seconds on: ingestion deletes the parts just
// after the read set leaves PROCESSING_UPLOAD.
func wantNoObjects(t *testing.T, in *instance, store, upload string) {
	t.Helper()
	prefix := "uploads/" + in.cfg.AccountID + "/" + store + "/" + upload + "/"
	deadline := time.Now().Add(10 * time.Second)
	for {
		var left []string
		err := in.srv.Blobs.List(context.Background(), prefix, func(key string, _ blob.Attributes) error {
			left = append(left, key)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("objects of upload %s left in the store: %v", upload, left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
