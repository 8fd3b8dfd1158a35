package fasta

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
)

// samtoolsM5 returns the M5 digest samtools dict computes for each
// sequence of the file.
func samtoolsM5(t *testing.T, path string) map[string]string {
	t.Helper()
	out := testutil.Run(t, "samtools", "dict", path)
	m5 := map[string]string{}
	re := regexp.MustCompile(`SN:(\S+).*\tM5:([0-9a-f]{32})`)
	for _, line := range strings.Split(string(out), "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			m5[m[1]] = m[2]
		}
	}
	return m5
}

// Scan's index equals the one samtools faidx writes, and its digests equal
// the M5 of samtools dict.
func TestScanMatchesSamtools(t *testing.T) {
	testutil.RequireTool(t, "samtools")
	tests := []struct{ name, text string }{
		{"even lines", ">s1 description\nACGTACGT\nacgtac\n>s2\nNNNN\n"},
		{"crlf", ">a\r\nACGT\r\nAC\r\n>b\r\nGG\r\n"},
		{"no final newline", ">x\nACGTA\nCG"},
		{"one line no final newline", ">x\nACGTA"},
		{"blank lines between", ">a\nACGT\nAC\n\n>b\nGGGG\n\n\n"},
		{"iupac mixed case", ">m\nRYSWKMbdhvnU\nacgtu\n"},
		{"tab in header", ">t\tx\nAC\n"},
		{"single long line", ">one\n" + strings.Repeat("ACGTN", 100) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seqs, err := Scan(strings.NewReader(tt.text), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			entries := make([]Entry, len(seqs))
			for i, s := range seqs {
				entries[i] = s.Entry
			}
			var got bytes.Buffer
			if err := WriteIndex(&got, entries); err != nil {
				t.Fatal(err)
			}
			theirs := writeFile(t, t.TempDir(), "theirs.fa", tt.text)
			testutil.Run(t, "samtools", "faidx", theirs)
			want := testutil.Run(t, "cat", theirs+".fai")
			if got.String() != string(want) {
				t.Errorf("index\ngot  %q\nwant %q", got.String(), want)
			}
			m5 := samtoolsM5(t, theirs)
			for _, s := range seqs {
				if s.MD5 != m5[s.Name] {
					t.Errorf("%s: MD5 %s, samtools dict says %s", s.Name, s.MD5, m5[s.Name])
				}
			}
			// One byte at a time through the reader changes nothing.
			again, err := Scan(iotest.OneByteReader(strings.NewReader(tt.text)), Limits{})
			if err != nil || len(again) != len(seqs) || again[0] != seqs[0] {
				t.Errorf("byte by byte: %v, %+v; want %+v", err, again, seqs)
			}
		})
	}
}

