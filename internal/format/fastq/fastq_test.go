package fastq

import (
	"errors"
	"io"
	"strings"
	"testing"
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

func TestReadDefects(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"not FASTQ", ">a\nACGT\n", "record 1 (line 1): the first line does not start with '@'"},
		{"a bad base", "@a\nAC1T\n+\n!!!!\n", "record 1 (line 2): sequence has an invalid character '1' at position 3"},
		{"long qualities", "@a\nAC\n+\n!!!\n", "record 1 (line 4): quality length 3 differs from sequence length 2"},
		{"a missing plus line at the end", "@a\nACGT\n", "record 1 (line 2): the file ends before the '+' line"},
		{"a second record without @", "@a\nA\n+\n!\nb\nA\n+\n!\n", "record 2 (line 5): expected a name line"},
		{"a quality of DEL", "@a\nA\n+\n\x7f\n", "outside the Phred+33 range"},
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
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
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
	f.Fuzz(func(t *testing.T, in string) {
		r := NewReader(strings.NewReader(in))
		var rec Record
		for range 1000 {
			err := r.Read(&rec)
			if err != nil {
				return
			}
			if len(rec.Seq) != len(rec.Qual) {
				t.Fatalf("accepted a record with %d bases and %d qualities", len(rec.Seq), len(rec.Qual))
			}
		}
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
