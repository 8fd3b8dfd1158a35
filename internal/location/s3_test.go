package location

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	seqstore "github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/testutil/s3server"
)

// useEnvironment makes srv the default S3 service of the environment, the
// way an operator sets it, and hides the developer's own AWS settings.
func useEnvironment(t *testing.T, srv *s3server.Server) {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "AWS_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	if srv != nil {
		t.Setenv("AWS_ENDPOINT_URL_S3", srv.Endpoint)
		t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
		t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
		t.Setenv("AWS_REGION", srv.Region)
	}
}

func newLocations(t *testing.T, c Config) *Locations {
	t.Helper()
	l, err := New(context.Background(), c)
	must(t, err)
	return l
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func putObject(t *testing.T, srv *s3server.Server, bucket, key string, data []byte) {
	t.Helper()
	_, err := srv.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data)})
	must(t, err)
}

func createBucket(t *testing.T, srv *s3server.Server, bucket string) {
	t.Helper()
	if err := srv.CreateBucket(context.Background(), bucket); err != nil {
		t.Fatalf("%v\n%s", err, srv.Output())
	}
}

// readBack reads the whole object or file at uri as account A.
func readBack(t *testing.T, l *Locations, uri string) []byte {
	t.Helper()
	r, err := l.Open(context.Background(), accountA, uri)
	must(t, err)
	defer r.Close()
	got, err := io.ReadAll(r)
	must(t, err)
	return got
}

// readAll reads r through a small buffer, so that reads straddle the
// part boundaries.
func readAll(r io.Reader) ([]byte, error) {
	var out bytes.Buffer
	_, err := io.CopyBuffer(struct{ io.Writer }{&out}, struct{ io.Reader }{r}, make([]byte, 37))
	return out.Bytes(), err
}

func TestS3ReadsWholeObjectsThroughOrderedRanges(t *testing.T) {
	srv := s3server.StartServer(t)
	createBucket(t, srv, "reads")
	useEnvironment(t, srv)
	const partSize, concurrency = 1000, 3
	l := newLocations(t, Config{PartSize: partSize, Concurrency: concurrency})
	ctx := context.Background()
	for _, size := range []int{0, 1, partSize - 1, partSize, partSize + 1, 3*partSize + 7, 40*partSize*concurrency + 3} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			want := randomBytes(size)
			key := fmt.Sprintf("dir with spaces/ünï %d.fq", size)
			putObject(t, srv, "reads", key, want)
			uri := "s3://reads/" + key
			must(t, l.CheckRead(ctx, accountA, uri))
			r, err := l.Open(ctx, accountA, uri)
			must(t, err)
			got, err := readAll(r)
			must(t, err)
			must(t, r.Close())
			if !bytes.Equal(got, want) {
				t.Fatalf("read %d bytes that differ from the %d written", len(got), len(want))
			}
		})
	}
	if top, bound := l.maxPartBytes.Load(), int64(partSize*concurrency); top > bound || top < partSize {
		t.Errorf("the reads held up to %d bytes of parts; the bound is %d", top, bound)
	}
	if held := l.partBytes.Load(); held != 0 {
		t.Errorf("%d bytes of parts are still held after every reader closed", held)
	}
}

func TestS3ReaderMemoryStaysBoundedWithASlowConsumer(t *testing.T) {
	srv := s3server.StartServer(t)
	createBucket(t, srv, "big")
	useEnvironment(t, srv)
	const partSize, concurrency = 64 << 10, 4
	l := newLocations(t, Config{PartSize: partSize, Concurrency: concurrency})
	want := randomBytes(20 * partSize * concurrency)
	putObject(t, srv, "big", "big.bam", want)
	r, err := l.Open(context.Background(), accountA, "s3://big/big.bam")
	must(t, err)
	var got bytes.Buffer
	buf := make([]byte, partSize/2)
	for {
		n, err := r.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		must(t, err)
		time.Sleep(time.Millisecond) // let the GETs run ahead as far as they may
	}
	r.Close()
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatal("the bytes read differ from those written")
	}
	if top := l.maxPartBytes.Load(); top != partSize*concurrency {
		t.Errorf("the reader held up to %d bytes of parts; with a slow consumer it should fill exactly its bound of %d", top, partSize*concurrency)
	}
}

