package fastq

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/seqstore/seqstore/internal/format/limit"
	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
)

func TestReadRecords(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		names []string
		seqs  []string
	}{
		{"four-line records", "@a x\nAC\n+\n!!\n@b\nG\n+b\n#\n", []string{"a x", "b"}, []string{"AC", "G"}},
		{"CRLF line endings", "@a\r\nAC\r\n+\r\n!!\r\n", []string{"a"}, []string{"AC"}},
		{"multi-line sequence and qualities", "@a\nAC\nGT\n+\n!!\n!!\n", []string{"a"}, []string{"ACGT"}},
		{"a quality line that starts with @", "@a\nAC\n+\n@@\n@b\nA\n+\n!\n", []string{"a", "b"}, []string{"AC", "A"}},
		{"blank lines between records and no final newline", "@a\nA\n+\n!\n\n\n@b\nC\n+\n!", []string{"a", "b"}, []string{"A", "C"}},
		{"an empty sequence", "@a\n\n+\n\n@b\nA\n+\n!\n", []string{"a", "b"}, []string{"", "A"}},
		{"CRLF multi-line", "@a\r\nAC\r\nGT\r\n+a\r\n!!!\r\n!\r\n", []string{"a"}, []string{"ACGT"}},
		{"a '+' line naming another read", "@a\nAC\n+b\n!!\n", []string{"a"}, []string{"AC"}},
		{"lower case, IUPAC and gaps", "@a\nacgtNRYKM*.-=\n+\n!!!!!!!!!!!!!\n", []string{"a"}, []string{"acgtNRYKM*.-="}},
		{"all of the Phred+33 range", "@a\n" + strings.Repeat("A", 94) + "\n+\n" + phredRange() + "\n", []string{"a"}, []string{strings.Repeat("A", 94)}},
		{"a long line", "@a\n" + strings.Repeat("ACGT", 1<<19) + "\n+\n" + strings.Repeat("!", 1<<21) + "\n", []string{"a"}, []string{strings.Repeat("ACGT", 1<<19)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.in))
			var rec Record
			var names, seqs []string
			for {
				err := r.Read(&rec)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				names, seqs = append(names, string(rec.Name)), append(seqs, string(rec.Seq))
			}
			if strings.Join(names, "|") != strings.Join(tt.names, "|") || strings.Join(seqs, "|") != strings.Join(tt.seqs, "|") {
				t.Fatalf("got %q %q, want %q %q", names, seqs, tt.names, tt.seqs)
			}
		})
	}
}

func phredRange() string {
	var b strings.Builder
	for c := byte('!'); c <= '~'; c++ {
		b.WriteByte(c)
	}
	return b.String()
}

