package location

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	seqstore "github.com/seqstore/seqstore"
)

// s3Settings are what make one S3 client differ from another; the zero
// value is the environment's defaults.
type s3Settings struct {
	Endpoint, Region, Profile, AccessKeyID, SecretAccessKey string
	PathStyle                                               bool
}

// maxIdleConns is how many idle connections a client keeps per host.
const maxIdleConns = 64

// abortTimeout bounds the request that aborts a failed upload.
const abortTimeout = 30 * time.Second

// s3Client is an S3 client and the transfer manager that uploads through it.
type s3Client struct {
	api     *s3.Client
	uploads *transfermanager.Client
}

// client returns the client of the settings, built on first use and shared
// by every bucket with the same settings.
func (l *Locations) client(ctx context.Context, s s3Settings) (*s3Client, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.clients[s]; c != nil {
		return c, nil
	}
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			// Every transfer keeps Concurrency requests going; the default
			// idle connections per host would reconnect constantly.
			t.MaxIdleConnsPerHost = maxIdleConns
		})),
		// Checksums only where S3 requires them, as the object store
		// does: the newer default adds CRC trailers that many
		// S3-compatible servers reject. SigV4 still signs each part.
		awsconfig.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		awsconfig.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if s.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(s.Profile))
	}
	if s.Region != "" {
		opts = append(opts, awsconfig.WithRegion(s.Region))
	}
	if s.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, "")))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load the S3 settings: %w", err)
	}
	if cfg.Region == "" {
		// S3-compatible servers accept the first AWS region whatever theirs.
		cfg.Region = "us-east-1"
	}
	api := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if s.Endpoint != "" {
			o.BaseEndpoint = aws.String(s.Endpoint)
		}
		// An endpoint from the environment (AWS_ENDPOINT_URL_S3) is an
		// S3-compatible server, which rarely has the wildcard DNS that
		// bucket.endpoint needs.
		o.UsePathStyle = s.PathStyle || (s.Endpoint == "" && o.BaseEndpoint != nil)
	})
	partSize := max(l.partSize, minUploadPartSize)
	uploads := transfermanager.New(api, func(o *transfermanager.Options) {
		o.PartSizeBytes = partSize
		o.MultipartUploadThreshold = partSize
		o.Concurrency = l.concurrency
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		// Abort a failed upload even when the caller's context is gone, so
		// that no multipart upload is left behind.
		o.FailTimeout = abortTimeout
	})
	c := &s3Client{api: api, uploads: uploads}
	l.clients[s] = c
	return c, nil
}

// s3Error names the URI in an S3 error and gives it its code: a missing
// object or bucket is CodeNotFound, a refusal CodeAccessDenied.
func s3Error(uri, doing string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	code, message := "", ""
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, message = ae.ErrorCode(), ae.ErrorMessage()
	}
	said := "S3 answered"
	if status != 0 {
		said += " " + strconv.Itoa(status)
	}
	if code != "" {
		said += " " + code
	}
	if message != "" && message != code {
		said += ": " + message
	}
	if status == 0 && code == "" {
		said = err.Error()
	}
	switch {
	case status == http.StatusNotFound || code == "NoSuchKey" || code == "NoSuchBucket" || code == "NotFound":
		return &seqstore.Error{Code: seqstore.CodeNotFound, Message: fmt.Sprintf("%s does not exist (%s)", quoteURI(uri), said), Err: err}
	case status == http.StatusForbidden || code == "AccessDenied" || code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch":
		return &seqstore.Error{Code: seqstore.CodeAccessDenied, Message: fmt.Sprintf("%s: the S3 service refused to %s it (%s); check the credentials the server uses for this bucket and that they may %s it", quoteURI(uri), doing, said, doing), Err: err}
	case status == http.StatusPreconditionFailed:
		return &seqstore.Error{Code: seqstore.CodeConflict, Message: fmt.Sprintf("%s changed while it was being read; start again", quoteURI(uri)), Err: err}
	}
	return &seqstore.Error{Code: seqstore.CodeInternal, Message: fmt.Sprintf("%s: could not %s it: %s", quoteURI(uri), doing, said), Err: err}
}

