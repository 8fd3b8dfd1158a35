package s3blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/blob/blobtest"
	"github.com/seqstore/seqstore/internal/testutil/s3server"
)

func randomPrefix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "t-" + hex.EncodeToString(b)
}

// testServer is one versitygw for a test, with a bucket.
type testServer struct {
	*s3server.Server
	bucket string
}

func startServer(t testing.TB) testServer {
	t.Helper()
	srv := s3server.StartServer(t)
	bucket := "blobs"
	if err := srv.CreateBucket(context.Background(), bucket); err != nil {
		t.Fatal(err)
	}
	return testServer{srv, bucket}
}

// config uses S3's smallest part size, so the suite's multi-MiB objects
// become multipart uploads of several parts.
func (ts testServer) config(prefix string) Config {
	return Config{
		Endpoint:        ts.Endpoint,
		Region:          ts.Region,
		Bucket:          ts.bucket,
		Prefix:          prefix,
		AccessKeyID:     ts.AccessKey,
		SecretAccessKey: ts.SecretKey,
		PartSize:        MinPartSize,
		Concurrency:     2,
	}
}

func (ts testServer) open(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("%v\nserver log:\n%s", err, ts.Output())
	}
	return s
}

func TestConformance(t *testing.T) {
	ts := startServer(t)
	blobtest.Run(t, func(t *testing.T) blob.Store {
		return ts.open(t, ts.config(randomPrefix()))
	})
}

func TestConformanceWithoutPrefix(t *testing.T) {
	// Keys at the top of the bucket: no prefix to add or strip.
	ts := startServer(t)
	n := 0
	blobtest.Run(t, func(t *testing.T) blob.Store {
		n++
		ts := ts
		ts.bucket = fmt.Sprintf("unprefixed-%d", n)
		if err := ts.CreateBucket(context.Background(), ts.bucket); err != nil {
			t.Fatal(err)
		}
		return ts.open(t, ts.config(""))
	})
}

func TestOpenSaysWhatIsWrong(t *testing.T) {
	ts := startServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedEndpoint := "http://" + ln.Addr().String()
	ln.Close()
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"a missing bucket", func(c *Config) { c.Bucket = "no-such-bucket" }, "does not exist"},
		{"a wrong secret", func(c *Config) { c.SecretAccessKey = "wrong" }, "denied"},
		{"an unknown access key", func(c *Config) { c.AccessKeyID = "NOBODY" }, "denied"},
		{"an endpoint nobody listens on", func(c *Config) { c.Endpoint = closedEndpoint }, "cannot reach"},
		{"no bucket", func(c *Config) { c.Bucket = "" }, "no bucket"},
		{"a secret without a key", func(c *Config) { c.AccessKeyID = "" }, "both"},
		{"a part size below S3's minimum", func(c *Config) { c.PartSize = 1 << 20 }, "part size"},
		{"a prefix that escapes", func(c *Config) { c.Prefix = "a/../b" }, "prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ts.config("")
			tt.change(&cfg)
			s, err := Open(context.Background(), cfg)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

func pendingUploads(t *testing.T, ts testServer) []string {
	t.Helper()
	out, err := ts.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &ts.bucket})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

func TestFailedWritesLeaveNoMultipartUpload(t *testing.T) {
	ts := startServer(t)
	s := ts.open(t, ts.config("p"))
	defer s.Close()
	data := blobtest.Content(1, 3*MinPartSize+100)

	w, err := s.NewWriter(context.Background(), "aborted")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if got := pendingUploads(t, ts); len(got) != 1 {
		t.Fatalf("before Abort: pending uploads %q, want one", got)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := pendingUploads(t, ts); len(got) != 0 {
		t.Errorf("after Abort: pending uploads %q, want none", got)
	}

	ctx, cancel := context.WithCancel(context.Background())
	w, err = s.NewWriter(ctx, "cancelled")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	cancel()
	if err := w.Close(); !errors.Is(err, context.Canceled) {
		t.Errorf("Close error = %v, want context.Canceled", err)
	}
	if got := pendingUploads(t, ts); len(got) != 0 {
		t.Errorf("after a cancelled write: pending uploads %q, want none", got)
	}
}

func TestPrefixesKeepStoresApart(t *testing.T) {
	ts := startServer(t)
	one := ts.open(t, ts.config("one/"))
	defer one.Close()
	other := ts.open(t, ts.config("other"))
	defer other.Close()
	blobtest.Put(t, one, "k", []byte("1"))
	if _, err := other.Stat(context.Background(), "k"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("the other store sees the key: %v", err)
	}
	out, err := ts.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &ts.bucket, Key: aws.String("one/k")})
	if err != nil {
		t.Fatalf("the object is not at prefix/key in the bucket: %v", err)
	}
	if got := aws.ToInt64(out.ContentLength); got != 1 {
		t.Errorf("size %d, want 1", got)
	}
	var keys []string
	one.List(context.Background(), "", func(k string, _ blob.Attributes) error { keys = append(keys, k); return nil })
	if len(keys) != 1 || keys[0] != "k" {
		t.Errorf("List = %q, want [k]", keys)
	}
}

