// Package sigv4 verifies AWS Signature Version 4 on incoming requests, the
// way AWS front ends do for restJson1 services such as HealthOmics: header
// authentication and presigned URLs, the double-encoded canonical path of
// non-S3 services, UNSIGNED-PAYLOAD where the operation allows it, and a
// clock-skew window. It answers which access key (and so which account)
// signed a request, or why it will not say.
//
// The SDKs' signers only sign; no published Go package verifies, which is
// why this one exists.
package sigv4

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrUnknownAccessKey is what a CredentialStore returns (wrapped) for an
// access key ID it does not know.
var ErrUnknownAccessKey = errors.New("sigv4: unknown access key")

// CredentialStore finds the secret of an access key and the account it acts
// for.
type CredentialStore interface {
	SecretFor(ctx context.Context, accessKeyID string) (secret, accountID string, err error)
}

// Identity is who signed a request.
type Identity struct {
	AccessKeyID string
	AccountID   string
}

// Error is a verification failure, named as AWS names them.
type Error struct {
	code string
	msg  string
}

func (e *Error) Error() string { return e.code + ": " + e.msg }

// Code is the AWS error code, such as InvalidSignatureException.
func (e *Error) Code() string { return e.code }

// Message is the text for the client.
func (e *Error) Message() string { return e.msg }

// Status is the HTTP status: 403 for every authentication failure.
func (e *Error) Status() int { return http.StatusForbidden }

func fail(code, format string, args ...any) *Error {
	return &Error{code: code, msg: fmt.Sprintf(format, args...)}
}

// AWS's error codes for authentication failures.
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
	CodeInvalidSignature           = "InvalidSignatureException"
)

const (
	algorithm       = "AWS4-HMAC-SHA256"
	unsignedPayload = "UNSIGNED-PAYLOAD"
	timeFormat      = "20060102T150405Z"
	// maxPresignExpiry is the longest X-Amz-Expires AWS accepts: 7 days.
	maxPresignExpiry = 7 * 24 * time.Hour
	// maxBufferedBody bounds the bodies read into memory to hash them; larger
	// bodies are hashed while the handler streams them.
	maxBufferedBody = 1 << 20
)

// Verifier checks signatures for one service and region.
type Verifier struct {
	Credentials CredentialStore
	Service     string // "omics"
	Region      string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxSkew is how far X-Amz-Date may be from now; zero means 15 minutes.
	MaxSkew time.Duration

	keys sync.Map // signing-key cache: scope string -> []byte
}

// Options tune one verification.
type Options struct {
	// AllowUnsignedPayload accepts a signature over UNSIGNED-PAYLOAD even
	// without the X-Amz-Content-Sha256 header, as the JavaScript SDK signs
	// streamed uploads.
	AllowUnsignedPayload bool
}

// Verify checks r's signature. When the payload hash must be checked against
// a body too large to buffer, r.Body is replaced by a reader that fails at
// its end if the hash does not match; callers must read the body through
// r.Body after Verify returns.
func (v *Verifier) Verify(r *http.Request, o Options) (Identity, error) {
	if r.Header.Get("Authorization") != "" {
		return v.verifyHeader(r, o)
	}
	if r.URL.Query().Get("X-Amz-Algorithm") != "" {
		return v.verifyPresigned(r)
	}
	return Identity{}, fail(CodeMissingAuthenticationToken, "Missing Authentication Token: sign the request with AWS Signature Version 4")
}

// authorization is a parsed Authorization header.
type authorization struct {
	accessKey, date, region, service string
	signedHeaders                    []string
	signature                        string
}

// parseAuthorization parses
// "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/omics/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex".
func parseAuthorization(h string) (authorization, error) {
	var a authorization
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg != algorithm {
		return a, fail(CodeIncompleteSignature, "Authorization header must start with %s", algorithm)
	}
	var cred, signed string
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, fail(CodeIncompleteSignature, "Authorization header has a malformed element %q", strings.TrimSpace(part))
		}
		switch k {
		case "Credential":
			cred = val
		case "SignedHeaders":
			signed = val
		case "Signature":
			a.signature = val
		}
	}
	if cred == "" || signed == "" || a.signature == "" {
		return a, fail(CodeIncompleteSignature, "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters")
	}
	if err := a.parseCredential(cred); err != nil {
		return a, err
	}
	a.signedHeaders = strings.Split(signed, ";")
	return a, nil
}

func (a *authorization) parseCredential(cred string) error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" || parts[0] == "" {
		return fail(CodeIncompleteSignature, "Credential %q must have the form ACCESSKEY/YYYYMMDD/REGION/SERVICE/aws4_request", cred)
	}
	a.accessKey, a.date, a.region, a.service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) checkScope(a authorization, amzDate string) (time.Time, error) {
	t, err := time.Parse(timeFormat, amzDate)
	if err != nil {
		return t, fail(CodeIncompleteSignature, "X-Amz-Date %q is not of the form 20060102T150405Z", amzDate)
	}
	if a.date != amzDate[:8] {
		return t, fail(CodeInvalidSignature, "Credential date %s does not match X-Amz-Date %s", a.date, amzDate)
	}
	if a.service != v.Service {
		return t, fail(CodeInvalidSignature, "Credential should be scoped to correct service: '%s'", v.Service)
	}
	if a.region != v.Region {
		return t, fail(CodeInvalidSignature, "Credential should be scoped to a valid region: this server serves '%s', not '%s'", v.Region, a.region)
	}
	return t, nil
}