func TestS3CloseMidwayStopsTheReads(t *testing.T) {
	srv := s3server.StartServer(t)
	createBucket(t, srv, "mid")
	useEnvironment(t, srv)
	l := newLocations(t, Config{PartSize: 4096, Concurrency: 4})
	putObject(t, srv, "mid", "k", randomBytes(100*4096))
	r, err := l.Open(context.Background(), accountA, "s3://mid/k")
	must(t, err)
	if _, err := io.ReadFull(r, make([]byte, 5000)); err != nil {
		t.Fatal(err)
	}
	must(t, r.Close())
	if held := l.partBytes.Load(); held != 0 {
		t.Errorf("%d bytes of parts are still held after Close", held)
	}
	if _, err := r.Read(make([]byte, 1)); err == nil {
		t.Error("Read after Close succeeded")
	}
}

func TestS3CancelledReadIsNoEndOfFile(t *testing.T) {
	srv := s3server.StartServer(t)
	createBucket(t, srv, "cancel")
	useEnvironment(t, srv)
	l := newLocations(t, Config{PartSize: 4096, Concurrency: 2})
	putObject(t, srv, "cancel", "k", randomBytes(100*4096))
	ctx, cancel := context.WithCancel(context.Background())
	r, err := l.Open(ctx, accountA, "s3://cancel/k")
	must(t, err)
	defer r.Close()
	if _, err := io.ReadFull(r, make([]byte, 5000)); err != nil {
		t.Fatal(err)
	}
	// Let the parts in flight arrive, so that what follows the cancel is
	// the reader's own stopping, not a GET failing.
	time.Sleep(200 * time.Millisecond)
	cancel()
	rest, err := io.ReadAll(r)
	if err == nil {
		t.Fatalf("after cancel the read ended cleanly, %d bytes short", 100*4096-5000-len(rest))
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("after cancel: %v, want an error wrapping context.Canceled", err)
	}
}

func TestS3MissingObjectsAreNotFoundWhenOpened(t *testing.T) {
	srv := s3server.StartServer(t)
	createBucket(t, srv, "present")
	useEnvironment(t, srv)
	l := newLocations(t, Config{})
	ctx := context.Background()
	for _, uri := range []string{"s3://present/missing.bam", "s3://absent-bucket/a.bam"} {
		must(t, l.CheckRead(ctx, accountA, uri)) // CheckRead sends no request
		_, err := l.Open(ctx, accountA, uri)
		wantCode(t, "Open", err, seqstore.CodeNotFound, uri)
	}
}

func TestS3WrongCredentialsSayWhatIsWrong(t *testing.T) {
	srv := s3server.StartServer(t)
	createBucket(t, srv, "guarded")
	putObject(t, srv, "guarded", "a.bam", []byte("data"))
	useEnvironment(t, nil)
	l := newLocations(t, Config{Buckets: []Bucket{{
		Name: "guarded", Endpoint: srv.Endpoint, PathStyle: true,
		AccessKeyID: srv.AccessKey, SecretAccessKey: "wrong-secret",
	}}})
	ctx := context.Background()
	uri := "s3://guarded/a.bam"
	_, err := l.Open(ctx, accountA, uri)
	wantCode(t, "Open", err, seqstore.CodeAccessDenied, uri)
	if !strings.Contains(err.Error(), "credentials") || !strings.Contains(err.Error(), "403") {
		t.Errorf("%v does not point at the credentials and the S3 answer", err)
	}
	w, err := l.Create(ctx, accountA, "s3://guarded/b.bam")
	must(t, err)
	w.Write([]byte("x"))
	err = w.Commit()
	wantCode(t, "Commit", err, seqstore.CodeAccessDenied, "s3://guarded/b.bam")
}

