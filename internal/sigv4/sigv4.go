// Package sigv4 verifies AWS Signature Version 4 on incoming requests the
// way AWS front ends do for restJson1 services such as HealthOmics: header
// authentication and presigned URLs, the double-encoded canonical path of
// non-S3 services, UNSIGNED-PAYLOAD where the operation allows it, bodies
// hashed while they stream, and a clock-skew window. A Verifier for the
// service "s3" signs the path once, as S3 does, and its errors carry S3's
// names for the same failures (Error.S3Code). It answers which access
// key (and so which account) signed a request, or why it will not say.
//
// The SDKs' signers only sign, and no published Go package verifies the
// non-S3 variant (the S3 servers' verifiers sign paths once, not twice), so
// this one is written here from the SigV4 documentation and the behaviour
// of the Go, Python and JavaScript signers, which its tests run.
package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// CredentialStore finds the secret of an access key and the account it acts
// for. For a key it does not know it returns an error wrapping
// ErrUnknownAccessKey; any other error is passed through as it is (it is the
// server's fault, not the client's).
type CredentialStore interface {
	SecretFor(ctx context.Context, accessKeyID string) (secret, accountID string, err error)
}

// Identity is who signed a request.
type Identity struct {
	AccessKeyID string
	AccountID   string
	// Deferred is true when the signature covers a body hash that is known
	// only once the body has been read: a streamed body (Options.
	// AllowUnsignedPayload) signed with its own SHA-256 but without an
	// X-Amz-Content-Sha256 header, as the JavaScript SDK signs byte-array
	// uploads. The signature is then checked when r.Body reaches its end,
	// and that last Read fails with an InvalidSignatureException *Error if
	// it does not match. Until then the identity is a claim, not a proof.
	Deferred bool
}

// Options describe the operation a request is for.
type Options struct {
	// AllowUnsignedPayload marks an operation whose body is a byte stream
	// that SDKs sign as UNSIGNED-PAYLOAD (UploadReadSetPart, modelled with
	// unsignedPayload). For it
	//   - a signature over UNSIGNED-PAYLOAD is accepted even without the
	//     X-Amz-Content-Sha256 header (the JavaScript SDK sends none), and
	//   - the body is never read ahead into memory: a signed hash is
	//     checked as the handler reads it (see Identity.Deferred).
	// For other operations a body is read into memory (up to
	// Verifier.MaxBufferedBody) and its hash is checked before Verify
	// returns.
	AllowUnsignedPayload bool
}

// Verifier checks signatures for one service and region. Its zero cache is
// ready to use; a Verifier must not be copied after first use.
type Verifier struct {
	Credentials CredentialStore
	// Service is the signing name in the credential scope; empty means
	// "omics".
	Service string
	// Region is the one region the server serves; requests scoped to any
	// other are refused with a message naming this one. Required.
	Region string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxSkew is how far X-Amz-Date may be from now; zero means 15 minutes,
	// AWS's window.
	MaxSkew time.Duration
	// MaxBufferedBody caps the bodies read into memory to hash them before
	// the signature is checked (JSON bodies); zero means 4 MiB.
	MaxBufferedBody int64
	// MaxBufferedTotal caps what all such bodies hold at once before their
	// signatures are checked; a request that would pass it is answered 429
	// ThrottlingException. Zero means 64 MiB. Set it before first use.
	MaxBufferedTotal int64

	keys       keyCache
	budgetOnce sync.Once
	budget     *budget
}

// uriRule is how the canonical request writes the path.
type uriRule int

const (
	// uriNormalized: dot segments removed, then encoded again (non-S3).
	uriNormalized uriRule = iota
	// uriAsSent: encoded again as sent, dot segments kept (the Go SDK's
	// non-S3 signer).
	uriAsSent
	// uriS3: as sent, encoded once (S3).
	uriS3
)

// serviceS3 is S3's signing name. Its canonical path differs from every
// other service's: encoded once, never normalised.
const serviceS3 = "s3"