func TestWriterMemoryStaysBounded(t *testing.T) {
	// A writer holds at most Concurrency+1 parts whatever the object's size.
	if raceEnabled {
		t.Skip("the race detector defeats sync.Pool")
	}
	ts := startServer(t)
	s := ts.open(t, ts.config("mem"))
	defer s.Close()
	const size = 20 * MinPartSize
	chunk := blobtest.Content(2, 1<<20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	w, err := s.NewWriter(context.Background(), "big")
	if err != nil {
		t.Fatal(err)
	}
	for written := 0; written < size; written += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	if limit := uint64(2 * (2 + 1) * MinPartSize); allocated > limit {
		t.Errorf("writing %d MiB allocated %d MiB, want at most %d MiB", size>>20, allocated>>20, limit>>20)
	}
	attrs, err := s.Stat(context.Background(), "big")
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Size != size {
		t.Errorf("size %d, want %d", attrs.Size, size)
	}
	r, err := s.NewRangeReader(context.Background(), "big", int64(size-len(chunk)+7), -1)
	if err != nil {
		t.Fatal(err)
	}
	tail, err := io.ReadAll(r)
	r.Close()
	if err != nil || string(tail) != string(chunk[7:]) {
		t.Errorf("the tail differs (%d bytes, error %v)", len(tail), err)
	}
}

func TestPartSizesReachFiveTebibytesWithinTenThousandParts(t *testing.T) {
	tests := []struct {
		base    int
		started int32
		want    int
	}{
		{DefaultPartSize, 0, DefaultPartSize},
		{DefaultPartSize, partsPerSize - 1, DefaultPartSize},
		{DefaultPartSize, partsPerSize, 2 * DefaultPartSize},
		{DefaultPartSize, maxParts - 1, 16 * DefaultPartSize},
		{1 << 30, maxParts - 1, MaxPartSize},
	}
	for _, tt := range tests {
		if got := partLimit(tt.base, tt.started); got != tt.want {
			t.Errorf("partLimit(%d, %d) = %d, want %d", tt.base, tt.started, got, tt.want)
		}
	}
	var total int64
	for started := int32(0); started < maxParts; started++ {
		total += int64(partLimit(64<<20, started))
	}
	if total < 3<<40 {
		t.Errorf("10,000 parts starting at 64 MiB hold %d GiB, want over 3 TiB", total>>30)
	}
}

func BenchmarkS3blob(b *testing.B) {
	ts := startServer(b)
	cfg := ts.config("bench")
	cfg.PartSize, cfg.Concurrency = 0, 0 // the defaults
	s := ts.open(b, cfg)
	defer s.Close()
	blobtest.Bench(b, s)
}

// TestServerSideEncryptionIsAskedOfS3 checks the headers on their way to a
// real S3 server, through a proxy that notes them: the test server stores
// objects as they come and does not report server-side encryption.
func TestServerSideEncryptionIsAskedOfS3(t *testing.T) {
	ts := startServer(t)
	target, err := url.Parse(ts.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	asked := map[string]string{} // "PUT" or "POST" of each write request: its SSE headers
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Query().Has("uploads") || r.Method == http.MethodPut && !r.URL.Query().Has("partNumber") {
			mu.Lock()
			asked[r.Method+" "+r.URL.Path] = r.Header.Get("X-Amz-Server-Side-Encryption") + " " + r.Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")
			mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	for _, tc := range []struct{ sse, kms, want string }{
		{"AES256", "", "AES256 "},
		{"aws:kms", "arn:aws:kms:us-east-1:123456789012:key/k", "aws:kms arn:aws:kms:us-east-1:123456789012:key/k"},
		{"", "", " "},
	} {
		cfg := ts.config(randomPrefix())
		cfg.Endpoint = front.URL
		cfg.ServerSideEncryption, cfg.SSEKMSKeyID = tc.sse, tc.kms
		s := ts.open(t, cfg)
		mu.Lock()
		clear(asked)
		mu.Unlock()
		blobtest.Put(t, s, "sse/small", blobtest.Content(1, 10))
		blobtest.Put(t, s, "sse/multipart", blobtest.Content(2, blobtest.LargeSize))
		s.Close()
		want := map[string]string{
			"PUT /" + ts.bucket + "/" + cfg.Prefix + "/sse/small":      tc.want,
			"POST /" + ts.bucket + "/" + cfg.Prefix + "/sse/multipart": tc.want,
		}
		mu.Lock()
		if !reflect.DeepEqual(asked, want) {
			t.Errorf("encryption %q: the writes asked %q, want %q", tc.sse, asked, want)
		}
		mu.Unlock()
	}
	for _, bad := range []Config{{ServerSideEncryption: "aes"}, {SSEKMSKeyID: "k"}} {
		bad.Bucket = ts.bucket
		if _, err := Open(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "encryption") {
			t.Errorf("Open(%+v): %v, want a refusal", bad, err)
		}
	}
}

// A file-backed S3 server keeps keys as paths: a PUT makes the directories
// of its key, then links the object in, and a DELETE removes the
// directories it empties. A DELETE that empties a shared parent between
// another PUT's two steps made that PUT fail with 409
// ExistingObjectIsDirectory, although nothing was ever a directory.
// Read-set parts are put and deleted this way all the time, under keys
// that share the store's upload prefix; the write must ride it out.
func TestWritesRideOutAConcurrentDeleteOfTheirParent(t *testing.T) {
	ts := startServer(t)
	s := ts.open(t, ts.config(randomPrefix()))
	ctx := context.Background()
	const workers, rounds = 4, 150
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				key := fmt.Sprintf("uploads/store/%d-%d/source1/part", w, i)
				if err := put(ctx, s, key, "part"); err != nil {
					errs <- err
					continue
				}
				if err := s.Delete(ctx, key); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 3 {
			t.Error(err)
		}
	}
	if n > 0 {
		t.Errorf("%d of %d writes and deletes failed", n, 2*workers*rounds)
	}
}

// put writes one small object.
func put(ctx context.Context, s *Store, key, data string) error {
	w, err := s.NewWriter(ctx, key)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, data); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}