func TestS3PerBucketSettingsOverrideTheEnvironment(t *testing.T) {
	envServer := s3server.StartServer(t)
	other := s3server.StartServer(t)
	createBucket(t, envServer, "from-env")
	createBucket(t, other, "by-keys")
	createBucket(t, other, "by-profile")
	putObject(t, envServer, "from-env", "k", []byte("environment"))
	putObject(t, other, "by-keys", "k", []byte("keys"))
	putObject(t, other, "by-profile", "k", []byte("profile"))
	useEnvironment(t, envServer)
	// A profile of the shared files holds the other server's keys.
	files := t.TempDir()
	must(t, os.WriteFile(filepath.Join(files, "credentials"), fmt.Appendf(nil,
		"[other]\naws_access_key_id = %s\naws_secret_access_key = %s\n", other.AccessKey, other.SecretKey), 0o600))
	must(t, os.WriteFile(filepath.Join(files, "config"), []byte("[profile other]\nregion = us-east-1\n"), 0o600))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(files, "credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(files, "config"))

	l := newLocations(t, Config{Buckets: []Bucket{
		{Name: "by-keys", Endpoint: other.Endpoint, Region: other.Region, PathStyle: true, AccessKeyID: other.AccessKey, SecretAccessKey: other.SecretKey},
		{Name: "by-profile", Endpoint: other.Endpoint, PathStyle: true, Profile: "other"},
		{Name: "virtual", Endpoint: "https://s3.example.com"},
	}})
	ctx := context.Background()
	for uri, want := range map[string]string{
		"s3://from-env/k":   "environment",
		"s3://by-keys/k":    "keys",
		"s3://by-profile/k": "profile",
	} {
		if got := readBack(t, l, uri); string(got) != want {
			t.Errorf("%s read %q, want %q", uri, got, want)
		}
	}
	if len(l.clients) != 4 {
		t.Errorf("%d clients for four distinct settings", len(l.clients))
	}
	// An endpoint from the environment is an S3-compatible server, reached
	// in path style; a listed endpoint is reached as its settings say.
	for _, c := range []struct {
		bucket    string
		pathStyle bool
	}{{"from-env", true}, {"by-keys", true}, {"virtual", false}} {
		client, err := l.bucketClient(ctx, accountA, target{uri: "s3://" + c.bucket + "/k", bucket: c.bucket})
		must(t, err)
		if got := client.api.Options().UsePathStyle; got != c.pathStyle {
			t.Errorf("bucket %s: path style %v, want %v", c.bucket, got, c.pathStyle)
		}
	}

	if _, err := New(ctx, Config{Buckets: []Bucket{{Name: "by-profile", Profile: "no-such-profile"}}}); err == nil {
		t.Error("New accepted a bucket whose profile does not exist")
	}
	if _, err := New(ctx, Config{Buckets: []Bucket{{Name: "half-keys", AccessKeyID: "AKID"}}}); err == nil {
		t.Error("New accepted an access key ID without its secret")
	}
}

func TestS3BucketsScopedToAccounts(t *testing.T) {
	useEnvironment(t, nil)
	ctx := context.Background()
	scoped := []Bucket{{Name: "for-b", Accounts: []string{accountB}}}
	cases := []struct {
		name    string
		config  Config
		uri     string
		account string
		want    seqstore.ErrorCode
	}{
		{"a scoped bucket refuses another account", Config{Buckets: scoped}, "s3://for-b/k", accountA, seqstore.CodeAccessDenied},
		{"a scoped bucket admits its account", Config{Buckets: scoped}, "s3://for-b/k", accountB, ""},
		{"an unlisted bucket is open by default", Config{Buckets: scoped}, "s3://elsewhere/k", accountA, ""},
		{"an unlisted bucket is closed when listing is required", Config{Buckets: scoped, DenyUnlistedBuckets: true}, "s3://elsewhere/k", accountA, seqstore.CodeAccessDenied},
		{"a listed bucket stays open when listing is required", Config{Buckets: scoped, DenyUnlistedBuckets: true}, "s3://for-b/k", accountB, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLocations(t, c.config)
			wantCode(t, "CheckRead", l.CheckRead(ctx, c.account, c.uri), c.want, c.uri)
			wantCode(t, "CheckWrite", l.CheckWrite(ctx, c.account, c.uri), c.want, c.uri)
			if c.want != "" {
				_, err := l.Open(ctx, c.account, c.uri)
				wantCode(t, "Open", err, c.want, c.uri)
				_, err = l.Create(ctx, c.account, c.uri)
				wantCode(t, "Create", err, c.want, c.uri)
			}
		})
	}
}

