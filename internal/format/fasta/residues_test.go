package fasta

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

// fastaOf writes residues as a FASTA sequence in lines of width residues,
// ending each with eol, and returns the file and its scanned entries.
func fastaOf(t *testing.T, residues string, width int, eol string) (string, []Entry) {
	t.Helper()
	var b strings.Builder
	b.WriteString(">first\nAC" + eol + ">seq desc" + eol)
	for i := 0; i < len(residues); i += width {
		b.WriteString(residues[i:min(i+width, len(residues))] + eol)
	}
	b.WriteString(">last" + eol + "GG" + eol)
	seqs, err := Scan(strings.NewReader(b.String()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	entries := make([]Entry, len(seqs))
	for i, s := range seqs {
		entries[i] = s.Entry
	}
	return b.String(), entries
}

// Every range of a sequence read through Span and Residues is that slice
// of the sequence, upper-cased, whatever its line layout.
func TestResiduesOfRanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	residues := make([]byte, 1000)
	for i := range residues {
		residues[i] = "ACGTNacgtn"[rng.IntN(10)]
	}
	want := strings.ToUpper(string(residues))
	for _, layout := range []struct {
		name  string
		width int
		eol   string
	}{{"60 LF", 60, "\n"}, {"7 CRLF", 7, "\r\n"}, {"one line", 1000, "\n"}, {"1 LF", 1, "\n"}} {
		t.Run(layout.name, func(t *testing.T) {
			file, entries := fastaOf(t, string(residues), layout.width, layout.eol)
			e := entries[1]
			ranges := [][2]int64{{0, 1000}, {0, 0}, {999, 1000}, {0, 1}, {59, 61}, {60, 120}, {500, 500}, {1, 999}}
			for range 200 {
				a, b := rng.Int64N(1001), rng.Int64N(1001)
				ranges = append(ranges, [2]int64{min(a, b), max(a, b)})
			}
			for _, r := range ranges {
				off, n := e.Span(r[0], r[1])
				raw := io.NewSectionReader(strings.NewReader(file), off, n)
				got, err := io.ReadAll(iotest.OneByteReader(Residues(raw, e, r[0], r[1])))
				if err != nil || string(got) != want[r[0]:r[1]] {
					t.Fatalf("[%d, %d): got %q, %v; want %q", r[0], r[1], got, err, want[r[0]:r[1]])
				}
			}
		})
	}
}

// A file that disagrees with its index is an error, never wrong residues.
func TestResiduesOfAStaleFile(t *testing.T) {
	e := Entry{Name: "s", Length: 8, Offset: 3, LineBases: 4, LineWidth: 5}
	for _, tt := range []struct{ name, raw string }{
		{"too short", "ACGT\nAC"},
		{"too long", "ACGT\nACGTA"},
		{"not residues", "AC>T\nACGT"},
	} {
		_, err := io.ReadAll(Residues(strings.NewReader(tt.raw), e, 0, 8))
		if !errors.Is(err, errStale) {
			t.Errorf("%s: got %v, want an error saying the file does not match its index", tt.name, err)
		}
	}
	boom := errors.New("boom")
	if _, err := io.ReadAll(Residues(iotest.ErrReader(boom), e, 0, 8)); !errors.Is(err, boom) {
		t.Errorf("a failing reader: got %v, want its error", err)
	}
}

func TestFindEntry(t *testing.T) {
	entries := []Entry{{"chr1", 10, 6, 60, 61}, {"chr10", 20, 30, 60, 61}, {"chr1_alt", 5, 60, 60, 62}}
	var idx bytes.Buffer
	if err := WriteIndex(&idx, entries); err != nil {
		t.Fatal(err)
	}
	for _, want := range entries {
		got, err := FindEntry(bytes.NewReader(idx.Bytes()), want.Name)
		if err != nil || got != want {
			t.Errorf("FindEntry(%q) = %+v, %v; want %+v", want.Name, got, err, want)
		}
	}
	if _, err := FindEntry(bytes.NewReader(idx.Bytes()), "chr"); !errors.Is(err, ErrNotFound) {
		t.Errorf("FindEntry of a missing name: got %v, want ErrNotFound", err)
	}
	if _, err := FindEntry(strings.NewReader("chr1\t1\tx\t1\t2\n"), "chr1"); err == nil {
		t.Error("FindEntry of a damaged line: no error")
	}
}
