package crai

import (
	"reflect"
	"testing"
)

func TestContainers(t *testing.T) {
	// Three containers at 100, 200 and 300; the data ends at 400. The
	// second holds two slices, one of reference 0 and one of 1; the third
	// the unplaced reads.
	entries := []Entry{
		{RefID: 0, Start: 1, Span: 1000, ContainerOffset: 100, SliceOffset: 0, SliceSize: 50},
		{RefID: 0, Start: 900, Span: 500, ContainerOffset: 200, SliceOffset: 0, SliceSize: 40},
		{RefID: 1, Start: 1, Span: 100, ContainerOffset: 200, SliceOffset: 40, SliceSize: 40},
		{RefID: -1, Start: 0, Span: 0, ContainerOffset: 300, SliceOffset: 0, SliceSize: 60},
	}
	tests := []struct {
		name     string
		ref      int32
		beg, end int64
		want     []Range
	}{
		{"first container only", 0, 0, 100, []Range{{100, 200}}},
		{"the first base", 0, 0, 1, []Range{{100, 200}}},
		{"just before the second", 0, 897, 898, []Range{{100, 200}}},
		{"both, merged", 0, 899, 900, []Range{{100, 300}}},
		{"past the first", 0, 1000, 1200, []Range{{200, 300}}},
		{"nothing there", 0, 1400, 2000, nil},
		{"the other reference", 1, 0, 10, []Range{{200, 300}}},
		{"unplaced, to the data's end", -1, 0, 0, []Range{{300, 400}}},
		{"an unknown reference", 5, 0, 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Containers(entries, tt.ref, tt.beg, tt.end, 400); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Containers = %v, want %v", got, tt.want)
			}
		})
	}
}
