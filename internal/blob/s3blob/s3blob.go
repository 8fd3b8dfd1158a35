// Package s3blob is the blob.Store over any S3-compatible service (AWS S3,
// MinIO, Ceph, versitygw, ...). Objects live in one bucket under an optional
// key prefix.
//
// Writes stream with bounded memory: an object that fits in one part is sent
// with a single PutObject on Close; a larger one becomes a multipart upload
// whose parts (PartSize bytes, doubling every 2,000 parts so that huge
// objects fit in S3's 10,000) are sent while the next part fills, at most
// Concurrency at a time, so a writer holds at most Concurrency+1 parts in
// memory. Abort, a failed Close or a cancelled context aborts the upload.
// S3 itself makes a completed object appear atomically and serves a GET
// from one version of it, which gives the blob contract's atomicity.
//
// The multipart code is ours rather than feature/s3/manager's because the
// manager's Uploader pulls from an io.Reader, which would need a pipe and a
// goroutine per writer to become a blob.Writer, and reads every part through
// its own copy; here Write and ReadFrom fill the part buffers directly.
package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/seqstore/seqstore/internal/blob"
)

const (
	// DefaultPartSize balances request count against memory: a 100 GiB BAM
	// takes 6,400 parts, well inside S3's 10,000.
	DefaultPartSize = 16 << 20
	// MinPartSize is S3's smallest part other than the last.
	MinPartSize = 5 << 20
	// MaxPartSize is S3's largest part.
	MaxPartSize = 5 << 30
	// DefaultConcurrency is how many parts one writer sends at once.
	DefaultConcurrency = 4

	// firstBufferSize starts the buffer of an object's first part small, so
	// that the many small objects cost little memory; it doubles as needed.
	firstBufferSize = 64 << 10
	// maxParts is S3's limit on the parts of one upload.
	maxParts = 10000
	// partsPerSize is how many parts go by before the part size doubles.
	partsPerSize = 2000
	// growLimit is the size past which the first part's buffer stops
	// doubling and takes a whole part buffer from the pool.
	growLimit = 1 << 20
	// cleanupTimeout bounds the requests that abort an upload after the
	// caller's context is gone.
	cleanupTimeout = 30 * time.Second
)

// Addressing chooses how requests name the bucket.
type Addressing int

const (
	// AddressingAuto uses path style with a custom Endpoint, where
	// S3-compatible servers rarely have wildcard DNS, and virtual-hosted
	// style against AWS itself.
	AddressingAuto Addressing = iota
	// AddressingPath sends requests to endpoint/bucket/key.
	AddressingPath
	// AddressingVirtualHost sends requests to bucket.endpoint/key.
	AddressingVirtualHost
)

// Config says where the objects live and how to reach them.
type Config struct {
	// Endpoint is the service's URL, such as http://127.0.0.1:7070. Empty
	// means AWS S3 in Region.
	Endpoint string
	// Region defaults to us-east-1, which S3-compatible servers accept.
	Region string
	// Bucket must exist already.
	Bucket string
	// Prefix, if set, is put before every key (with a slash between), so
	// that one bucket can serve several stores.
	Prefix string
	// AccessKeyID and SecretAccessKey are the credentials. Both empty means
	// the AWS SDK's default chain: environment, shared files, instance role.
	AccessKeyID     string
	SecretAccessKey string
	Addressing      Addressing
	// PartSize is the multipart part size, DefaultPartSize when zero; at
	// least MinPartSize.
	PartSize int64
	// Concurrency is the number of parts a writer uploads at once,
	// DefaultConcurrency when zero.
	Concurrency int
	// ServerSideEncryption asks S3 to encrypt every object it stores:
	// "AES256" (SSE-S3, keys S3 manages) or "aws:kms" (SSE-KMS, with
	// SSEKMSKeyID or the bucket's default KMS key); empty sends no header
	// and leaves it to the bucket's default encryption.
	ServerSideEncryption string
	SSEKMSKeyID          string
}

