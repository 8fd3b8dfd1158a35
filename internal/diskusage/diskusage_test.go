package diskusage

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/blob/fileblob"
)

func openDir(t *testing.T, name string, objects map[string]string) blob.Store {
	t.Helper()
	s, err := fileblob.Open(filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for key, body := range objects {
		w, err := s.NewWriter(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestReportCountsEachStoreInEachTier(t *testing.T) {
	active := openDir(t, "active", map[string]string{
		"readsets/111111111111/1000000001/2000000001/a_1.fastq.gz":   strings.Repeat("a", 10),
		"readsets/111111111111/1000000001/2000000001/a_2.fastq.gz":   strings.Repeat("b", 20),
		"readsets/111111111111/1000000002/2000000002/b.bam":          strings.Repeat("c", 5),
		"uploads/111111111111/1000000001/3000000001/source1/00001-x": strings.Repeat("d", 7),
		"references/222222222222/4000000001/5000000001/ref.fa":       strings.Repeat("e", 3),
		"readyz-probe": "x",
	})
	archive := openDir(t, "archive", map[string]string{
		"readsets/111111111111/1000000001/2000000003/c.bam": strings.Repeat("f", 11),
	})
	var r Report
	if err := r.Count(context.Background(), TierActive, active); err != nil {
		t.Fatal(err)
	}
	if err := r.Count(context.Background(), TierArchive, archive); err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{"-", "-", TierActive, 1, 1},
		{"111111111111", "1000000001", TierActive, 2, 30},
		{"111111111111", "1000000001", TierArchive, 1, 11},
		{"111111111111", "1000000001", TierUploads, 1, 7},
		{"111111111111", "1000000002", TierActive, 1, 5},
		{"222222222222", "4000000001", TierActive, 1, 3},
	}
	got := r.Rows()
	if len(got) != len(want) {
		t.Fatalf("rows %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