// openS3 learns the object's size and version, then reads it in ranges.
func (l *Locations) openS3(ctx context.Context, p place) (io.ReadCloser, error) {
	head, err := p.client.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &p.bucket, Key: &p.key})
	if err != nil {
		return nil, s3Error(p.uri, "read", err)
	}
	size := aws.ToInt64(head.ContentLength)
	if size < 0 {
		return nil, seqstore.Errorf(seqstore.CodeInternal, "%s: the S3 service gave the size %d", quoteURI(p.uri), size)
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &rangeReader{
		l:      l,
		p:      p,
		etag:   head.ETag,
		size:   size,
		cancel: cancel,
		queue:  make(chan *rangePart, l.concurrency),
		slots:  make(chan struct{}, l.concurrency),
	}
	r.ctx = ctx
	go r.produce(ctx)
	return r, nil
}

// rangeReader reads an object as ranged GETs, Concurrency at a time, and
// hands their bytes on in order. A part holds a slot from before its GET
// until the reader has handed on its last byte, so at most Concurrency
// parts (PartSize×Concurrency bytes) are held at once.
type rangeReader struct {
	l      *Locations
	p      place
	etag   *string
	size   int64
	cancel context.CancelFunc
	queue  chan *rangePart // parts in object order
	slots  chan struct{}

	ctx       context.Context
	cur       *rangePart
	off       int
	delivered int64 // bytes handed on
	err       error
	closed    bool
}

// rangePart is one ranged GET; ready is closed once buf or err is set.
type rangePart struct {
	ready chan struct{}
	buf   []byte
	err   error
}

func (r *rangeReader) produce(ctx context.Context) {
	defer close(r.queue)
	for off := int64(0); off < r.size; off += r.l.partSize {
		select {
		case r.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		n := min(r.l.partSize, r.size-off)
		part := &rangePart{ready: make(chan struct{})}
		go func() {
			part.buf, part.err = r.fetch(ctx, off, n)
			close(part.ready)
		}()
		r.queue <- part // never blocks: the queue holds as many parts as there are slots
	}
}

// fetchAttempts is how many times a range whose body breaks off is asked
// for; the SDK's retryer has already retried failures before the body.
const fetchAttempts = 3

// fetch GETs n bytes at off, of the version Open saw, and refuses an
// answer of any other length or place.
func (r *rangeReader) fetch(ctx context.Context, off, n int64) ([]byte, error) {
	buf := r.l.getBuffer(n)
	for attempt := 1; ; attempt++ {
		err := r.fetchInto(ctx, off, buf)
		if err == nil {
			return buf, nil
		}
		var broken bodyBroken
		if !errors.As(err, &broken) || attempt == fetchAttempts || ctx.Err() != nil {
			r.l.putBuffer(buf)
			return nil, err
		}
		slog.Warn("location: a ranged GET broke off; asking again", "uri", r.p.uri, "offset", off, "attempt", attempt, "err", err)
	}
}

// bodyBroken is a body that ended early or failed mid-way, worth asking for
// again.
type bodyBroken struct{ error }

func (r *rangeReader) fetchInto(ctx context.Context, off int64, buf []byte) error {
	n := int64(len(buf))
	want := fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, r.size)
	out, err := r.p.client.api.GetObject(ctx, &s3.GetObjectInput{
		Bucket:  &r.p.bucket,
		Key:     &r.p.key,
		Range:   aws.String(fmt.Sprintf("bytes=%d-%d", off, off+n-1)),
		IfMatch: r.etag,
	})
	if err != nil {
		return s3Error(r.p.uri, "read", err)
	}
	defer out.Body.Close()
	got := aws.ToString(out.ContentRange)
	if got == "" && n == r.size {
		got = want // a whole object may come without Content-Range
	}
	if got != want {
		return seqstore.Errorf(seqstore.CodeInternal, "%s: the S3 service answered a request for %s with %q; refusing the bytes", quoteURI(r.p.uri), want, got)
	}
	if cl := out.ContentLength; cl != nil && *cl != n {
		return seqstore.Errorf(seqstore.CodeInternal, "%s: the S3 service answered a request for %s with %d bytes; refusing them", quoteURI(r.p.uri), want, *cl)
	}
	if _, err := io.ReadFull(out.Body, buf); err != nil {
		return bodyBroken{fmt.Errorf("%s: reading %s: %w", quoteURI(r.p.uri), want, err)}
	}
	var extra [1]byte
	if k, _ := io.ReadFull(out.Body, extra[:]); k > 0 {
		return seqstore.Errorf(seqstore.CodeInternal, "%s: the S3 service sent more than the %d bytes of %s; refusing them", quoteURI(r.p.uri), n, want)
	}
	return nil
}

