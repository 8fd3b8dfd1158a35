// Package fasta gives random access to the sequences of a plain FASTA file
// through its samtools .fai index, building the index when it is absent. It
// is the reference source CRAM decoding needs; the format is a few lines of
// code and no Go library reads .fai, so it is written here.
package fasta

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Entry is one line of a .fai index.
type Entry struct {
	Name      string
	Length    int64 // bases
	Offset    int64 // byte offset of the first base
	LineBases int64 // bases per full line
	LineWidth int64 // bytes per full line, with its line ending
}

// ErrNotFound is returned for a sequence the FASTA file does not hold.
var ErrNotFound = errors.New("sequence not in the FASTA file")

// File is an indexed FASTA file. It is safe for concurrent use.
type File struct {
	path    string // what messages call the file
	f       io.ReaderAt
	closer  io.Closer // nil: nothing to close
	entries []Entry
	byName  map[string]int
}

// Open opens a FASTA file and reads its index, path+".fai". When the index is
// absent it is built by reading the file once, and written beside the FASTA
// when that directory is writable (as samtools does); a FASTA that cannot be
// indexed (gzip-compressed, or with uneven line lengths) is an error.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var entries []Entry
	if idx, err := os.Open(path + ".fai"); err == nil {
		entries, err = ReadIndex(idx)
		idx.Close()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s.fai: %w", path, err)
		}
	} else {
		entries, err = BuildIndex(bufio.NewReaderSize(f, 1<<20))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if out, err := os.Create(path + ".fai"); err == nil {
			werr := WriteIndex(out, entries)
			if cerr := out.Close(); werr != nil || cerr != nil {
				os.Remove(path + ".fai")
			}
		}
	}
	fa := NewFile(f, path, entries)
	fa.closer = f
	return fa, nil
}

// NewFile reads a FASTA file through r, which holds it whole, by its index
// entries: a file that is not on the local disk, such as a reference kept
// in an object store. name is what messages call the file.
func NewFile(r io.ReaderAt, name string, entries []Entry) *File {
	fa := &File{path: name, f: r, entries: entries, byName: make(map[string]int, len(entries))}
	for i, e := range entries {
		if _, dup := fa.byName[e.Name]; !dup {
			fa.byName[e.Name] = i
		}
	}
	return fa
}

// Close closes the file Open opened; a File from NewFile leaves its reader
// to its caller.
func (fa *File) Close() error {
	if fa.closer == nil {
		return nil
	}
	return fa.closer.Close()
}

// Entries returns the index.
func (fa *File) Entries() []Entry { return fa.entries }

// Bases returns the residues [start, end) of the named sequence, 0-based,
// upper case and without line breaks, and the sequence's length. A range
// that runs past the sequence's end is cut short there; one that starts
// past it gives no residues. Only the bytes that hold the range are read,
// found through the index's line lengths, so a caller decoding a region
// of a 250-megabase chromosome holds that region, not the chromosome.
// Each call returns a new slice.
func (fa *File) Bases(name string, start, end int64) ([]byte, int64, error) {
	i, ok := fa.byName[name]
	if !ok {
		return nil, 0, fmt.Errorf("%w: %q (%s)", ErrNotFound, name, fa.path)
	}
	e := fa.entries[i]
	start, end = max(start, 0), min(end, e.Length)
	if start >= end {
		return []byte{}, e.Length, nil
	}
	if e.LineBases <= 0 || e.LineWidth < e.LineBases {
		return nil, 0, fmt.Errorf("%s.fai: sequence %q has line bases %d and width %d", fa.path, e.Name, e.LineBases, e.LineWidth)
	}
	off, n := e.Span(start, end)
	raw := make([]byte, n)
	if _, err := fa.f.ReadAt(raw, off); err != nil {
		return nil, 0, fmt.Errorf("%s: reading sequence %q (%d bytes at offset %d): %w", fa.path, e.Name, n, off, err)
	}
	seq := raw[:0]
	for _, c := range raw {
		if c >= '!' && c <= '~' {
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			seq = append(seq, c)
		}
	}
	if int64(len(seq)) != end-start {
		return nil, 0, fmt.Errorf("%s: sequence %q has %d bases at %d-%d where the index says %d; rebuild the .fai", fa.path, e.Name, len(seq), start+1, end, end-start)
	}
	return seq, e.Length, nil
}