// Store is a blob.Store over an S3 bucket.
type Store struct {
	client      *s3.Client
	transport   *http.Transport
	bucket      string
	prefix      string // "" or ending in a slash
	partSize    int
	concurrency int
	parts       sync.Pool // of *[]byte with cap partSize
	where       string    // for messages: s3://bucket/prefix at endpoint
	sse         types.ServerSideEncryption
	kmsKeyID    *string
}

var _ blob.Store = (*Store)(nil)

// Open connects to the bucket and checks that it exists and the credentials
// may use it, so that a misconfiguration shows at startup with a message
// saying what to fix rather than at the first upload.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s, err := newStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := s.checkBucket(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// errExistingObjectIsDirectory is the error code of a PUT over a key that a
// file-backed S3 server holds as a directory.
const errExistingObjectIsDirectory = "ExistingObjectIsDirectory"

func newStore(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3blob: no bucket configured")
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		if err := blob.ValidKey(prefix); err != nil {
			return nil, fmt.Errorf("s3blob: key prefix: %w", err)
		}
		prefix += "/"
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultPartSize
	}
	if cfg.PartSize < MinPartSize || cfg.PartSize > MaxPartSize {
		return nil, fmt.Errorf("s3blob: part size %d is outside S3's limits %d..%d", cfg.PartSize, MinPartSize, MaxPartSize)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Concurrency < 1 {
		return nil, fmt.Errorf("s3blob: concurrency %d must be at least 1", cfg.Concurrency)
	}
	switch types.ServerSideEncryption(cfg.ServerSideEncryption) {
	case "", types.ServerSideEncryptionAes256, types.ServerSideEncryptionAwsKms:
	default:
		return nil, fmt.Errorf("s3blob: server-side encryption %q: use AES256 (SSE-S3) or aws:kms (SSE-KMS)", cfg.ServerSideEncryption)
	}
	if cfg.SSEKMSKeyID != "" && cfg.ServerSideEncryption != string(types.ServerSideEncryptionAwsKms) {
		return nil, errors.New("s3blob: a KMS key ID goes with server-side encryption aws:kms")
	}
	if (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == "") {
		return nil, errors.New("s3blob: give both an access key ID and a secret access key, or neither to use the default credential chain")
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Every writer keeps Concurrency uploads going and every reader one GET;
	// the default of 2 idle connections per host would reconnect constantly.
	transport.MaxIdleConnsPerHost = 64
	opts := s3.Options{
		Region:     cfg.Region,
		HTTPClient: &http.Client{Transport: transport},
		// Checksums only where S3 requires them: the newer default adds
		// CRC headers and trailers that many S3-compatible servers reject.
		// SigV4 still signs each request, and over plain HTTP its payload
		// hash covers the body.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		UsePathStyle:               cfg.Addressing == AddressingPath || (cfg.Addressing == AddressingAuto && cfg.Endpoint != ""),
		// S3 servers that keep keys as files (versitygw's posix backend
		// among them) make a PUT's directories and then link the object
		// in; a DELETE of another key that empties a shared parent in
		// between fails the PUT with 409 ExistingObjectIsDirectory. Our
		// keys never name a directory, so that answer is always the race,
		// and the same request, whose body is a buffer, succeeds again.
		Retryer: retry.AddWithErrorCodes(retry.NewStandard(), errExistingObjectIsDirectory),
	}
	if cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
	}
	if cfg.AccessKeyID != "" {
		opts.Credentials = credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")
	} else {
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.Region))
		if err != nil {
			return nil, fmt.Errorf("s3blob: load the default AWS credentials: %w", err)
		}
		opts.Credentials = awsCfg.Credentials
	}
	s := &Store{
		client:      s3.New(opts),
		transport:   transport,
		bucket:      cfg.Bucket,
		prefix:      prefix,
		partSize:    int(cfg.PartSize),
		concurrency: cfg.Concurrency,
		where:       "s3://" + cfg.Bucket + "/" + prefix,
		sse:         types.ServerSideEncryption(cfg.ServerSideEncryption),
	}
	if cfg.SSEKMSKeyID != "" {
		s.kmsKeyID = aws.String(cfg.SSEKMSKeyID)
	}
	if cfg.Endpoint != "" {
		s.where += " at " + cfg.Endpoint
	}
	s.parts.New = func() any { b := make([]byte, 0, s.partSize); return &b }
	return s, nil
}

