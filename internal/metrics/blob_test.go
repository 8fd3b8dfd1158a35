package metrics

import (
	"testing"

	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/blob/blobtest"
	"github.com/seqstore/seqstore/internal/blob/fileblob"
)

// The decorator passes every call through unchanged, and times each kind.
func TestBlobConformance(t *testing.T) {
	m := New()
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, err := fileblob.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return m.Blobs(s)
	})
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	timed := map[string]uint64{}
	for _, f := range fams {
		if f.GetName() != "seqstore_object_store_operation_duration_seconds" {
			continue
		}
		for _, s := range f.Metric {
			for _, l := range s.Label {
				if l.GetName() == "operation" {
					timed[l.GetValue()] += s.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	for _, op := range []string{"NewWriter", "Commit", "NewRangeReader", "Stat", "Delete", "List"} {
		if timed[op] == 0 {
			t.Errorf("no %s call was timed (timed: %v)", op, timed)
		}
	}
}