// ReadIndex parses a .fai file.
func ReadIndex(r io.Reader) ([]Entry, error) {
	var entries []Entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if text == "" {
			continue
		}
		e, err := parseIndexLine(text, line)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, sc.Err()
}

// parseIndexLine parses one line of a .fai file, the line'th.
func parseIndexLine(text string, line int) (Entry, error) {
	f := strings.Split(text, "\t")
	if len(f) < 5 {
		return Entry{}, fmt.Errorf("line %d: %d fields, want 5", line, len(f))
	}
	var nums [4]int64
	for i := range nums {
		v, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil || v < 0 {
			return Entry{}, fmt.Errorf("line %d: field %d %q is not a count", line, i+2, f[i+1])
		}
		nums[i] = v
	}
	return Entry{Name: f[0], Length: nums[0], Offset: nums[1], LineBases: nums[2], LineWidth: nums[3]}, nil
}

// WriteIndex writes entries in .fai format.
func WriteIndex(w io.Writer, entries []Entry) error {
	bw := bufio.NewWriter(w)
	for _, e := range entries {
		fmt.Fprintf(bw, "%s\t%d\t%d\t%d\t%d\n", e.Name, e.Length, e.Offset, e.LineBases, e.LineWidth)
	}
	return bw.Flush()
}

// BuildIndex reads a FASTA file and returns its index. Like samtools faidx
// it requires every line of a sequence but the last to have the same length.
func BuildIndex(r *bufio.Reader) ([]Entry, error) {
	head, _ := r.Peek(2)
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		return nil, errors.New("compressed FASTA: decompress it (or index it with samtools faidx)")
	}
	var entries []Entry
	var cur *Entry
	var off int64
	lastLine := false // a shorter line was seen in the current sequence
	for line := 1; ; line++ {
		b, err := r.ReadSlice('\n')
		for err == bufio.ErrBufferFull {
			more, err2 := r.ReadSlice('\n')
			b = append(append([]byte(nil), b...), more...)
			err = err2
		}
		if len(b) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		width := int64(len(b))
		content := bytes.TrimRight(b, "\r\n")
		switch {
		case len(content) > 0 && content[0] == '>':
			name := string(content[1:])
			if i := strings.IndexAny(name, " \t"); i >= 0 {
				name = name[:i]
			}
			entries = append(entries, Entry{Name: name, Offset: off + width})
			cur = &entries[len(entries)-1]
			lastLine = false
		case cur == nil:
			if len(bytes.TrimSpace(content)) > 0 {
				return nil, fmt.Errorf("line %d: sequence data before the first '>' header", line)
			}
		default:
			n := int64(len(content))
			if n == 0 {
				lastLine = cur.Length > 0
				break
			}
			if lastLine {
				return nil, fmt.Errorf("line %d: sequence %q has lines of different lengths", line, cur.Name)
			}
			if cur.LineBases == 0 {
				cur.LineBases, cur.LineWidth = n, width
			} else if n > cur.LineBases || (n == cur.LineBases && width != cur.LineWidth && err != io.EOF) {
				return nil, fmt.Errorf("line %d: sequence %q has lines of different lengths", line, cur.Name)
			} else if n < cur.LineBases {
				lastLine = true
			}
			cur.Length += n
		}
		off += width
		if err == io.EOF {
			break
		}
	}
	// Like samtools faidx, leave out sequences with no bases.
	kept := entries[:0]
	for _, e := range entries {
		if e.Length > 0 {
			kept = append(kept, e)
		}
	}
	return kept, nil
}