// checkBucket turns the usual startup mistakes into instructions. It lists
// rather than HEADs the bucket: a HEAD error has no body, so a missing
// bucket and an unknown access key can look alike, and listing is a
// permission the store needs anyway.
func (s *Store) checkBucket(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	_, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(s.prefix), MaxKeys: aws.Int32(1)})
	if err == nil {
		return nil
	}
	code, httpStatus := errorCode(err), status(err)
	switch {
	case code == "NoSuchBucket" || httpStatus == http.StatusNotFound && code == "":
		return fmt.Errorf("s3blob: bucket %q does not exist (%s): create it first, for example with `aws s3 mb s3://%s` (add --endpoint-url for an S3-compatible server), or configure an existing bucket", s.bucket, s.where, s.bucket)
	// versitygw says XAdminUserNotFound, with a 404, for an unknown key.
	case code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || strings.HasSuffix(code, "UserNotFound"):
		return fmt.Errorf("s3blob: the service denied the credentials (%s): check the access key ID and the secret access key: %w", s.where, err)
	case code == "AuthorizationHeaderMalformed" || code == "PermanentRedirect" || httpStatus == http.StatusMovedPermanently:
		return fmt.Errorf("s3blob: bucket %q is in another region than the one configured (%s): set the bucket's region: %w", s.bucket, s.where, err)
	case httpStatus == http.StatusForbidden:
		return fmt.Errorf("s3blob: access to bucket %q was denied (%s): check that the credentials may list, read and write it: %w", s.bucket, s.where, err)
	case httpStatus == 0:
		return fmt.Errorf("s3blob: cannot reach the S3 service (%s): check the endpoint URL and that the service is running: %w", s.where, err)
	}
	return fmt.Errorf("s3blob: checking bucket %q (%s): %w", s.bucket, s.where, err)
}

// status is the HTTP status of a failed request, or 0 when there was no
// response at all.
func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isNotFound reports a missing object. A missing bucket is a configuration
// error, not a missing object, where the service says which it is.
func isNotFound(err error) bool {
	var noKey *types.NoSuchKey
	var notFound *types.NotFound
	if errors.As(err, &noKey) || errors.As(err, &notFound) {
		return true
	}
	return status(err) == http.StatusNotFound && errorCode(err) != "NoSuchBucket"
}

// wrap adds the operation and key, and blob.ErrNotFound where it applies.
func wrap(op, key string, err error) error {
	if isNotFound(err) {
		return fmt.Errorf("s3blob: %s %s: %w (%v)", op, key, blob.ErrNotFound, err)
	}
	return fmt.Errorf("s3blob: %s %s: %w", op, key, err)
}

// Close releases idle connections.
func (s *Store) Close() error {
	s.transport.CloseIdleConnections()
	return nil
}

func (s *Store) fullKey(key string) (string, error) {
	if err := blob.ValidKey(key); err != nil {
		return "", fmt.Errorf("s3blob: %w", err)
	}
	return s.prefix + key, nil
}

// Stat issues a HeadObject.
func (s *Store) Stat(ctx context.Context, key string) (blob.Attributes, error) {
	full, err := s.fullKey(key)
	if err != nil {
		return blob.Attributes{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &full})
	if err != nil {
		return blob.Attributes{}, wrap("stat", key, err)
	}
	return blob.Attributes{Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
}

// Delete issues a DeleteObject, which S3 answers alike for present and
// missing keys.
func (s *Store) Delete(ctx context.Context, key string) error {
	full, err := s.fullKey(key)
	if err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &full}); err != nil && !isNotFound(err) {
		return wrap("delete", key, err)
	}
	return nil
}