func TestReadDefects(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		record, line int64
		msg          string
	}{
		{"not FASTQ", ">a\nACGT\n", 1, 1, `the first line does not start with '@' (">a")`},
		{"a bad base", "@a\nAC1T\n+\n!!!!\n", 1, 2, "sequence has an invalid character '1' at position 3"},
		{"a space in the sequence", "@a\nACGT\nAC GT\n+\n!!!!!!!!!\n", 1, 3, "sequence has an invalid character ' ' at position 7"},
		{"a lone CR in the sequence", "@a\nAC\rGT\n+\n!!!!!\n", 1, 2, "sequence has an invalid character '\\r' at position 3"},
		{"long qualities", "@a\nAC\n+\n!!!\n", 1, 4, "quality length 3 differs from sequence length 2"},
		{"long qualities over two lines", "@a\nACGT\n+\n!!\n!!!\n", 1, 5, "quality length 5 differs from sequence length 4"},
		{"a missing plus line at the end", "@a\nACGT\n", 1, 2, "the file ends before the '+' line"},
		{"a missing plus line between records", "@a\nACGT\n@b\nACGT\n+\n!!!!\n", 1, 3, `no '+' line after the sequence: the next line is a name line "@b"`},
		{"missing qualities at the end", "@a\nA\n+\n!\n@b\nACGT\n+\n", 2, 7, "the file ends inside the qualities: quality length 0, sequence length 4"},
		{"a second record without @", "@a\nA\n+\n!\nb\nA\n+\n!\n", 2, 5, `expected a name line starting with '@', found "b"`},
		{"a quality of DEL", "@a\nA\n+\n\x7f\n", 1, 4, "quality character '\\x7f' (byte 127) at position 1 is outside the Phred+33 range '!'..'~'"},
		{"a space quality", "@a\nACGTACGTAC\n+\n!!!!!!!!! \n", 1, 4, "quality character ' ' (byte 32) at position 10 is outside the Phred+33 range '!'..'~'"},
		{"a high-bit quality", "@a\nACGTACGTAC\n+\n!!!!\xc3\xa9!!!!\n", 1, 4, "quality character '\\xc3' (byte 195) at position 5 is outside the Phred+33 range '!'..'~'"},
		{"binary", "\x00\x01\x02\n", 1, 1, `the first line does not start with '@' ("\x00\x01\x02")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.in))
			var rec Record
			var err error
			for err == nil {
				err = r.Read(&rec)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *ParseError", err)
			}
			if got, want := *pe, (ParseError{Record: tt.record, Line: tt.line, Msg: tt.msg}); got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	err := &ParseError{Record: 12, Line: 45, Msg: "quality length 99 differs from sequence length 100"}
	if got, want := err.Error(), "record 12 (line 45): quality length 99 differs from sequence length 100"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The word-at-a-time checks must agree with the byte-at-a-time definition
// for every byte at every position of a word and in the tail.
func TestCharacterChecks(t *testing.T) {
	qualOK := func(c byte) bool { return c >= '!' && c <= '~' }
	for n := 1; n <= 19; n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				seq := []byte(strings.Repeat("a", n))
				seq[pos] = byte(c)
				want := -1
				if !baseOK[c] {
					want = pos
				}
				if got := invalidBase(seq); got != want {
					t.Fatalf("invalidBase(%q) = %d, want %d", seq, got, want)
				}
				qual := []byte(strings.Repeat("I", n))
				qual[pos] = byte(c)
				want = -1
				if !qualOK(byte(c)) {
					want = pos
				}
				if got := invalidQual(qual); got != want {
					t.Fatalf("invalidQual(%q) = %d, want %d", qual, got, want)
				}
			}
		}
	}
}

func TestRecordLine(t *testing.T) {
	r := NewReader(strings.NewReader("@a\nAC\nGT\n+\n!!!!\n\n@b\nA\n+\n!\n"))
	var rec Record
	var got []int64
	for r.Read(&rec) == nil {
		got = append(got, r.RecordLine())
	}
	if want := []int64{1, 7}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("RecordLine() = %v, want %v", got, want)
	}
}

// TestAgainstSeqkit reads Debian's test FASTQ files and compares every
// record with what seqkit fx2tab prints for it.
func TestAgainstSeqkit(t *testing.T) {
	seqkit := testutil.RequireTool(t, "seqkit")
	files := testutil.Glob(t, testutil.RequireDir(t, "/usr/share/htslib-test/test/fastq")+"/*.fq")
	files = append(files, testutil.Glob(t, testutil.RequireDir(t, "/usr/share/doc/seqkit-examples/tests")+"/*.fq")...)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want := string(testutil.Run(t, seqkit, "fx2tab", f))
			in, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			var got strings.Builder
			r := NewReader(in)
			var rec Record
			for {
				err := r.Read(&rec)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&got, "%s\t%s\t%s\n", rec.Name, rec.Seq, rec.Qual)
			}
			if got.String() != want {
				t.Errorf("records differ from seqkit fx2tab:\n got %.300q\nwant %.300q", got.String(), want)
			}
		})
	}
}

func TestPairKey(t *testing.T) {
	for in, want := range map[string]string{"r1/1": "r1", "r1/2 comment": "r1", "r1 1:N:0": "r1", "r1/3": "r1/3", "r1\tx": "r1", "/1": ""} {
		if got := string(PairKey([]byte(in))); got != want {
			t.Errorf("PairKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add("@a\nACGT\n+\n!!!!\n")
	f.Add("@a\nAC\nGT\n+\n!!\n!!\n\n@b\n\n+\n\n")
	for _, name := range []string{"multiline.fq", "minimal.fq", "r1.fq"} {
		if b, err := os.ReadFile("/usr/share/htslib-test/test/fastq/" + name); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, in string) {
		heapcap.Check(t, heapcap.Ceiling, func() {
			r := NewReader(strings.NewReader(in))
			// Fed a byte at a time, the reader never holds a whole record
			// ahead, so it reads every record line by line: both ways must
			// agree on every record, error and line number.
			slow := NewReader(iotest.OneByteReader(strings.NewReader(in)))
			var rec, slowRec Record
			for range 1000 {
				err := r.Read(&rec)
				slowErr := slow.Read(&slowRec)
				if fmt.Sprint(err) != fmt.Sprint(slowErr) || r.Lines() != slow.Lines() || r.RecordLine() != slow.RecordLine() {
					t.Fatalf("read whole: %v at line %d (record line %d); a byte at a time: %v at line %d (record line %d)",
						err, r.Lines(), r.RecordLine(), slowErr, slow.Lines(), slow.RecordLine())
				}
				if err != nil {
					return
				}
				if !bytes.Equal(rec.Name, slowRec.Name) || !bytes.Equal(rec.Seq, slowRec.Seq) || !bytes.Equal(rec.Qual, slowRec.Qual) {
					t.Fatalf("read whole: %q %q %q; a byte at a time: %q %q %q", rec.Name, rec.Seq, rec.Qual, slowRec.Name, slowRec.Seq, slowRec.Qual)
				}
				if len(rec.Seq) != len(rec.Qual) {
					t.Fatalf("accepted a record with %d bases and %d qualities", len(rec.Seq), len(rec.Qual))
				}
				if invalidBase(rec.Seq) >= 0 || invalidQual(rec.Qual) >= 0 {
					t.Fatalf("accepted a record with bad characters: %q %q", rec.Seq, rec.Qual)
				}
			}
		})
	})
}

func BenchmarkRead(b *testing.B) {
	rec := "@read/1 comment\n" + strings.Repeat("ACGT", 37) + "AC\n+\n" + strings.Repeat("IIII", 37) + "II\n"
	data := strings.Repeat(rec, 10000)
	b.SetBytes(int64(len(data)))
	var r Record
	for b.Loop() {
		rd := NewReader(strings.NewReader(data))
		for rd.Read(&r) == nil {
		}
	}
}

// TestLimits reads hostile records that would make an unbounded reader
// hold gigabytes: each must fail at the limit it passes, naming it and the
// place, while the reader holds little.
func TestLimits(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		name       string
		head, tail string
		opt        Options
		record     int64
		line       int64
		msg        string
	}{
		{"a 1 GiB sequence line without an end", "@r\n", "A", Options{}, 1, 2, "line 2 exceeds the limit max-fastq-line=16MiB; raise that setting to accept the file"},
		{"a 1 GiB name line", "@", "r", Options{}, 1, 1, "line 1 exceeds the limit max-fastq-line=16MiB; raise that setting to accept the file"},
		{"a 1 GiB sequence in short lines", "@r\n", "ACGTACGTAC\n", Options{}, 1, 3355445, "record 1 exceeds the limit max-fastq-record=32MiB; raise that setting to accept the file"},
		{"a 1 GiB quality line", "@r\nACGT\n+\n", "!", Options{}, 1, 4, "line 4 exceeds the limit max-fastq-line=16MiB; raise that setting to accept the file"},
		{"a 1 GiB '+' line", "@r\nACGT\n", "+", Options{}, 1, 3, "line 3 exceeds the limit max-fastq-line=16MiB; raise that setting to accept the file"},
		{"a lower line limit", "@a\nACGT\n+\n!!!!\n@r\n", "A", Options{MaxLine: 1000}, 2, 6, "line 6 exceeds the limit max-fastq-line=1000B; raise that setting to accept the file"},
		{"a lower record limit", "@a\nACGT\n+\n!!!!\n@r\n", "ACGT\n", Options{MaxRecord: 1 << 10}, 2, 261, "record 2 exceeds the limit max-fastq-record=1KiB; raise that setting to accept the file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := heapcap.Repeat([]byte(tt.head), []byte(tt.tail), gib)
			var err error
			heapcap.Check(t, heapcap.Ceiling, func() {
				r := NewReaderOptions(src, tt.opt)
				var rec Record
				for err == nil {
					err = r.Read(&rec)
				}
			})
			var pe *ParseError
			var le *limit.Error
			if !errors.As(err, &pe) || !errors.As(err, &le) {
				t.Fatalf("got %v, want a ParseError for a limit", err)
			}
			if pe.Record != tt.record || pe.Line != tt.line || pe.Msg != tt.msg {
				t.Errorf("got record %d line %d %q, want record %d line %d %q", pe.Record, pe.Line, pe.Msg, tt.record, tt.line, tt.msg)
			}
			if src.Consumed() > 64<<20 {
				t.Errorf("read %d bytes before failing", src.Consumed())
			}
		})
	}
}

// TestLongRecordWithinLimits reads a record as long as the longest
// nanopore reads, in one line and in many.
func TestLongRecordWithinLimits(t *testing.T) {
	seq := strings.Repeat("ACGT", 1<<20) // 4 Mbases
	qual := strings.Repeat("!", len(seq))
	wrapped := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i += 60 {
			b.WriteString(s[i:min(i+60, len(s))] + "\n")
		}
		return b.String()
	}
	for name, in := range map[string]string{
		"one line":   "@long\n" + seq + "\n+\n" + qual + "\n",
		"many lines": "@long\n" + wrapped(seq) + "+\n" + wrapped(qual),
	} {
		t.Run(name, func(t *testing.T) {
			r := NewReader(strings.NewReader(in))
			var rec Record
			if err := r.Read(&rec); err != nil {
				t.Fatal(err)
			}
			if string(rec.Seq) != seq || string(rec.Qual) != qual {
				t.Fatalf("got %d bases and %d qualities", len(rec.Seq), len(rec.Qual))
			}
		})
	}
}

// FuzzReaderMemory streams head followed by tail repeated up to 40 MiB (past every limit), as
// a small compressed upload can expand to: whatever it holds, the reader
// must stay under the heap ceiling.
func FuzzReaderMemory(f *testing.F) {
	f.Add([]byte("@r\n"), []byte("A"))
	f.Add([]byte("@r\nACGT\n+\n"), []byte("!\n"))
	f.Add([]byte("@r\n"), []byte("AC\n"))
	f.Add([]byte("@a\nACGT\n+\n!!!!\n"), []byte("@a\nACGT\n+\n!!!!\n"))
	f.Fuzz(func(t *testing.T, head, tail []byte) {
		if len(head)+len(tail) > heapcap.MaxInput {
			return
		}
		heapcap.Check(t, heapcap.Ceiling, func() {
			r := NewReader(heapcap.Repeat(head, tail, 40<<20))
			var rec Record
			for r.Read(&rec) == nil {
			}
		})
	})
}
