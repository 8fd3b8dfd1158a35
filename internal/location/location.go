// Package location reads and writes the files of import and export jobs
// where an operator allows them: objects at s3://bucket/key through any
// S3-compatible service, and files at file:///abs/path under the
// directories the operator lists. It knows nothing of read sets or file
// formats; it moves bytes and decides who may reach which place.
//
// # Contract
//
//   - CheckRead and CheckWrite parse a URI and decide access without reading
//     or writing a byte and without a network request: a malformed URI is a
//     ValidationException, a place the account may not reach an
//     AccessDeniedException. That a source exists is learnt only when it is
//     opened.
//   - A file:// path is reached only under a file root that admits the
//     account, judged after every symbolic link and ".." is resolved; the
//     open itself is confined to the root, so a link swapped in after the
//     check cannot lead outside it.
//   - Open streams: an S3 object arrives as ranged GETs in parallel, handed
//     on in order, with at most PartSize×Concurrency bytes held at once. A
//     missing source is a ResourceNotFoundException naming its URI. A server
//     that answers a range with more or fewer bytes than asked fails the
//     read; it never yields wrong bytes.
//   - Create never lets a partial object appear under its name: a file is
//     written under a temporary name beside it and renamed on Commit; an S3
//     object is uploaded (multipart when large) and completed only on Commit.
//     Abort, or a failed Commit, leaves nothing behind. A file's temporary
//     name is hidden (.seqstore-*.partial); only a crash of the process can
//     leave one, and the next write into that directory removes it once it
//     has gone StalePartialAge without a write.
//   - A Locations is safe for concurrent use; a reader or Writer belongs to
//     one goroutine, and every reader must be closed.
//
// URIs are taken literally: no percent-decoding, so a key or path may hold
// spaces, "%", "?" or any Unicode as written.
package location

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	seqstore "github.com/seqstore/seqstore"
)

// Defaults for the transfer settings left at zero.
const (
	DefaultPartSize    = 8 << 20
	DefaultConcurrency = 4
	// minUploadPartSize is S3's smallest part other than the last; uploads
	// use at least this part size whatever PartSize says.
	minUploadPartSize = 5 << 20
)

// Config says which places jobs may reach and how bytes travel.
type Config struct {
	// FileRoots are the only directories file:// URIs may reach. None means
	// no local file can be read or written.
	FileRoots []FileRoot
	// Buckets override the S3 settings per bucket and may scope a bucket to
	// some accounts. Other buckets use the default settings of the
	// environment (AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_PROFILE, the
	// shared config and credentials files, ...).
	Buckets []Bucket
	// DenyUnlistedBuckets makes the buckets not in Buckets unreachable.
	DenyUnlistedBuckets bool
	// PartSize is the size of one ranged GET and of one multipart part
	// (uploads use at least 5 MiB); DefaultPartSize when zero.
	PartSize int64
	// Concurrency is how many parts of one transfer travel at once;
	// DefaultConcurrency when zero.
	Concurrency int
}

// FileRoot is a directory file:// URIs may reach, with everything below it.
type FileRoot struct {
	Dir string
	// Accounts that may use the root; none means every account.
	Accounts []string
}

// Bucket holds the settings of one bucket. Empty fields take the default
// from the environment.
type Bucket struct {
	Name     string
	Endpoint string // such as http://minio.internal:9000
	Region   string
	Profile  string // a profile of the shared AWS config and credentials files
	// AccessKeyID and SecretAccessKey go together.
	AccessKeyID     string
	SecretAccessKey string
	// PathStyle sends requests to endpoint/bucket/key, as most S3-compatible
	// servers want; without it, to bucket.endpoint/key.
	PathStyle bool
	// Accounts that may use the bucket; none means every account.
	Accounts []string
}

// Writer streams one object or file to its place.
type Writer interface {
	io.Writer
	// Commit makes the whole object appear under its name. After an error
	// nothing was stored.
	Commit() error
	// Abort discards what was written and leaves nothing behind. After
	// Commit it does nothing, so it may be deferred.
	Abort()
}

