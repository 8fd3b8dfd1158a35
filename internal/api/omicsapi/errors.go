package omicsapi

import (
	"errors"
	"fmt"
)

// Error is an API error as clients see it: Code is the error shape name sent
// in X-Amzn-ErrorType and "__type" (SDKs turn modeled codes into typed
// errors, e.g. *types.ValidationException), Message the body's "message",
// Status the HTTP status. Code may be any string, so the SigV4 layer can send
// e.g. 403 InvalidSignatureException. The generated New<Shape> constructors
// build the modeled ones.
type Error struct {
	Code    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// NewError returns an error with any code and status, for errors the model
// does not list (signature failures, unknown operations).
func NewError(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

// NewUnimplemented is the answer for an operation seqstore does not serve
// yet: 405 NotSupportedOperationException, the model's own shape for "the
// operation is not supported", which every client shows by name (and the
// multipart-upload and S3-access-policy operations, which list it, as a typed
// error). The message names the operation, so it cannot be mistaken for a
// missing resource (404) or a server fault (5xx, which SDKs retry).
func NewUnimplemented(operation string) *Error {
	return NewNotSupportedOperationException("seqstore does not implement %s yet", operation)
}

// ErrorCode returns the Code of the *Error in err's chain, or "".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Codes that are not in the model.
const (
	CodeUnknownOperationException = "UnknownOperationException"
	CodeMethodNotAllowedException = "MethodNotAllowedException"
)
