package api

import (
	"testing"

	"github.com/seqstore/seqstore/internal/reference"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		in   string
		want reference.Range
		ok   bool
	}{
		{"0-9", reference.Range{First: 0, Last: 9}, true},
		{"bytes=0-9", reference.Range{First: 0, Last: 9}, true},
		{"100-", reference.Range{First: 100, Last: -1}, true},
		{"-7", reference.Range{First: -7, Last: -1}, true},
		{" 5-5 ", reference.Range{First: 5, Last: 5}, true},
		{"-0", reference.Range{}, false},
		{"9-0", reference.Range{}, false},
		{"0-1,4-5", reference.Range{}, false},
		{"a-b", reference.Range{}, false},
		{"+1-2", reference.Range{}, false},
		{"5", reference.Range{}, false},
		{"-", reference.Range{}, false},
		{"99999999999999999999-", reference.Range{}, false},
	}
	for _, tt := range tests {
		got, ok := parseRange(tt.in)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("parseRange(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