func (v *Verifier) service() string {
	if v.Service == "" {
		return defaultService
	}
	return v.Service
}

const (
	defaultService = "omics"
	defaultMaxSkew = 15 * time.Minute
	// maxPresignExpiry is the longest X-Amz-Expires AWS accepts: 7 days.
	maxPresignExpiry = 7 * 24 * time.Hour
)

// Verify checks r's signature, header or presigned, and returns who made it.
// Failures are *Error values (403, or 413 for a JSON body over
// MaxBufferedBody); an error from the CredentialStore or from reading the
// body is returned wrapped as it is.
//
// Verify may replace r.Body: with the same bytes read ahead into memory
// (small bodies whose hash must be known first), or, for operations with
// Options.AllowUnsignedPayload, with a reader that checks the signed hash
// (or the whole signature, see Identity.Deferred) as it goes. Handlers must
// read the body through r.Body after Verify and treat a Read error as the
// request's failure (errors.As it to *Error to answer 403); one that stores
// a streamed body asks CheckBody(r.Body) before it commits.
//
// A failure returns the access key ID the request claims, when its
// signature could be parsed that far: unproven, for logs only.
func (v *Verifier) Verify(r *http.Request, o Options) (Identity, error) {
	s := scratchPool.Get().(*scratch)
	defer s.release()

	path, rawQuery := requestTarget(r)
	params, err := parseQuery(s.params[:0], rawQuery)
	s.params = params
	if err != nil {
		return Identity{}, err
	}
	c, err := readClaim(r, params)
	if err != nil {
		return Identity{}, err
	}
	// From here on a failure still names the key the request claims, for logs.
	claimedOnly := Identity{AccessKeyID: c.accessKey}
	if err := v.checkScope(&c); err != nil {
		return claimedOnly, err
	}
	if err := v.checkTime(&c); err != nil {
		return claimedOnly, err
	}
	secret, account, err := v.Credentials.SecretFor(r.Context(), c.accessKey)
	if errors.Is(err, ErrUnknownAccessKey) {
		return claimedOnly, fail(CodeUnrecognizedClient, msgUnknownKey)
	}
	if err != nil {
		return claimedOnly, fmt.Errorf("sigv4: looking up access key %s: %w", c.accessKey, err)
	}
	id := Identity{AccessKeyID: c.accessKey, AccountID: account}
	key := v.keys.get(c.accessKey, secret, c.date, c.region, c.service)

	sortQuery(params)
	skip := ""
	if c.presigned {
		skip = "X-Amz-Signature"
	}
	s.canonRaw = s.canonRaw[:0]
	switch {
	case v.service() == serviceS3:
		// S3 signs the path once, as sent: keys may hold "//" and "..".
		s.canon = appendCanonicalRequestPrefix(s.canon[:0], r, c.signedHeaders, path, params, skip, uriS3)
	default:
		s.canon = appendCanonicalRequestPrefix(s.canon[:0], r, c.signedHeaders, path, params, skip, uriNormalized)
		// The Go SDK signs the path without removing dot segments; botocore
		// and AWS remove them. Paths that have some are tried both ways.
		if normalizePath(path) != path {
			s.canonRaw = appendCanonicalRequestPrefix(s.canonRaw[:0], r, c.signedHeaders, path, params, skip, uriAsSent)
		}
	}

	// Which payload hashes the signature may cover.
	claimed := headerValue(r, "X-Amz-Content-Sha256")
	body := hasBody(r)
	unsignedOK := o.AllowUnsignedPayload || c.presigned
	var candidates [2]string
	n := 0
	add := func(p string) { candidates[n] = p; n++ }
	switch {
	case claimed != "":
		if err := checkContentSHA256(claimed); err != nil {
			return claimedOnly, err
		}
		// A signature over UNSIGNED-PAYLOAD covers no body at all: anyone
		// who sees the request could send it again with another body. Only
		// streamed uploads are signed so; a presigned URL without a body
		// has nothing to swap.
		if claimed == unsignedPayload && !o.AllowUnsignedPayload && (body || !c.presigned) {
			return claimedOnly, errUnsignedPayloadRefused
		}
		add(claimed)
	case !body:
		add(emptySHA256)
		if unsignedOK {
			add(unsignedPayload)
		}
	case o.AllowUnsignedPayload:
		// Streamed: a signature over UNSIGNED-PAYLOAD now, or one over the
		// body's hash once it has been read.
		add(unsignedPayload)
	default:
		// Who sent it is unknown until the hash is: the read is charged
		// to the budget of unauthenticated bodies.
		sum, err := readSmallBody(r, v.maxBufferedBody(), v.unauthenticatedBudget())
		if err != nil {
			return claimedOnly, err
		}
		add(hex.EncodeToString(sum[:]))
	}

	for _, payload := range candidates[:n] {
		if s.matches(key, &c, payload) {
			if claimed != "" && claimed != unsignedPayload && body {
				if err := v.checkClaimedBody(r, o, claimed); err != nil {
					return claimedOnly, err
				}
			}
			return id, nil
		}
	}
	if claimed == "" && body && o.AllowUnsignedPayload {
		r.Body = newVerifyingBody(r, s.deferredVerdict(key, c))
		id.Deferred = true
		return id, nil
	}
	return claimedOnly, errSignatureMismatch
}

