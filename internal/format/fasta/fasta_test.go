package fasta

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
)

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The index built here equals the one samtools faidx writes, and every
// sequence reads back as samtools faidx prints it (upper-cased).
func TestIndexAndSequencesMatchSamtools(t *testing.T) {
	testutil.RequireTool(t, "samtools")
	tests := []struct{ name, text string }{
		{"even lines", ">s1 description\nACGTACGT\nacgtac\n>s2\nNNNN\n"},
		{"crlf", ">a\r\nACGT\r\nAC\r\n>b\r\nGG\r\n"},
		{"no final newline", ">x\nACGTA\nCG"},
		{"empty sequence", ">e\n>f\nAC\n"},
		{"single long line", ">one\n" + strings.Repeat("ACGTN", 100) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ours := writeFile(t, dir, "ours.fa", tt.text)
			theirs := writeFile(t, dir, "theirs.fa", tt.text)
			testutil.Run(t, "samtools", "faidx", theirs)
			fa, err := Open(ours)
			if err != nil {
				t.Fatal(err)
			}
			defer fa.Close()
			got, _ := os.ReadFile(ours + ".fai")
			want, _ := os.ReadFile(theirs + ".fai")
			if !bytes.Equal(got, want) {
				t.Errorf("index\ngot  %q\nwant %q", got, want)
			}
			for _, e := range fa.Entries() {
				out := testutil.Run(t, "samtools", "faidx", theirs, e.Name)
				lines := strings.Split(string(out), "\n")
				want := strings.ToUpper(strings.Join(lines[1:], ""))
				// Every range, so that each starts and ends on each side
				// of each line break; and ranges reaching past the end.
				for start := int64(0); start <= e.Length; start++ {
					for end := start; end <= e.Length+2; end++ {
						seq, length, err := fa.Bases(e.Name, start, end)
						if err != nil {
							t.Fatal(err)
						}
						if w := want[start:min(end, e.Length)]; string(seq) != w || length != int64(len(want)) {
							t.Fatalf("%s [%d,%d): got %q of %d, want %q of %d", e.Name, start, end, seq, length, w, len(want))
						}
					}
				}
			}
		})
	}
}

func TestSequenceErrors(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "r.fa", ">a\nACGT\n")
	fa, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	if _, _, err := fa.Bases("missing", 0, 1); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing sequence: got %v", err)
	}
	for _, tt := range []struct{ name, text, want string }{
		{"ragged", ">a\nACGT\nAC\nACGT\n", "different lengths"},
		{"data first", "ACGT\n>a\nAC\n", "before the first"},
		{"gzip", "\x1f\x8b\x08\x00", "compressed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(writeFile(t, t.TempDir(), "x.fa", tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// A stale index that disagrees with the file is reported, not trusted.
func TestStaleIndex(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "r.fa", ">a\nACGT\nAC\n")
	writeFile(t, dir, "r.fa.fai", "a\t9\t3\t4\t5\n")
	fa, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	if _, _, err := fa.Bases("a", 0, 9); err == nil {
		t.Error("a stale index was trusted")
	}
}

func FuzzBuildIndex(f *testing.F) {
	f.Add([]byte(">a\nACGT\nAC\n>b\nGG\n"))
	f.Add([]byte(">x y\r\nAC\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		heapcap.Check(t, heapcap.Ceiling, func() {
			entries, err := BuildIndex(bufio.NewReader(bytes.NewReader(data)))
			if err != nil {
				return
			}
			for _, e := range entries {
				if e.Offset > int64(len(data)) || e.Length > int64(len(data)) {
					t.Fatalf("entry %+v beyond %d bytes", e, len(data))
				}
			}
		})
	})
}