// s3Visible reports whether the object exists, and how many multipart
// uploads are pending in the bucket.
func s3Visible(t *testing.T, srv *s3server.Server, bucket, key string) (exists bool, pending int) {
	t.Helper()
	ctx := context.Background()
	_, err := srv.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	exists = err == nil
	ups, err := srv.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket})
	must(t, err)
	return exists, len(ups.Uploads)
}

func TestS3WritesAppearOnlyOnCommit(t *testing.T) {
	srv := s3server.StartServer(t)
	createBucket(t, srv, "exports")
	useEnvironment(t, srv)
	l := newLocations(t, Config{PartSize: 1 << 20, Concurrency: 2})
	ctx := context.Background()
	for _, size := range []int{0, 1000, 2*minUploadPartSize + 12345} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			key := fmt.Sprintf("out/run %d/ü.bam", size)
			uri := Join("s3://exports/out", fmt.Sprintf("run %d/ü.bam", size))
			data := randomBytes(size)

			w, err := l.Create(ctx, accountA, uri)
			must(t, err)
			half := size / 2
			_, err = w.Write(data[:half])
			must(t, err)
			if exists, _ := s3Visible(t, srv, "exports", key); exists {
				t.Fatal("the object is visible before Commit")
			}
			_, err = w.Write(data[half:])
			must(t, err)
			if size > minUploadPartSize {
				// The parts written so far are on their way in a multipart
				// upload, which is not complete.
				deadline := time.Now().Add(10 * time.Second)
				for {
					exists, pending := s3Visible(t, srv, "exports", key)
					if exists {
						t.Fatal("the object is visible before Commit")
					}
					if pending == 1 {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("%d multipart uploads pending before Commit; want 1", pending)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			must(t, w.Commit())
			w.Abort()
			exists, pending := s3Visible(t, srv, "exports", key)
			if !exists || pending != 0 {
				t.Fatalf("after Commit: exists %v, %d uploads pending", exists, pending)
			}
			if got := readBack(t, l, uri); !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes that differ from the %d written", len(got), len(data))
			}
		})
	}
}

func TestS3AbortLeavesNothing(t *testing.T) {
	srv := s3server.StartServer(t)
	createBucket(t, srv, "aborts")
	useEnvironment(t, srv)
	l := newLocations(t, Config{PartSize: minUploadPartSize, Concurrency: 2})
	ctx := context.Background()
	for _, size := range []int{1000, 3*minUploadPartSize + 1} {
		key := fmt.Sprintf("a-%d.bam", size)
		w, err := l.Create(ctx, accountA, "s3://aborts/"+key)
		must(t, err)
		_, err = w.Write(randomBytes(size))
		must(t, err)
		w.Abort()
		if exists, pending := s3Visible(t, srv, "aborts", key); exists || pending != 0 {
			t.Fatalf("after Abort of %d bytes: exists %v, %d uploads pending", size, exists, pending)
		}
		if _, err := w.Write([]byte("x")); err == nil {
			t.Error("Write after Abort succeeded")
		}
		if err := w.Commit(); err == nil {
			t.Error("Commit after Abort succeeded")
		}
	}
}

