package sigv4

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"sync/atomic"
)

// emptySHA256 is the payload hash of an empty body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// defaultMaxBufferedBody is where Verifier.MaxBufferedBody's zero leads.
// The largest JSON body of the storage API (StartReadSetImportJob: 100
// sources of up to 50 tags each) stays under 3 MiB.
const defaultMaxBufferedBody = 4 << 20

// hasBody reports whether r may carry body bytes. A server request with
// Content-Length 0 has http.NoBody; an unknown length (chunked) counts as
// a body.
func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// readSmallBody reads the whole body into memory, up to max bytes, returns
// its SHA-256 and puts an equivalent reader back in r.Body for the handler.
// The buffer grows with the bytes that actually arrive, never with the
// Content-Length the client declares: before the signature is proven a
// declared length is only a claim, and a connection that declares megabytes
// and sends nothing must cost nothing. Growth is charged to b (nil: no
// budget) until readSmallBody returns; over the budget it fails with
// ThrottlingException.
func readSmallBody(r *http.Request, max int64, b *budget) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	if r.ContentLength > max {
		return sum, tooLarge(max)
	}
	var charged int64
	defer func() { b.give(charged) }()
	buf := make([]byte, 0, 512)
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > max {
				return sum, tooLarge(max)
			}
			grown := min(2*int64(cap(buf)), max+1)
			if !b.take(grown - int64(cap(buf))) {
				return sum, errBusy
			}
			charged += grown - int64(cap(buf))
			buf = append(make([]byte, 0, grown), buf...)
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, fmt.Errorf("sigv4: reading the request body: %w", err)
		}
	}
	if int64(len(buf)) > max {
		return sum, tooLarge(max)
	}
	r.Body = &bufferedBody{Reader: bytes.NewReader(buf), orig: r.Body}
	return sha256.Sum256(buf), nil
}

// budget bounds the bytes that bodies of not yet authenticated requests
// hold at once, across all requests. Its methods accept a nil budget, which
// allows everything.
type budget struct {
	max  int64
	used atomic.Int64
}

func (b *budget) take(n int64) bool {
	if b == nil {
		return true
	}
	if b.used.Add(n) > b.max {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *budget) give(n int64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
	}
}

// errBusy answers a request whose body would pass the budget: SDKs retry
// ThrottlingException with backoff.
var errBusy = &Error{code: CodeThrottling, status: http.StatusTooManyRequests,
	msg: "the server is reading too many request bodies of unauthenticated requests at once; retry shortly"}

func tooLarge(max int64) *Error {
	return &Error{code: CodeRequestEntityTooLarge, status: http.StatusRequestEntityTooLarge,
		msg: fmt.Sprintf("the request body is over %d bytes, the most this operation takes", max)}
}

// bufferedBody is a body read ahead into memory; Close still closes the
// connection's reader.
type bufferedBody struct {
	*bytes.Reader
	orig io.Closer
}

func (b *bufferedBody) Close() error { return b.orig.Close() }

// verifyingBody hashes a streamed body as the handler reads it and, once the
// last byte is in (Content-Length bytes, or io.EOF when the length is
// unknown), asks verdict whether that hash is the signed one. A failed
// verdict is returned by that last Read, together with its bytes, and by
// every Read after it, so a handler that copies the body somewhere must
// discard the copy when the copy fails. Nothing is buffered.
type verifyingBody struct {
	body      io.ReadCloser
	sha       hash.Hash
	remaining int64 // bytes still to come; -1 when unknown
	verdict   func(sum [sha256.Size]byte) error
	done      bool
	err       error
}

func newVerifyingBody(r *http.Request, verdict func([sha256.Size]byte) error) *verifyingBody {
	remaining := r.ContentLength
	if remaining <= 0 {
		remaining = -1
	}
	return &verifyingBody{body: r.Body, sha: sha256.New(), remaining: remaining, verdict: verdict}
}

func (b *verifyingBody) Read(p []byte) (int, error) {
	if b.done {
		if b.err != nil {
			return 0, b.err
		}
		return b.body.Read(p)
	}
	n, err := b.body.Read(p)
	b.sha.Write(p[:n])
	if b.remaining >= 0 {
		b.remaining -= int64(n)
	}
	if b.remaining == 0 || err == io.EOF {
		b.done = true
		var sum [sha256.Size]byte
		b.sha.Sum(sum[:0])
		if b.err = b.verdict(sum); b.err != nil {
			return n, b.err
		}
	}
	return n, err
}

func (b *verifyingBody) Close() error { return b.body.Close() }

// CheckBody returns the verdict on a body that Verify put in r.Body: nil
// when it matched its signature, the *Error of the failed check otherwise.
// It reads (and hashes) whatever the handler left unread, so it gives a
// verdict even when the handler read exactly Content-Length bytes and never
// saw the failing Read: io.CopyN, for one, drops the error of the read that
// fills its count. A handler that stores a streamed body calls it before it
// commits. Bodies that Verify did not wrap were checked before it returned,
// so CheckBody returns nil for them.
func CheckBody(body io.Reader) error {
	b, ok := body.(*verifyingBody)
	if !ok {
		return nil
	}
	if !b.done {
		if _, err := io.Copy(io.Discard, b); err != nil && b.err == nil {
			return fmt.Errorf("sigv4: reading the rest of the request body: %w", err)
		}
	}
	return b.err
}

// claimedHashVerdict accepts a body whose SHA-256 is the hex value the
// client claimed (and signed) in X-Amz-Content-Sha256.
func claimedHashVerdict(claimed string) (func([sha256.Size]byte) error, error) {
	var want [sha256.Size]byte
	if _, err := hex.Decode(want[:], []byte(claimed)); err != nil || len(claimed) != 2*sha256.Size {
		return nil, errBadContentSHA256(claimed)
	}
	return func(got [sha256.Size]byte) error {
		if got != want {
			return errBodyMismatch
		}
		return nil
	}, nil
}

var errUnsignedPayloadRefused = fail(CodeInvalidSignature, "X-Amz-Content-Sha256: UNSIGNED-PAYLOAD is accepted only for UploadReadSetPart; sign this request over its body's SHA-256 (the AWS SDKs and CLI do)")

var errBodyMismatch = fail(CodeInvalidSignature, "The request body does not match its signed SHA-256 (the X-Amz-Content-Sha256 header).")

func errBadContentSHA256(v string) *Error {
	return fail(CodeIncompleteSignature, "X-Amz-Content-Sha256 must be the body's SHA-256 in hex or UNSIGNED-PAYLOAD, not %q", truncate(v))
}

// checkContentSHA256 accepts the X-Amz-Content-Sha256 values this server
// can honour. The STREAMING-* values announce S3's aws-chunked framing,
// which no omics client sends and this server does not unwrap.
func checkContentSHA256(v string) error {
	if v == unsignedPayload {
		return nil
	}
	if len(v) == 2*sha256.Size {
		for i := 0; i < len(v); i++ {
			if _, ok := hexValue(v[i]); !ok {
				return errBadContentSHA256(v)
			}
		}
		return nil
	}
	return errBadContentSHA256(v)
}

func hexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
