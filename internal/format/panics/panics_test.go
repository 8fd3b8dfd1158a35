package panics

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRecover(t *testing.T) {
	for _, c := range []struct {
		name  string
		fn    func() error
		want  any // the panic value, or nil for no panic
		plain error
	}{
		{"no panic keeps the error", func() error { return io.EOF }, nil, io.EOF},
		{"a string", func() error { panic("boom") }, "boom", nil},
		{"an error value is not unwrapped", func() error { panic(io.ErrUnexpectedEOF) }, io.ErrUnexpectedEOF, nil},
		{"a runtime error", func() error { var s []int; _ = s[3]; return nil }, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := func() (err error) {
				defer Recover(&err)
				return c.fn()
			}()
			var pe *Error
			if !errors.As(err, &pe) {
				if c.plain == nil || err != c.plain {
					t.Fatalf("got %v, want %v", err, c.plain)
				}
				return
			}
			if c.plain != nil {
				t.Fatalf("got %v, want %v", err, c.plain)
			}
			if c.want != nil && pe.Value != c.want {
				t.Errorf("value %v, want %v", pe.Value, c.want)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("a panic passes for the error it carries")
			}
			if !strings.HasPrefix(err.Error(), "panic: ") || !strings.Contains(string(pe.Stack), "TestRecover") {
				t.Errorf("message %q or stack without the panicking function:\n%s", err, pe.Stack)
			}
		})
	}
}