// TestS3RefusesWrongRanges puts a hostile server in front of the reader:
// it answers a range with too few bytes, too many, the wrong range, or
// the whole object. The reader must fail, and must not hand on a byte
// that is not the object's at its place.
func TestS3RefusesWrongRanges(t *testing.T) {
	useEnvironment(t, nil)
	object := randomBytes(300)
	const partSize = 100
	cases := []struct {
		name  string
		serve func(w http.ResponseWriter, from, to int)
	}{
		{"too few bytes", func(w http.ResponseWriter, from, to int) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, to, len(object)))
			w.Header().Set("Content-Length", fmt.Sprint(to-from+1))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(object[from : from+(to-from)/2])
		}},
		{"more bytes than the length it declares", func(w http.ResponseWriter, from, to int) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, to, len(object)))
			w.Header().Set("Content-Length", fmt.Sprint(to-from+51))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(object[from:min(len(object), to+51)])
			w.Write(make([]byte, 50))
		}},
		{"more bytes with no declared length", func(w http.ResponseWriter, from, to int) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, to, len(object)))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(object[from : to+1])
			w.(http.Flusher).Flush()
			w.Write([]byte("extra"))
		}},
		{"another range", func(w http.ResponseWriter, from, to int) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", 0, to-from, len(object)))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(object[0 : to-from+1])
		}},
		{"the whole object", func(w http.ResponseWriter, from, to int) {
			w.WriteHeader(http.StatusOK)
			w.Write(object)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("ETag", `"v1"`)
				if r.Method == http.MethodHead {
					w.Header().Set("Content-Length", fmt.Sprint(len(object)))
					return
				}
				var from, to int
				fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &from, &to)
				if from == 0 {
					// The first part is served right, so that a wrong
					// later part has good bytes before it.
					w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, to, len(object)))
					w.WriteHeader(http.StatusPartialContent)
					w.Write(object[from : to+1])
					return
				}
				c.serve(w, from, to)
			}))
			defer srv.Close()
			l := newLocations(t, Config{PartSize: partSize, Concurrency: 2, Buckets: []Bucket{{
				Name: "hostile", Endpoint: srv.URL, PathStyle: true, AccessKeyID: "AKID", SecretAccessKey: "secret",
			}}})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r, err := l.Open(ctx, accountA, "s3://hostile/k")
			must(t, err)
			defer r.Close()
			got, err := io.ReadAll(r)
			if err == nil {
				t.Fatalf("read %d bytes without an error", len(got))
			}
			if !strings.Contains(err.Error(), "s3://hostile/k") {
				t.Errorf("%v does not name the object", err)
			}
			if !bytes.Equal(got, object[:len(got)]) || len(got) > partSize {
				t.Errorf("handed on %d bytes before failing; want only the first part's, as they are", len(got))
			}
			if errors.Is(err, io.EOF) {
				t.Errorf("the failure is a plain end of file: %v", err)
			}
		})
	}
}