// Locations reaches the places of one configuration. It is safe for
// concurrent use.
type Locations struct {
	roots        []fileRoot
	buckets      map[string]bucketAccess
	denyUnlisted bool
	partSize     int64
	concurrency  int

	mu      sync.Mutex
	clients map[s3Settings]*s3Client

	// partBytes counts the bytes of ranged-GET buffers in use; maxPartBytes
	// is its high-water mark, for the tests that prove memory bounded.
	partBytes, maxPartBytes atomic.Int64
}

// New checks the configuration: every file root must be an existing
// directory, every bucket must name its bucket and load its settings (a
// missing profile fails here, not at the first job).
func New(ctx context.Context, c Config) (*Locations, error) {
	l := &Locations{
		buckets:      map[string]bucketAccess{},
		denyUnlisted: c.DenyUnlistedBuckets,
		partSize:     c.PartSize,
		concurrency:  c.Concurrency,
		clients:      map[s3Settings]*s3Client{},
	}
	if l.partSize == 0 {
		l.partSize = DefaultPartSize
	}
	if l.concurrency == 0 {
		l.concurrency = DefaultConcurrency
	}
	if l.partSize < 1 || l.concurrency < 1 {
		return nil, fmt.Errorf("location: the part size (%d) and concurrency (%d) must be positive", c.PartSize, c.Concurrency)
	}
	for _, r := range c.FileRoots {
		root, err := newFileRoot(r)
		if err != nil {
			return nil, err
		}
		l.roots = append(l.roots, root)
	}
	for _, b := range c.Buckets {
		if err := validBucketName(b.Name); err != nil {
			return nil, fmt.Errorf("location: bucket %q: %v", b.Name, err)
		}
		if _, dup := l.buckets[b.Name]; dup {
			return nil, fmt.Errorf("location: bucket %q is listed twice", b.Name)
		}
		if (b.AccessKeyID == "") != (b.SecretAccessKey == "") {
			return nil, fmt.Errorf("location: bucket %q: give both the access key ID and the secret access key, or neither", b.Name)
		}
		settings := s3Settings{Endpoint: b.Endpoint, Region: b.Region, Profile: b.Profile,
			AccessKeyID: b.AccessKeyID, SecretAccessKey: b.SecretAccessKey, PathStyle: b.PathStyle}
		if _, err := l.client(ctx, settings); err != nil {
			return nil, fmt.Errorf("location: bucket %q: %w", b.Name, err)
		}
		l.buckets[b.Name] = bucketAccess{settings: settings, accounts: b.Accounts}
	}
	return l, nil
}

// admits reports whether a place scoped to accounts (none: all) admits the
// account.
func admits(accounts []string, accountID string) bool {
	return len(accounts) == 0 || slices.Contains(accounts, accountID)
}

// CheckRead decides whether the account may read uri, without reading it.
func (l *Locations) CheckRead(ctx context.Context, accountID, uri string) error {
	_, err := l.resolve(ctx, accountID, uri, false)
	return err
}

// CheckWrite decides whether the account may write under prefix (an
// s3://bucket[/key-prefix] or a file:///directory), without writing.
func (l *Locations) CheckWrite(ctx context.Context, accountID, prefix string) error {
	_, err := l.resolve(ctx, accountID, prefix, true)
	return err
}

// Open streams the object or file at uri. A missing one fails with
// CodeNotFound, one the service or file system refuses with
// CodeAccessDenied; either message names the URI.
func (l *Locations) Open(ctx context.Context, accountID, uri string) (io.ReadCloser, error) {
	p, err := l.resolve(ctx, accountID, uri, false)
	if err != nil {
		return nil, err
	}
	if p.client != nil {
		return l.openS3(ctx, p)
	}
	return p.file.open(p.uri)
}

// Create starts writing the object or file at uri. Nothing appears under
// uri until Commit returns nil. An S3 object of unknown size is uploaded
// in at most 10,000 parts of max(PartSize, 5 MiB): with the default part
// size, up to 78 GiB. Use CreateSized when the size is known.
func (l *Locations) Create(ctx context.Context, accountID, uri string) (Writer, error) {
	return l.CreateSized(ctx, accountID, uri, -1)
}