// List pages through ListObjectsV2, which returns keys in lexical order.
func (s *Store) List(ctx context.Context, prefix string, fn func(key string, attrs blob.Attributes) error) error {
	if err := blob.ValidPrefix(prefix); err != nil {
		return fmt.Errorf("s3blob: %w", err)
	}
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: &s.bucket,
		Prefix: aws.String(s.prefix + prefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("s3blob: list %s: %w", prefix, err)
		}
		for _, obj := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(obj.Key), s.prefix)
			attrs := blob.Attributes{Size: aws.ToInt64(obj.Size), ModTime: aws.ToTime(obj.LastModified)}
			if err := fn(key, attrs); err != nil {
				return err
			}
		}
	}
	return nil
}

// NewRangeReader issues one ranged GetObject; the body streams from the
// service. A range starting at the end of the object is one S3 refuses
// (416), although the blob contract calls it empty: that case costs a
// HeadObject to tell "at the end" from "past the end".
func (s *Store) NewRangeReader(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	full, err := s.fullKey(key)
	if err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("s3blob: read %s: negative offset %d", key, offset)
	}
	if length == 0 {
		return s.emptyRange(ctx, key, offset, false)
	}
	rng := fmt.Sprintf("bytes=%d-", offset)
	if length > 0 && length <= math.MaxInt64-offset {
		rng += fmt.Sprint(offset + length - 1)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &full, Range: &rng})
	if err != nil {
		if status(err) == http.StatusRequestedRangeNotSatisfiable || errorCode(err) == "InvalidRange" {
			return s.emptyRange(ctx, key, offset, true)
		}
		return nil, wrap("read", key, err)
	}
	if out.ContentRange != nil {
		return out.Body, nil
	}
	// The server ignored the Range header and sent the whole object, as
	// HTTP allows; skip and cut here instead.
	size := aws.ToInt64(out.ContentLength)
	if offset > size {
		out.Body.Close()
		return nil, fmt.Errorf("s3blob: read %s: %w: offset %d, size %d", key, blob.ErrOutOfRange, offset, size)
	}
	if _, err := io.CopyN(io.Discard, out.Body, offset); err != nil {
		out.Body.Close()
		return nil, fmt.Errorf("s3blob: read %s: %w", key, err)
	}
	if length < 0 {
		return out.Body, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(out.Body, length), out.Body}, nil
}

// emptyRange answers a read that can only yield nothing, a zero length or a
// range S3 refused: it checks that the key exists and that offset is not
// past its end.
func (s *Store) emptyRange(ctx context.Context, key string, offset int64, refused bool) (io.ReadCloser, error) {
	attrs, err := s.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	if offset > attrs.Size {
		return nil, fmt.Errorf("s3blob: read %s: %w: offset %d, size %d", key, blob.ErrOutOfRange, offset, attrs.Size)
	}
	if refused && offset < attrs.Size {
		// S3 refused a range inside the object: the object changed between
		// the GET and the HEAD. Report it rather than guess.
		return nil, fmt.Errorf("s3blob: read %s: the range from offset %d was refused, then the object had %d bytes; it is being overwritten, try again", key, offset, attrs.Size)
	}
	return io.NopCloser(bytes.NewReader(nil)), nil
}

// NewWriter starts writing key. Nothing is sent until the first part fills
// or Close is called.
func (s *Store) NewWriter(ctx context.Context, key string) (blob.Writer, error) {
	full, err := s.fullKey(key)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("s3blob: write %s: %w", key, err)
	}
	return &writer{
		s:        s,
		ctx:      ctx,
		partCtx:  context.WithoutCancel(ctx),
		key:      key,
		full:     full,
		inFlight: make(chan struct{}, s.concurrency),
	}, nil
}

// writer fills part buffers and uploads full ones in the background.
type writer struct {
	s   *Store
	ctx context.Context
	// partCtx runs part uploads, and the request that ends the write, to
	// their end even when ctx is cancelled. A part request cut off by the
	// client may still be running in the server when the abort arrives, and
	// then leave the upload, or a part of it, behind (S3's documentation
	// warns of this; versitygw shows it). Waiting costs at most Concurrency
	// part uploads; no new request starts once ctx is cancelled.
	partCtx context.Context
	key     string // as the caller named it, for messages
	full    string // with the store's prefix

	buf       []byte // the part being filled
	fromPools bool   // buf came from s.parts and goes back there
	uploadID  *string
	parts     int32         // parts started so far
	inFlight  chan struct{} // a token per part being uploaded
	wg        sync.WaitGroup

	mu        sync.Mutex
	completed []types.CompletedPart
	err       error // the first upload failure

	done bool
}