func TestScanDefects(t *testing.T) {
	tests := []struct {
		name, text string
		lim        Limits
		want       Defect
	}{
		{"duplicate name", ">a\nAC\n>b\nGG\n>a x\nTT\n", Limits{}, Defect{Line: 5, Reason: `sequence name "a" is used by an earlier sequence`}},
		{"bad residue", ">a\nACGT\nAC*T\n", Limits{}, Defect{Line: 3, Sequence: "a", Reason: "column 3: '*' is not an IUPAC nucleotide code"}},
		{"space in residues", ">a\nAC GT\n", Limits{}, Defect{Line: 2, Sequence: "a", Reason: "column 3: ' '"}},
		{"binary byte", ">a\nAC\x00T\n", Limits{}, Defect{Line: 2, Sequence: "a", Reason: "byte 0x00"}},
		{"longer line", ">a\nACG\nACGT\n", Limits{}, Defect{Line: 3, Sequence: "a", Reason: "uneven lines: 4 residues after lines of 3"}},
		{"short line inside", ">a\nACGT\nAC\nACGT\n", Limits{}, Defect{Line: 4, Sequence: "a", Reason: "line 3 is shorter than those before it"}},
		{"blank line inside", ">a\nACGT\n\nACGT\n", Limits{}, Defect{Line: 4, Sequence: "a", Reason: "line 3 is shorter than those before it"}},
		{"mixed endings", ">a\nACGT\r\nACGT\nAC\n", Limits{}, Defect{Line: 3, Sequence: "a", Reason: "line endings differ"}},
		{"empty sequence", ">a\nAC\n>e desc\n>b\nGG\n", Limits{}, Defect{Line: 3, Sequence: "e", Reason: "empty sequence"}},
		{"empty last sequence", ">a\nAC\n>e\n\n", Limits{}, Defect{Line: 3, Sequence: "e", Reason: "empty sequence"}},
		{"no name", ">a\nAC\n> x\nGG\n", Limits{}, Defect{Line: 3, Reason: "header without a sequence name"}},
		{"residues first", "ACGT\n>a\nAC\n", Limits{}, Defect{Line: 1, Reason: "before the first '>' header"}},
		{"empty file", "", Limits{}, Defect{Line: 1, Reason: "no sequences"}},
		{"blank file", "\n\n", Limits{}, Defect{Line: 3, Reason: "no sequences"}},
		{"too many", ">a\nA\n>b\nC\n>c\nG\n", Limits{MaxSequences: 2}, Defect{Line: 5, Reason: "more than 2 sequences"}},
		{"long header", ">" + strings.Repeat("n", 100) + "\nA\n", Limits{MaxHeader: 50}, Defect{Line: 1, Reason: "header line longer than 50 bytes"}},
		// Deep in a run of whole lines, which Scan takes from its buffer
		// many at a time: the defect still has its own line and column.
		{"bad residue deep in a sequence", ">a\n" + strings.Repeat("ACGTN\n", 1000) + "ACxGT\n" + strings.Repeat("ACGTN\n", 10), Limits{}, Defect{Line: 1002, Sequence: "a", Reason: "column 3: 'x'"}},
		{"short line deep in a sequence", ">a\n" + strings.Repeat("acgtn\n", 1000) + "ACG\n" + strings.Repeat("ACGTN\n", 10), Limits{}, Defect{Line: 1003, Sequence: "a", Reason: "line 1002 is shorter than those before it"}},
		{"long line deep in a sequence", ">a\n" + strings.Repeat("ACGTN\n", 1000) + "ACGTNA\n", Limits{}, Defect{Line: 1002, Sequence: "a", Reason: "uneven lines: 6 residues after lines of 5"}},
		{"LF deep in CRLF lines", ">a\r\n" + strings.Repeat("ACGTN\r\n", 1000) + "ACGTN\n" + strings.Repeat("ACGTN\r\n", 3), Limits{}, Defect{Line: 1002, Sequence: "a", Reason: "line endings differ"}},
		{"header deep in a sequence, then a duplicate", ">a\n" + strings.Repeat("ACGTN\n", 1000) + ">b\n" + strings.Repeat("ACGTN\n", 1000) + ">a\nA\n", Limits{}, Defect{Line: 2003, Reason: `sequence name "a" is used`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Scan(strings.NewReader(tt.text), tt.lim)
			var d *Defect
			if !errors.As(err, &d) {
				t.Fatalf("got %v, want a defect", err)
			}
			if d.Line != tt.want.Line || d.Sequence != tt.want.Sequence || !strings.Contains(d.Reason, tt.want.Reason) {
				t.Errorf("got %+v, want line %d, sequence %q, reason containing %q", d, tt.want.Line, tt.want.Sequence, tt.want.Reason)
			}
			if !IsDefect(err) {
				t.Error("IsDefect is false")
			}
		})
	}
}

// A failing reader's error is returned as it is, not as a defect.
func TestScanReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Scan(iotest.TimeoutReader(iotest.OneByteReader(strings.NewReader(">a\nAC\n"))), Limits{})
	if err == nil || IsDefect(err) {
		t.Errorf("got %v, want the read error", err)
	}
	_, err = Scan(iotest.ErrReader(boom), Limits{})
	if !errors.Is(err, boom) {
		t.Errorf("got %v, want %v", err, boom)
	}
}

// A line far longer than any buffer streams through in bounded memory.
func TestScanLongLineBoundedMemory(t *testing.T) {
	text := ">long\n" + strings.Repeat("ACGT", 4<<20) + "\n"
	heapcap.Check(t, 4<<20, func() {
		seqs, err := Scan(strings.NewReader(text), Limits{})
		if err != nil || len(seqs) != 1 || seqs[0].Length != 16<<20 {
			t.Errorf("got %+v, %v", seqs, err)
		}
	})
}