// CreateSized is Create for an object of size bytes (negative: unknown).
// The S3 parts grow as needed to fit any size in 10,000 of them (each
// transfer then holds Concurrency+1 of them). Writing more than size bytes
// fails, and so does a Commit after fewer, leaving nothing behind.
func (l *Locations) CreateSized(ctx context.Context, accountID, uri string, size int64) (Writer, error) {
	return l.CreateTagged(ctx, accountID, uri, size, nil)
}

// CreateTagged is CreateSized with tags that an S3 object carries as its
// object tags (a file has nowhere to keep them and goes without).
func (l *Locations) CreateTagged(ctx context.Context, accountID, uri string, size int64, tags map[string]string) (Writer, error) {
	p, err := l.resolve(ctx, accountID, uri, false)
	if err != nil {
		return nil, err
	}
	var w Writer
	if p.client != nil {
		w = l.createS3(ctx, p, size, tags)
	} else if w, err = p.file.create(ctx, p.uri); err != nil {
		return nil, err
	}
	if size < 0 {
		return w, nil
	}
	return &sizedWriter{Writer: w, uri: uri, size: size}, nil
}

// sizedWriter holds a writer to the size its caller declared, so that a
// short or long source never becomes an object of another size.
type sizedWriter struct {
	Writer
	uri     string
	size    int64
	written int64
}

func (w *sizedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > w.size-w.written {
		return 0, seqstore.Errorf(seqstore.CodeValidation, "%s: writing past the %d bytes declared", quoteURI(w.uri), w.size)
	}
	n, err := w.Writer.Write(p)
	w.written += int64(n)
	return n, err
}

func (w *sizedWriter) Commit() error {
	if w.written != w.size {
		w.Abort()
		return seqstore.Errorf(seqstore.CodeValidation, "%s: %d bytes written of the %d declared; nothing was stored", quoteURI(w.uri), w.written, w.size)
	}
	return w.Writer.Commit()
}

// Join names the object or file called name under prefix.
func Join(prefix, name string) string {
	if len(prefix) > 0 && prefix[len(prefix)-1] == '/' {
		prefix = prefix[:len(prefix)-1]
	}
	return prefix + "/" + name
}

// place is a parsed URI the account may reach: an S3 object (client set)
// or a file under a root.
type place struct {
	uri    string
	bucket string
	key    string
	client *s3Client
	file   filePlace
}

// resolve parses uri (a prefix when prefix is set) and checks the account
// may reach it.
func (l *Locations) resolve(ctx context.Context, accountID, uri string, prefix bool) (place, error) {
	t, err := parse(uri, prefix)
	if err != nil {
		return place{}, err
	}
	p := place{uri: uri, bucket: t.bucket, key: t.key}
	if t.s3 {
		p.client, err = l.bucketClient(ctx, accountID, t)
	} else {
		p.file, err = l.fileAccess(accountID, t)
	}
	return p, err
}

// bucketAccess is a listed bucket's settings and the accounts it admits.
type bucketAccess struct {
	settings s3Settings
	accounts []string
}

// bucketClient returns the client that reaches t's bucket for the account.
func (l *Locations) bucketClient(ctx context.Context, accountID string, t target) (*s3Client, error) {
	b, listed := l.buckets[t.bucket]
	switch {
	case !listed && l.denyUnlisted:
		return nil, seqstore.Errorf(seqstore.CodeAccessDenied, "%s: this server may not reach bucket %q; its operator lists the buckets jobs may use", t.uri, t.bucket)
	case listed && !admits(b.accounts, accountID):
		return nil, seqstore.Errorf(seqstore.CodeAccessDenied, "%s: account %s may not use bucket %q", t.uri, accountID, t.bucket)
	}
	c, err := l.client(ctx, b.settings)
	if err != nil {
		return nil, &seqstore.Error{Code: seqstore.CodeInternal, Message: fmt.Sprintf("%s: the server's S3 settings do not load; its operator must mend them", t.uri), Err: err}
	}
	return c, nil
}

// errClosed is returned by a writer used after Commit or Abort.
var errClosed = errors.New("location: writer already committed or aborted")
