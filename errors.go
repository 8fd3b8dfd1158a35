package seqstore

import (
	"errors"
	"fmt"
)

// ErrorCode names an error the way the service model's exception shapes do,
// so the API layer maps a domain error to the wire in one step.
type ErrorCode string

// The model's exception shapes that domain code raises.
const (
	CodeValidation          ErrorCode = "ValidationException"
	CodeNotFound            ErrorCode = "ResourceNotFoundException"
	CodeConflict            ErrorCode = "ConflictException"
	CodeAccessDenied        ErrorCode = "AccessDeniedException"
	CodeQuotaExceeded       ErrorCode = "ServiceQuotaExceededException"
	CodeNotSupported        ErrorCode = "NotSupportedOperationException"
	CodeRangeNotSatisfiable ErrorCode = "RangeNotSatisfiableException"
	CodeInternal            ErrorCode = "InternalServerException"
)

// Error is a domain error with a message a person can act on.
type Error struct {
	Code    ErrorCode
	Message string
	Err     error // optional cause, for logs
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return string(e.Code) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error with a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of the first *Error in err's chain, or
// CodeInternal when there is none.
func CodeOf(err error) ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// Prefix puts where in a request a domain error was found in front of its
// message ("sources[3]: ..."); other errors pass unchanged.
func Prefix(where string, err error) error {
	var se *Error
	if errors.As(err, &se) {
		return Errorf(se.Code, "%s: %s", where, se.Message)
	}
	return err
}