func (w *writer) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *writer) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

// partLimit is the size of the part being filled. It doubles every
// partsPerSize parts, so that an object of any size S3 can hold (5 TiB) fits
// in its 10,000 parts while the many smaller objects keep the configured
// size: with 16 MiB parts, the first 31 GiB go in 16 MiB parts, the next 62
// GiB in 32 MiB parts, and so on up to 961 GiB; with 64 MiB parts, 3.8 TiB.
func (w *writer) partLimit() int {
	return partLimit(w.s.partSize, w.parts)
}

func partLimit(base int, started int32) int {
	size := int64(base) << (started / partsPerSize)
	return int(min(size, MaxPartSize))
}

// room makes sure buf has free capacity, sending it first if it is a full
// part. The first part's buffer starts small and doubles, so that small
// objects stay cheap; past growLimit it moves into a whole pooled part
// buffer, which later parts use from the start, so that large objects do not
// pay for the doubling on every write.
func (w *writer) room(want int) error {
	if len(w.buf) == w.partLimit() {
		if err := w.sendPart(); err != nil {
			return err
		}
	}
	if len(w.buf) < cap(w.buf) {
		return nil
	}
	if limit := w.partLimit(); limit > w.s.partSize {
		w.buf = make([]byte, 0, limit) // rare enough not to pool
		return nil
	}
	size := max(firstBufferSize, 2*cap(w.buf), len(w.buf)+want)
	if w.parts > 0 || size > growLimit {
		bp := w.s.parts.Get().(*[]byte)
		w.buf = append((*bp)[:0], w.buf...)
		w.fromPools = true
		return nil
	}
	grown := make([]byte, len(w.buf), min(size, w.s.partSize))
	copy(grown, w.buf)
	w.buf = grown
	return nil
}

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("s3blob: write %s: %w", w.key, blob.ErrClosed)
	}
	written := 0
	for len(p) > 0 {
		if err := w.room(len(p)); err != nil {
			return written, err
		}
		n := copy(w.buf[len(w.buf):min(cap(w.buf), w.partLimit())], p)
		w.buf = w.buf[:len(w.buf)+n]
		p = p[n:]
		written += n
	}
	return written, nil
}

// ReadFrom reads straight into the part buffers.
func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	if w.done {
		return 0, fmt.Errorf("s3blob: write %s: %w", w.key, blob.ErrClosed)
	}
	var total int64
	for {
		if err := w.room(firstBufferSize); err != nil {
			return total, err
		}
		n, err := r.Read(w.buf[len(w.buf):min(cap(w.buf), w.partLimit())])
		w.buf = w.buf[:len(w.buf)+n]
		total += int64(n)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// sendPart starts uploading buf as the next part, waiting while Concurrency
// parts are already in flight.
func (w *writer) sendPart() error {
	if err := w.failure(); err != nil {
		return err
	}
	if w.parts == maxParts {
		err := fmt.Errorf("s3blob: write %s: the object needs more than S3's %d parts; raise the part size", w.key, maxParts)
		w.fail(err)
		return err
	}
	if w.uploadID == nil {
		out, err := w.s.client.CreateMultipartUpload(w.ctx, &s3.CreateMultipartUploadInput{Bucket: &w.s.bucket, Key: &w.full,
			ServerSideEncryption: w.s.sse, SSEKMSKeyId: w.s.kmsKeyID})
		if err != nil {
			err = wrap("write", w.key, err)
			w.fail(err)
			return err
		}
		w.uploadID = out.UploadId
	}
	select {
	case w.inFlight <- struct{}{}:
	case <-w.ctx.Done():
		err := fmt.Errorf("s3blob: write %s: %w", w.key, w.ctx.Err())
		w.fail(err)
		return err
	}
	w.parts++
	number, body, pooled := w.parts, w.buf, w.fromPools
	w.buf, w.fromPools = nil, false
	w.wg.Go(func() {
		defer func() { <-w.inFlight }()
		out, err := w.s.client.UploadPart(w.partCtx, &s3.UploadPartInput{
			Bucket:        &w.s.bucket,
			Key:           &w.full,
			UploadId:      w.uploadID,
			PartNumber:    aws.Int32(number),
			Body:          bytes.NewReader(body),
			ContentLength: aws.Int64(int64(len(body))),
		})
		if pooled || cap(body) == w.s.partSize { // a first part that grew full size
			body = body[:0]
			w.s.parts.Put(&body)
		}
		if err != nil {
			w.fail(fmt.Errorf("s3blob: write %s: part %d: %w", w.key, number, err))
			return
		}
		w.mu.Lock()
		w.completed = append(w.completed, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(number)})
		w.mu.Unlock()
	})
	return nil
}

