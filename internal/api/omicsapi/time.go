package omicsapi

import (
	"encoding/json"
	"reflect"
	"time"
)

// Time is a model timestamp (Smithy date-time). It marshals as an RFC 3339
// UTC string with milliseconds, "2024-01-12T04:50:33.548Z", the form AWS
// sends and every SDK parses (the Go SDK refuses epoch numbers), and it
// unmarshals any RFC 3339 form: with or without a fraction, with Z or an
// offset, as botocore and the Go SDK send filter times.
type Time struct {
	time.Time
}

// wireLayout is the millisecond RFC 3339 form in UTC; the Z is literal
// because values are converted to UTC first.
const wireLayout = "2006-01-02T15:04:05.000Z"

// NewTime wraps t.
func NewTime(t time.Time) Time { return Time{Time: t} }

// TimePtr wraps t for an optional timestamp member.
func TimePtr(t time.Time) *Time { return &Time{Time: t} }

func (t Time) appendJSON(b []byte) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, wireLayout)
	return append(b, '"')
}

// MarshalJSON encodes t as "2024-01-12T04:50:33.548Z".
func (t Time) MarshalJSON() ([]byte, error) {
	return t.appendJSON(make([]byte, 0, len(wireLayout)+2)), nil
}

var timeType = reflect.TypeFor[Time]()

// UnmarshalJSON accepts an RFC 3339 string; JSON null leaves t unchanged. Any
// other input yields a *json.UnmarshalTypeError, which encoding/json
// completes with the member's path, so the caller can name the member.
func (t *Time) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	var s string
	if len(data) < 2 || data[0] != '"' || json.Unmarshal(data, &s) != nil {
		return &json.UnmarshalTypeError{Value: describeJSON(data), Type: timeType}
	}
	parsed, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return &json.UnmarshalTypeError{Value: "string " + string(data), Type: timeType}
	}
	t.Time = parsed
	return nil
}

// describeJSON names the kind of a JSON value the way encoding/json's type
// errors do ("number", "bool", ...).
func describeJSON(data []byte) string {
	if len(data) == 0 {
		return "empty"
	}
	switch data[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number " + string(data)
}