// checkClaimedBody holds the body to the hash the client signed: now for a
// small body read into memory, as it streams for an upload.
func (v *Verifier) checkClaimedBody(r *http.Request, o Options, claimed string) error {
	verdict, err := claimedHashVerdict(claimed)
	if err != nil {
		return err
	}
	if o.AllowUnsignedPayload {
		r.Body = newVerifyingBody(r, verdict)
		return nil
	}
	// The signature over the claimed hash is proven: no budget.
	sum, err := readSmallBody(r, v.maxBufferedBody(), nil)
	if err != nil {
		return err
	}
	return verdict(sum)
}

// readClaim finds the request's signature: in the Authorization header or
// in the query, never both.
func readClaim(r *http.Request, params []queryParam) (claim, error) {
	authz := r.Header["Authorization"]
	presigned := false
	for i := range params {
		if params[i].name == "X-Amz-Algorithm" || params[i].name == "X-Amz-Signature" {
			presigned = true
			break
		}
	}
	switch {
	case len(authz) > 0 && presigned:
		return claim{}, fail(CodeIncompleteSignature, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified")
	case len(authz) > 1:
		return claim{}, fail(CodeIncompleteSignature, "the request has %d Authorization headers; it must have one", len(authz))
	case len(authz) == 1:
		c, err := parseAuthorization(authz[0])
		if err != nil {
			return c, err
		}
		amzDate := headerValue(r, "X-Amz-Date")
		if amzDate == "" {
			return c, fail(CodeIncompleteSignature, "Authorization header requires existence of a 'X-Amz-Date' header.")
		}
		return c, c.setDate(amzDate)
	case presigned:
		c, err := parsePresigned(params)
		var e *Error
		if errors.As(err, &e) && e.code == CodeIncompleteSignature {
			e.withS3Code(S3CodeAuthorizationQueryError)
		}
		return c, err
	}
	return claim{}, fail(CodeMissingAuthenticationToken, msgMissingToken)
}

// parsePresigned reads a presigned URL's X-Amz-* query parameters.
func parsePresigned(params []queryParam) (claim, error) {
	var c claim
	c.presigned = true
	const (
		pAlgorithm = iota
		pCredential
		pDate
		pExpires
		pSignedHeaders
		pSignature
		nParams
	)
	names := [nParams]string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"}
	var vals [nParams]string
	var seen [nParams]bool
	for i := range params {
		for j, name := range names {
			if params[i].name == name {
				if seen[j] {
					return c, fail(CodeIncompleteSignature, "the query string has %s twice", name)
				}
				seen[j], vals[j] = true, params[i].value
			}
		}
	}
	for _, ok := range seen {
		if !ok {
			return c, fail(CodeIncompleteSignature, "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires'. Re-examine the query-string parameters.")
		}
	}
	if vals[pAlgorithm] != algorithm {
		return c, fail(CodeIncompleteSignature, "X-Amz-Algorithm %q is not supported; only %s is", truncate(vals[pAlgorithm]), algorithm)
	}
	if err := c.setCredential(vals[pCredential]); err != nil {
		return c, err
	}
	if err := c.setSignedHeaders(vals[pSignedHeaders]); err != nil {
		return c, err
	}
	if err := c.setSignature(vals[pSignature]); err != nil {
		return c, err
	}
	if err := c.setDate(vals[pDate]); err != nil {
		return c, err
	}
	secs, err := strconv.ParseUint(vals[pExpires], 10, 32)
	if err != nil || secs == 0 {
		return c, fail(CodeIncompleteSignature, "X-Amz-Expires %q must be a positive number of seconds", truncate(vals[pExpires]))
	}
	if c.expires = time.Duration(secs) * time.Second; c.expires > maxPresignExpiry {
		return c, fail(CodeIncompleteSignature, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	return c, nil
}

func (v *Verifier) checkScope(c *claim) error {
	service := v.service()
	if c.service != service {
		return fail(CodeInvalidSignature, "Credential should be scoped to correct service: '%s'.", service).withS3Code(S3CodeAuthorizationHeaderMalformed)
	}
	if c.region != v.Region {
		return fail(CodeInvalidSignature, "Credential should be scoped to a valid region, not '%s'. This server serves region '%s'.", truncate(c.region), v.Region).withS3Code(S3CodeAuthorizationHeaderMalformed)
	}
	return nil
}

// checkTime enforces the skew window on header signatures and, on presigned
// URLs, expiry (and a date no later than the skew window allows).
func (v *Verifier) checkTime(c *claim) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now().UTC().Truncate(time.Second)
	skew := v.MaxSkew
	if skew <= 0 {
		skew = defaultMaxSkew
	}
	if c.time.After(t.Add(skew)) {
		return fail(CodeInvalidSignature, "Signature not yet current: %s is still later than %s (%s + %s.)",
			c.amzDate, t.Add(skew).Format(amzDateLayout), t.Format(amzDateLayout), formatWindow(skew, false)).withS3Code(S3CodeRequestTimeTooSkewed)
	}
	window := skew
	if c.presigned {
		window = c.expires
	}
	if c.time.Before(t.Add(-window)) {
		// X-Amz-Expires counts seconds, so the message does too. S3 says
		// AccessDenied of an expired presigned URL.
		s3Code := S3CodeRequestTimeTooSkewed
		if c.presigned {
			s3Code = S3CodeAccessDenied
		}
		return fail(CodeInvalidSignature, "Signature expired: %s is now earlier than %s (%s - %s.)",
			c.amzDate, t.Add(-window).Format(amzDateLayout), t.Format(amzDateLayout), formatWindow(window, c.presigned)).withS3Code(s3Code)
	}
	return nil
}

// formatWindow writes a duration as AWS's messages do: "15 min" or "300 sec".
func formatWindow(d time.Duration, inSeconds bool) string {
	if d%time.Minute == 0 && !inSeconds {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + " sec"
}

// defaultMaxBufferedTotal is where Verifier.MaxBufferedTotal's zero leads:
// sixteen of the largest JSON bodies at once.
const defaultMaxBufferedTotal = 64 << 20

func (v *Verifier) unauthenticatedBudget() *budget {
	v.budgetOnce.Do(func() {
		v.budget = &budget{max: v.MaxBufferedTotal}
		if v.budget.max <= 0 {
			v.budget.max = defaultMaxBufferedTotal
		}
	})
	return v.budget
}

func (v *Verifier) maxBufferedBody() int64 {
	if v.MaxBufferedBody > 0 {
		return v.MaxBufferedBody
	}
	return defaultMaxBufferedBody
}

// headerValue is r.Header.Get for a key already in canonical form, without
// the canonicalisation.
func headerValue(r *http.Request, key string) string {
	if v := r.Header[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// appendCanonicalRequestPrefix writes the canonical request up to and
// including the newline before the payload hash.
func appendCanonicalRequestPrefix(dst []byte, r *http.Request, signedHeaders, path string, sortedParams []queryParam, skip string, rule uriRule) []byte {
	dst = append(dst, r.Method...)
	dst = append(dst, '\n')
	switch rule {
	case uriNormalized:
		dst = appendCanonicalURI(dst, normalizePath(path))
	case uriAsSent:
		dst = appendCanonicalURI(dst, path)
	case uriS3:
		dst = appendS3CanonicalURI(dst, path)
	}
	dst = append(dst, '\n')
	dst = appendCanonicalQuery(dst, sortedParams, skip)
	dst = append(dst, '\n')
	dst = appendCanonicalHeaders(dst, r, signedHeaders)
	return append(dst, '\n')
}

// scratch holds one verification's buffers; they are pooled, so that a
// verification allocates next to nothing.
type scratch struct {
	params   []queryParam
	canon    []byte // canonical request prefix, path normalised
	canonRaw []byte // the same with the path as sent, when that differs
	buf      []byte // canonical request with payload, then string to sign
}

var scratchPool = sync.Pool{New: func() any { return &scratch{buf: make([]byte, 0, 1024)} }}

// release returns s to the pool unless a freak request grew it large.
func (s *scratch) release() {
	const keep = 64 << 10
	if cap(s.canon) > keep || cap(s.canonRaw) > keep || cap(s.buf) > keep || cap(s.params) > 1024 {
		return
	}
	clear(s.params) // drop references into the request's strings
	scratchPool.Put(s)
}

// matches reports whether c's signature is right for the canonical request
// prefixes in s followed by payload.
func (s *scratch) matches(key *signingKey, c *claim, payload string) bool {
	for _, prefix := range [2][]byte{s.canon, s.canonRaw} {
		if len(prefix) == 0 {
			continue
		}
		var mac [sha256.Size]byte
		s.buf, mac = signCanonical(s.buf, key, c, prefix, payload)
		if hmac.Equal(mac[:], c.signature[:]) {
			return true
		}
	}
	return false
}

// signCanonical returns the signature of the canonical request prefix +
// payload, using buf as room.
func signCanonical(buf []byte, key *signingKey, c *claim, prefix []byte, payload string) ([]byte, [sha256.Size]byte) {
	buf = append(append(buf[:0], prefix...), payload...)
	digest := sha256.Sum256(buf)

	// The string to sign, after a block of room for the HMAC's inner pad.
	buf = append(buf[:0], zeroBlock[:]...)
	buf = append(buf, algorithm+"\n"...)
	buf = append(buf, c.amzDate...)
	buf = append(buf, '\n')
	buf = append(buf, c.date...)
	buf = append(buf, '/')
	buf = append(buf, c.region...)
	buf = append(buf, '/')
	buf = append(buf, c.service...)
	buf = append(buf, "/"+terminator+"\n"...)
	buf = hex.AppendEncode(buf, digest[:])
	return buf, key.sign(buf)
}

// zeroBlock is the room left at the front of the string to sign.
var zeroBlock [sha256.BlockSize]byte

// deferredVerdict checks the signature once a streamed body's hash is
// known. It copies what it needs out of s, which goes back to the pool.
func (s *scratch) deferredVerdict(key *signingKey, c claim) func([sha256.Size]byte) error {
	prefixes := [][]byte{append([]byte(nil), s.canon...)}
	if len(s.canonRaw) > 0 {
		prefixes = append(prefixes, append([]byte(nil), s.canonRaw...))
	}
	return func(sum [sha256.Size]byte) error {
		payload := hex.EncodeToString(sum[:])
		var buf []byte
		for _, prefix := range prefixes {
			var mac [sha256.Size]byte
			buf, mac = signCanonical(buf, key, &c, prefix, payload)
			if hmac.Equal(mac[:], c.signature[:]) {
				return nil
			}
		}
		return errSignatureMismatch
	}
}