// TestS3RetriesABrokenBody cuts each range's body short once: the reader
// asks again and hands on the right bytes.
func TestS3RetriesABrokenBody(t *testing.T) {
	useEnvironment(t, nil)
	object := randomBytes(350)
	var mu sync.Mutex
	cut := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if r.Method == http.MethodHead {
			w.Header().Set("Content-Length", fmt.Sprint(len(object)))
			return
		}
		rng := r.Header.Get("Range")
		var from, to int
		fmt.Sscanf(rng, "bytes=%d-%d", &from, &to)
		mu.Lock()
		first := !cut[rng]
		cut[rng] = true
		mu.Unlock()
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, to, len(object)))
		w.Header().Set("Content-Length", fmt.Sprint(to-from+1))
		w.WriteHeader(http.StatusPartialContent)
		if first {
			w.Write(object[from : from+1])
			return // the server sees the body short and drops the connection
		}
		w.Write(object[from : to+1])
	}))
	defer srv.Close()
	l := newLocations(t, Config{PartSize: 100, Concurrency: 2, Buckets: []Bucket{{
		Name: "flaky", Endpoint: srv.URL, PathStyle: true, AccessKeyID: "AKID", SecretAccessKey: "secret",
	}}})
	r, err := l.Open(context.Background(), accountA, "s3://flaky/k")
	must(t, err)
	defer r.Close()
	got, err := io.ReadAll(r)
	must(t, err)
	if !bytes.Equal(got, object) {
		t.Errorf("read %d bytes that differ from the %d served", len(got), len(object))
	}
	if len(cut) != 4 {
		t.Errorf("%d ranges asked for; want 4", len(cut))
	}
}

func TestS3ObjectChangedWhileReadFailsTheRead(t *testing.T) {
	srv := s3server.StartServer(t)
	createBucket(t, srv, "changing")
	useEnvironment(t, srv)
	const partSize = 1000
	l := newLocations(t, Config{PartSize: partSize, Concurrency: 1})
	old := randomBytes(3 * partSize)
	putObject(t, srv, "changing", "k", old)
	uri := "s3://changing/k"
	r, err := l.Open(context.Background(), accountA, uri)
	must(t, err)
	defer r.Close()
	first := make([]byte, partSize)
	_, err = io.ReadFull(r, first)
	must(t, err)
	// With one part in flight, the second is asked for only now.
	putObject(t, srv, "changing", "k", randomBytes(3*partSize))
	rest, err := io.ReadAll(r)
	if len(rest) > 0 || !bytes.Equal(first, old[:partSize]) {
		t.Errorf("read %d bytes of the new version after the old first part", len(rest))
	}
	wantCode(t, "reading on", err, seqstore.CodeConflict, uri)
}

func TestSizedWritesHoldToTheirSize(t *testing.T) {
	srv := s3server.StartServer(t)
	createBucket(t, srv, "sized")
	useEnvironment(t, srv)
	root := t.TempDir()
	l := newLocations(t, Config{PartSize: minUploadPartSize, Concurrency: 2, FileRoots: []FileRoot{{Dir: root}}})
	ctx := context.Background()
	size := 2*minUploadPartSize + 1
	data := randomBytes(size)
	for _, uri := range []string{"s3://sized/whole.bam", fileURI(root + "/whole.bam")} {
		w, err := l.CreateSized(ctx, accountA, uri, int64(size))
		must(t, err)
		_, err = w.Write(data)
		must(t, err)
		must(t, w.Commit())
		if got := readBack(t, l, uri); !bytes.Equal(got, data) {
			t.Errorf("%s: read back %d bytes that differ from the %d written", uri, len(got), len(data))
		}
	}
	for _, uri := range []string{"s3://sized/short.bam", fileURI(root + "/short.bam")} {
		w, err := l.CreateSized(ctx, accountA, uri, int64(size))
		must(t, err)
		_, err = w.Write(data[:size-1])
		must(t, err)
		if _, err := w.Write(data[:2]); err == nil {
			t.Errorf("%s: writing past the declared size succeeded", uri)
		}
		wantCode(t, "Commit of a short write", w.Commit(), seqstore.CodeValidation, uri)
		if _, err := l.Open(ctx, accountA, uri); seqstore.CodeOf(err) != seqstore.CodeNotFound {
			t.Errorf("%s: after a short write Open gives %v, want NotFound", uri, err)
		}
	}
	if exists, pending := s3Visible(t, srv, "sized", "short.bam"); exists || pending != 0 {
		t.Errorf("after a short write: exists %v, %d uploads pending", exists, pending)
	}
	if got := names(t, root); !slices.Equal(got, []string{"whole.bam"}) {
		t.Errorf("the file root holds %q", got)
	}
}