// Close sends what is buffered: one PutObject for an object that never
// filled a part, else the last part and CompleteMultipartUpload. The context
// is checked before that last request, which then runs to its end: cut off,
// it could still take effect in the server after Close had reported failure.
func (w *writer) Close() error {
	if w.done {
		return fmt.Errorf("s3blob: close %s: %w", w.key, blob.ErrClosed)
	}
	w.done = true
	err := w.failure()
	if err == nil {
		if cerr := w.ctx.Err(); cerr != nil {
			err = fmt.Errorf("s3blob: write %s: %w", w.key, cerr)
		}
	}
	if err == nil && w.uploadID == nil {
		_, err = w.s.client.PutObject(w.partCtx, &s3.PutObjectInput{
			Bucket:        &w.s.bucket,
			Key:           &w.full,
			Body:          bytes.NewReader(w.buf),
			ContentLength: aws.Int64(int64(len(w.buf))),
			// Parts of a multipart upload take the encryption its
			// creation named; a single PUT names its own.
			ServerSideEncryption: w.s.sse,
			SSEKMSKeyId:          w.s.kmsKeyID,
		})
		if err != nil {
			err = wrap("write", w.key, err)
		}
		w.releaseBuffer()
		return err
	}
	if err == nil && len(w.buf) > 0 {
		// ReadFrom sends a full part as soon as it fills, so a stream
		// that ends on a part boundary leaves nothing here.
		err = w.sendPart()
	}
	w.wg.Wait()
	if err == nil {
		err = w.failure()
	}
	if err == nil {
		err = w.complete()
	}
	if err != nil {
		w.releaseBuffer()
		return errors.Join(err, w.abortUpload())
	}
	return nil
}

func (w *writer) complete() error {
	sort.Slice(w.completed, func(i, j int) bool {
		return aws.ToInt32(w.completed[i].PartNumber) < aws.ToInt32(w.completed[j].PartNumber)
	})
	_, err := w.s.client.CompleteMultipartUpload(w.partCtx, &s3.CompleteMultipartUploadInput{
		Bucket:          &w.s.bucket,
		Key:             &w.full,
		UploadId:        w.uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: w.completed},
	})
	if err != nil {
		return wrap("write", w.key, err)
	}
	return nil
}

// Abort waits for the parts in flight and aborts the multipart upload.
func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.wg.Wait()
	w.releaseBuffer()
	return w.abortUpload()
}

// abortUpload runs even when the caller's context is cancelled: leaving the
// upload would keep its parts stored, and billed, until a lifecycle rule
// reaped them.
func (w *writer) abortUpload() error {
	if w.uploadID == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(w.partCtx, cleanupTimeout)
	defer cancel()
	_, err := w.s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &w.s.bucket, Key: &w.full, UploadId: w.uploadID})
	w.uploadID = nil
	if err != nil && errorCode(err) != "NoSuchUpload" {
		return fmt.Errorf("s3blob: abort the upload of %s: %w", w.key, err)
	}
	return nil
}

func (w *writer) releaseBuffer() {
	if w.fromPools {
		b := w.buf[:0]
		w.s.parts.Put(&b)
	}
	w.buf, w.fromPools = nil, false
}