func (v *Verifier) secret(ctx context.Context, accessKey string) (string, string, error) {
	secret, account, err := v.Credentials.SecretFor(ctx, accessKey)
	if errors.Is(err, ErrUnknownAccessKey) {
		return "", "", fail(CodeUnrecognizedClient, "The security token included in the request is invalid.")
	}
	return secret, account, err
}

func (v *Verifier) verifyHeader(r *http.Request, o Options) (Identity, error) {
	a, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return Identity{}, err
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		amzDate = r.Header.Get("Date")
	}
	t, err := v.checkScope(a, amzDate)
	if err != nil {
		return Identity{}, err
	}
	skew := v.MaxSkew
	if skew == 0 {
		skew = 15 * time.Minute
	}
	if now := v.now(); t.Before(now.Add(-skew)) || t.After(now.Add(skew)) {
		return Identity{}, fail(CodeInvalidSignature, "Signature expired: %s is now earlier than %s (%s - %d min.)",
			amzDate, now.UTC().Add(-skew).Format(timeFormat), now.UTC().Format(timeFormat), int(skew.Minutes()))
	}
	if !contains(a.signedHeaders, "host") {
		return Identity{}, fail(CodeIncompleteSignature, "SignedHeaders must include host")
	}
	secret, account, err := v.secret(r.Context(), a.accessKey)
	if err != nil {
		return Identity{}, err
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	var streamCheck func(string) io.ReadCloser
	if payload == "" {
		payload, streamCheck, err = bodyHash(r)
		if err != nil {
			return Identity{}, err
		}
	}
	scope := a.date + "/" + a.region + "/" + a.service + "/aws4_request"
	key := v.signingKey(secret, a.date, a.region, a.service)
	match := false
	if payload != "" {
		want := v.signature(key, amzDate, scope, canonicalRequest(r, a.signedHeaders, canonicalQuery(r.URL.Query(), ""), payload))
		match = hmac.Equal([]byte(want), []byte(a.signature))
	} else if !o.AllowUnsignedPayload {
		return Identity{}, fail(CodeIncompleteSignature, "a request body over %d bytes must be signed with an X-Amz-Content-Sha256 header", maxBufferedBody)
	}
	// The JS SDK signs streamed bodies as UNSIGNED-PAYLOAD without saying
	// so in a header.
	if !match && o.AllowUnsignedPayload && r.Header.Get("X-Amz-Content-Sha256") == "" {
		want := v.signature(key, amzDate, scope, canonicalRequest(r, a.signedHeaders, canonicalQuery(r.URL.Query(), ""), unsignedPayload))
		if hmac.Equal([]byte(want), []byte(a.signature)) {
			if streamCheck != nil {
				r.Body = streamCheck(unsignedPayload)
			}
			return Identity{AccessKeyID: a.accessKey, AccountID: account}, nil
		}
	}
	if !match {
		return Identity{}, fail(CodeInvalidSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	// A claimed body hash was signed; the body must live up to it.
	if claimed := r.Header.Get("X-Amz-Content-Sha256"); claimed != "" && claimed != unsignedPayload && r.Body != nil && r.Body != http.NoBody {
		r.Body = &hashingBody{rc: r.Body, h: sha256.New(), want: claimed}
	}
	return Identity{AccessKeyID: a.accessKey, AccountID: account}, nil
}

func (v *Verifier) verifyPresigned(r *http.Request) (Identity, error) {
	q := r.URL.Query()
	if q.Get("X-Amz-Algorithm") != algorithm {
		return Identity{}, fail(CodeIncompleteSignature, "X-Amz-Algorithm must be %s", algorithm)
	}
	var a authorization
	if err := a.parseCredential(q.Get("X-Amz-Credential")); err != nil {
		return Identity{}, err
	}
	a.signature = q.Get("X-Amz-Signature")
	signed := q.Get("X-Amz-SignedHeaders")
	if a.signature == "" || signed == "" {
		return Identity{}, fail(CodeIncompleteSignature, "a presigned URL needs X-Amz-Signature and X-Amz-SignedHeaders")
	}
	a.signedHeaders = strings.Split(signed, ";")
	amzDate := q.Get("X-Amz-Date")
	t, err := v.checkScope(a, amzDate)
	if err != nil {
		return Identity{}, err
	}
	secs, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || secs < 1 || time.Duration(secs)*time.Second > maxPresignExpiry {
		return Identity{}, fail(CodeIncompleteSignature, "X-Amz-Expires must be a number of seconds from 1 to 604800")
	}
	now := v.now()
	if now.After(t.Add(time.Duration(secs) * time.Second)) {
		return Identity{}, fail(CodeInvalidSignature, "Signature expired: the presigned URL expired at %s", t.Add(time.Duration(secs)*time.Second).UTC().Format(timeFormat))
	}
	if t.After(now.Add(15 * time.Minute)) {
		return Identity{}, fail(CodeInvalidSignature, "Signature not yet current: %s is still later than %s", amzDate, now.UTC().Format(timeFormat))
	}
	secret, account, err := v.secret(r.Context(), a.accessKey)
	if err != nil {
		return Identity{}, err
	}
	payload := q.Get("X-Amz-Content-Sha256")
	if payload == "" {
		payload = unsignedPayload
	}
	scope := a.date + "/" + a.region + "/" + a.service + "/aws4_request"
	key := v.signingKey(secret, a.date, a.region, a.service)
	want := v.signature(key, amzDate, scope, canonicalRequest(r, a.signedHeaders, canonicalQuery(q, "X-Amz-Signature"), payload))
	if !hmac.Equal([]byte(want), []byte(a.signature)) {
		return Identity{}, fail(CodeInvalidSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return Identity{AccessKeyID: a.accessKey, AccountID: account}, nil
}

// bodyHash returns the hex SHA-256 of a small body (restoring the body), or
// for a large one a function that wraps the body to check it as it streams.
func bodyHash(r *http.Request) (string, func(string) io.ReadCloser, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return hex.EncodeToString(emptySHA256[:]), nil, nil
	}
	if r.ContentLength >= 0 && r.ContentLength <= maxBufferedBody {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBufferedBody+1))
		if err != nil {
			return "", nil, err
		}
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(b))
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:]), nil, nil
	}
	// Too big to buffer: the signature is checked against the hash the
	// client claims only if it also matches the body once read. Without a
	// claimed hash the only hash we can check against is the body's own,
	// which we do not know yet, so the caller learns it at the end.
	body := r.Body
	return "", func(want string) io.ReadCloser {
		if want == unsignedPayload {
			return body
		}
		return &hashingBody{rc: body, h: sha256.New(), want: want}
	}, nil
}