func (r *rangeReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.closed {
		return 0, errClosed
	}
	for r.cur == nil || r.off == len(r.cur.buf) {
		r.release()
		part, ok := <-r.queue
		if !ok {
			r.err = io.EOF
			if r.delivered != r.size {
				// The parts stopped early: the context ended.
				r.err = fmt.Errorf("%s: reading stopped after %d of %d bytes: %w", quoteURI(r.p.uri), r.delivered, r.size, context.Cause(r.ctx))
			}
			return 0, r.err
		}
		<-part.ready
		r.cur, r.off = part, 0
		if part.err != nil {
			r.err = part.err
			return 0, r.err
		}
	}
	n := copy(p, r.cur.buf[r.off:])
	r.off += n
	r.delivered += int64(n)
	return n, nil
}

// release gives back the current part's buffer and slot.
func (r *rangeReader) release() {
	if r.cur == nil {
		return
	}
	r.l.putBuffer(r.cur.buf)
	r.cur = nil
	<-r.slots
}

// Close stops the GETs in flight and waits for them, so that nothing of the
// reader outlives it.
func (r *rangeReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.cancel()
	r.release()
	for part := range r.queue {
		<-part.ready
		r.l.putBuffer(part.buf)
		<-r.slots
	}
	return nil
}

// partBuffers recycles the buffers of ranged GETs, all of PartSize bytes.
var partBuffers sync.Map // part size → *sync.Pool

func (l *Locations) getBuffer(n int64) []byte {
	pool, _ := partBuffers.LoadOrStore(l.partSize, &sync.Pool{})
	b, _ := pool.(*sync.Pool).Get().(*[]byte)
	if b == nil {
		buf := make([]byte, l.partSize)
		b = &buf
	}
	used := l.partBytes.Add(int64(cap(*b)))
	for {
		top := l.maxPartBytes.Load()
		if used <= top || l.maxPartBytes.CompareAndSwap(top, used) {
			break
		}
	}
	return (*b)[:n]
}

func (l *Locations) putBuffer(b []byte) {
	if b == nil {
		return
	}
	l.partBytes.Add(-int64(cap(b)))
	b = b[:cap(b)]
	pool, _ := partBuffers.Load(l.partSize)
	pool.(*sync.Pool).Put(&b)
}

// createS3 uploads what is written through the transfer manager: one PUT
// for a small object, a multipart upload for a large one. The manager
// completes the upload when its body ends, which only Commit allows; Abort
// ends the body with an error, and the manager aborts the upload.
func (l *Locations) createS3(ctx context.Context, p place, size int64, tags map[string]string) Writer {
	pr, pw := io.Pipe()
	w := &s3Writer{uri: p.uri, pw: pw, done: make(chan struct{})}
	in := &transfermanager.UploadObjectInput{
		Bucket: &p.bucket,
		Key:    &p.key,
		Body:   pr,
		// A known size lets the manager choose parts large enough that
		// the object fits in S3's 10,000.
		ContentLength: sizeHint(size),
	}
	if len(tags) > 0 {
		q := url.Values{}
		for k, v := range tags {
			q.Set(k, v)
		}
		tagging := q.Encode()
		in.Tagging = &tagging
	}
	go func() {
		_, err := p.client.uploads.UploadObject(ctx, in)
		if err == nil {
			err = errUploadEnded
		} else {
			w.err = err
		}
		// A Write after the upload stopped fails instead of blocking.
		pr.CloseWithError(err)
		close(w.done)
	}()
	return w
}

func sizeHint(size int64) *int64 {
	if size < 0 {
		return nil
	}
	return &size
}

var (
	errAborted     = errors.New("location: write aborted")
	errUploadEnded = errors.New("location: upload already ended")
)

// s3Writer feeds an upload through a pipe.
type s3Writer struct {
	uri      string
	pw       *io.PipeWriter
	done     chan struct{}
	err      error // the upload's, once done is closed
	finished bool
}

func (w *s3Writer) Write(p []byte) (int, error) {
	if w.finished {
		return 0, errClosed
	}
	n, err := w.pw.Write(p)
	if err != nil {
		<-w.done
		if w.err != nil {
			return n, s3Error(w.uri, "write", w.err)
		}
		return n, err
	}
	return n, nil
}

func (w *s3Writer) Commit() error {
	if w.finished {
		return errClosed
	}
	w.finished = true
	w.pw.Close()
	<-w.done
	if w.err != nil {
		return s3Error(w.uri, "write", w.err)
	}
	return nil
}

func (w *s3Writer) Abort() {
	if w.finished {
		return
	}
	w.finished = true
	w.pw.CloseWithError(errAborted)
	<-w.done
}