func FuzzScan(f *testing.F) {
	f.Add([]byte(">a\nACGT\nAC\n>b\nGG\n"))
	f.Add([]byte(">x y\r\nAC\r\n"))
	f.Add([]byte(">a\nAC\n>a\nAC\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		seqs, err := Scan(bytes.NewReader(data), Limits{})
		// A byte at a time, Scan never has whole lines in its buffer to
		// take in bulk: both ways must agree, defects and all.
		slow, slowErr := Scan(iotest.OneByteReader(bytes.NewReader(data)), Limits{})
		if fmt.Sprint(err) != fmt.Sprint(slowErr) || !reflect.DeepEqual(seqs, slow) {
			t.Fatalf("in bulk: %+v, %v\nline by line: %+v, %v", seqs, err, slow, slowErr)
		}
		if err != nil {
			if !IsDefect(err) {
				t.Fatalf("not a defect: %v", err)
			}
			return
		}
		// Every entry reads back through the index as a run of residues.
		for _, s := range seqs {
			e := s.Entry
			if e.Length <= 0 || e.LineBases <= 0 || e.LineWidth < e.LineBases {
				t.Fatalf("bad entry %+v", e)
			}
			full := (e.Length - 1) / e.LineBases
			end := e.Offset + full*e.LineWidth + (e.Length - full*e.LineBases)
			if end > int64(len(data)) {
				t.Fatalf("entry %+v beyond %d bytes", e, len(data))
			}
			for i := int64(0); i < e.Length; i++ {
				c := data[e.Offset+i/e.LineBases*e.LineWidth+i%e.LineBases]
				if !iupac[c] {
					t.Fatalf("entry %+v: base %d is %q", e, i, c)
				}
			}
		}
	})
}

// BenchmarkScan reads 32 MiB of 60-column FASTA.
func BenchmarkScan(b *testing.B) {
	line := strings.Repeat("ACGTNacgtn", 6) + "\n"
	text := []byte(">chr1\n" + strings.Repeat(line, (32<<20)/len(line)))
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := Scan(bytes.NewReader(text), Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// Scan's GA4GH identifiers are the refget specification's example and
// what Python's hashlib computes, independently, for generated sequences
// whose residues span Scan's internal buffer, in mixed case and lines.
func TestScanGA4GHDigest(t *testing.T) {
	seqs, err := Scan(strings.NewReader(">acgt\nAC\ngt\n"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "SQ.aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2"; seqs[0].GA4GH != want {
		t.Errorf("ACGT: got %s, want the specification's %s", seqs[0].GA4GH, want)
	}

	python := testutil.RequireTool(t, "python3")
	rng := rand.New(rand.NewPCG(7, 11))
	var text strings.Builder
	for i, length := range []int{1, 59, 60, 61, 70_000, 200_003} {
		fmt.Fprintf(&text, ">s%d\n", i)
		for j := 0; j < length; j++ {
			text.WriteByte("ACGTNacgtnRYkm"[rng.IntN(14)])
			if j%60 == 59 || j == length-1 {
				text.WriteByte('\n')
			}
		}
	}
	path := writeFile(t, t.TempDir(), "gen.fa", text.String())
	script := `
import base64, hashlib, sys
name, seq = None, []
def emit():
    if name is not None:
        s = "".join(seq).upper().encode()
        print(name, "SQ." + base64.urlsafe_b64encode(hashlib.sha512(s).digest()[:24]).decode(), hashlib.md5(s).hexdigest())
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith(">"):
        emit()
        name, seq = line[1:], []
    else:
        seq.append(line)
emit()
`
	out := testutil.Run(t, python, "-c", script, path)
	seqs, err = Scan(strings.NewReader(text.String()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(seqs) {
		t.Fatalf("python gave %d digests for %d sequences:\n%s", len(lines), len(seqs), out)
	}
	for i, line := range lines {
		if got := seqs[i].Name + " " + seqs[i].GA4GH + " " + seqs[i].MD5; got != line {
			t.Errorf("sequence %d: got %q, python says %q", i, got, line)
		}
	}
}