var emptySHA256 = sha256.Sum256(nil)

// hashingBody fails the read that reaches the end of the body when the
// body's SHA-256 differs from the signed one.
type hashingBody struct {
	rc   io.ReadCloser
	h    hash.Hash
	want string
}

func (b *hashingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.h.Write(p[:n])
	if err == io.EOF && hex.EncodeToString(b.h.Sum(nil)) != b.want {
		return n, fail(CodeInvalidSignature, "the request body does not match its signed SHA-256")
	}
	return n, err
}

func (b *hashingBody) Close() error { return b.rc.Close() }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// canonicalRequest builds the canonical request of SigV4 for non-S3
// services: the path as sent, re-encoded once more.
func canonicalRequest(r *http.Request, signedHeaders []string, query, payload string) string {
	var b strings.Builder
	b.Grow(512)
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalPath(r.URL.EscapedPath()))
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	for _, h := range signedHeaders {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(headerValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payload)
	return b.String()
}

// headerValue returns the canonical value of a signed header: values joined
// by commas, trimmed, inner runs of spaces folded.
func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		if v := r.Header.Get("Content-Length"); v != "" {
			vals = []string{v}
		} else if r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		vals = r.Header.Values(name)
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

// canonicalPath normalises dot segments of the path as sent and encodes it
// again, as botocore's quote(normalize_url_path(path), safe='/~') does.
func canonicalPath(escaped string) string {
	if escaped == "" {
		return "/"
	}
	segs := strings.Split(escaped, "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		switch {
		case s == ".":
			continue
		case s == "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			continue
		case s == "" && i != 0 && i != len(segs)-1:
			continue
		}
		out = append(out, s)
	}
	p := strings.Join(out, "/")
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return encode(p, true)
}

// encode percent-encodes everything but RFC 3986 unreserved characters (and
// '/' when keepSlash).
func encode(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/') {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// canonicalQuery sorts the query by encoded key, then value, leaving out
// skip.
func canonicalQuery(q url.Values, skip string) string {
	if len(q) == 0 {
		return ""
	}
	pairs := make([]string, 0, len(q))
	for k, vs := range q {
		if k == skip {
			continue
		}
		ek := encode(k, false)
		for _, v := range vs {
			pairs = append(pairs, ek+"="+encode(v, false))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// signingKey derives (and caches) the key for a secret and scope.
func (v *Verifier) signingKey(secret, date, region, service string) []byte {
	cacheKey := secret + "\x00" + date + "/" + region + "/" + service
	if k, ok := v.keys.Load(cacheKey); ok {
		return k.([]byte)
	}
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "aws4_request")
	v.keys.Store(cacheKey, k)
	return k
}

func (v *Verifier) signature(key []byte, amzDate, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	toSign := algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	return hex.EncodeToString(hmacSHA256(key, toSign))
}
