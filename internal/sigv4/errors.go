package sigv4

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrUnknownAccessKey is what a CredentialStore returns (wrapped) for an
// access key ID it does not know.
var ErrUnknownAccessKey = errors.New("sigv4: unknown access key")

// The error codes AWS front ends send (in x-amzn-ErrorType) when they refuse
// a request's authentication. SDKs turn them into typed errors, so they are
// the names clients match on.
const (
	// CodeMissingAuthenticationToken: the request carries no signature at all.
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	// CodeIncompleteSignature: the signature's parts are missing or malformed.
	CodeIncompleteSignature = "IncompleteSignatureException"
	// CodeUnrecognizedClient: the access key ID is unknown.
	CodeUnrecognizedClient = "UnrecognizedClientException"
	// CodeInvalidSignature: the signature, its scope or its time is wrong.
	CodeInvalidSignature = "InvalidSignatureException"
	// CodeRequestEntityTooLarge: a body that must be hashed before the
	// signature can be checked is over Verifier.MaxBufferedBody.
	CodeRequestEntityTooLarge = "RequestEntityTooLargeException"
	// CodeThrottling: the server holds as many unauthenticated request
	// bodies as Verifier.MaxBufferedTotal allows; the client retries.
	CodeThrottling = "ThrottlingException"
)

// The messages AWS uses, word for word, so that what users search for finds
// the usual advice.
const (
	msgMissingToken   = "Missing Authentication Token"
	msgUnknownKey     = "The security token included in the request is invalid."
	msgSignatureWrong = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// Error is a refused authentication, named as AWS names it. The API layer
// writes Status, Code (as x-amzn-ErrorType) and Message.
type Error struct {
	code   string
	msg    string
	status int
	// s3Code is the name S3 gives this failure when it differs from what
	// the code maps to (see S3Code).
	s3Code string
}

// Error returns "Code: Message".
func (e *Error) Error() string { return e.code + ": " + e.msg }

// Code is the AWS error code, such as InvalidSignatureException.
func (e *Error) Code() string { return e.code }

// Message is the text for the client.
func (e *Error) Message() string { return e.msg }

// Status is the HTTP status: 403 for every authentication failure, 413 for
// a body too large to hash before answering, 429 when the server is too busy
// reading other such bodies.
func (e *Error) Status() int { return e.status }

// The error codes S3 answers in its XML errors for the same failures.
const (
	S3CodeAccessDenied                 = "AccessDenied"
	S3CodeInvalidAccessKeyID           = "InvalidAccessKeyId"
	S3CodeSignatureDoesNotMatch        = "SignatureDoesNotMatch"
	S3CodeAuthorizationHeaderMalformed = "AuthorizationHeaderMalformed"
	S3CodeAuthorizationQueryError      = "AuthorizationQueryParametersError"
	S3CodeRequestTimeTooSkewed         = "RequestTimeTooSkewed"
	S3CodeInvalidArgument              = "InvalidArgument"
	S3CodeEntityTooLarge               = "EntityTooLarge"
	S3CodeSlowDown                     = "SlowDown"
)

// S3Code is the code S3 answers for this failure: S3 names them apart from
// the JSON services (SignatureDoesNotMatch, not InvalidSignatureException),
// and tells a stale clock (RequestTimeTooSkewed) and an expired presigned
// URL (AccessDenied, "Request has expired") from a wrong signature.
func (e *Error) S3Code() string {
	if e.s3Code != "" {
		return e.s3Code
	}
	switch e.code {
	case CodeMissingAuthenticationToken:
		return S3CodeAccessDenied
	case CodeUnrecognizedClient:
		return S3CodeInvalidAccessKeyID
	case CodeIncompleteSignature:
		return S3CodeAuthorizationHeaderMalformed
	case CodeRequestEntityTooLarge:
		return S3CodeEntityTooLarge
	case CodeThrottling:
		return S3CodeSlowDown
	}
	return S3CodeSignatureDoesNotMatch
}

// withS3Code sets the S3 name of e.
func (e *Error) withS3Code(code string) *Error {
	e.s3Code = code
	return e
}

// fail makes a 403 Error.
func fail(code, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{code: code, msg: msg, status: http.StatusForbidden}
}

// errSignatureMismatch is shared: it carries nothing request-specific.
var errSignatureMismatch = fail(CodeInvalidSignature, msgSignatureWrong)
