package bam_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/format/bam"
	"github.com/seqstore/seqstore/internal/format/bam/bamtest"
	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/format/limit"
	"github.com/seqstore/seqstore/internal/format/sam"
	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
)

// render reads a whole BAM and renders it as samtools view would print it.
func render(t testing.TB, data []byte) ([]byte, error) {
	t.Helper()
	rd, err := bam.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var out []byte
	var rec sam.Record
	for {
		err := rd.Read(&rec)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if out, err = sam.AppendText(out, &rec, rd.Header().References); err != nil {
			return out, err
		}
	}
}

// firstDifference describes where two renderings part, line by line.
func firstDifference(got, want []byte) string {
	g, w := bytes.SplitAfter(got, []byte("\n")), bytes.SplitAfter(want, []byte("\n"))
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl []byte
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if !bytes.Equal(gl, wl) {
			return fmt.Sprintf("line %d:\n got  %.600q\n want %.600q", i+1, gl, wl)
		}
	}
	return "no difference"
}

// checkLikeSamtools reads file and compares every rendered record with
// samtools view's output.
func checkLikeSamtools(t *testing.T, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	got, err := render(t, data)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	want := testutil.Run(t, "samtools", "view", file)
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from samtools view at %s", file, firstDifference(got, want))
	}
}

func TestReadRendersAsSamtoolsOnLambda(t *testing.T) {
	aligned, _ := bamtest.Lambda(t)
	checkLikeSamtools(t, aligned)
	checkLikeSamtools(t, bamtest.Unaligned(t))
}

func TestReadRendersAsSamtoolsOnHtslibCorpus(t *testing.T) {
	for _, c := range bamtest.HtslibCorpus(t) {
		t.Run(c.Name, func(t *testing.T) { checkLikeSamtools(t, c.Path) })
	}
}

// A CIGAR of more than 65,535 operations travels in a CG tag; samtools
// prints the real CIGAR and drops the tag, and so must the reader.
func TestReadRestoresLongCigarFromCGTag(t *testing.T) {
	testutil.RequireTool(t, "samtools")
	dir := t.TempDir()
	var cigar strings.Builder
	for range 35000 {
		cigar.WriteString("1M1I")
	}
	seq := strings.Repeat("AC", 35000)
	text := "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:100000\n" +
		"long\t0\tchr1\t10\t60\t" + cigar.String() + "\t*\t0\t0\t" + seq + "\t*\tNM:i:35000\tXA:Z:after\n" +
		"short\t16\tchr1\t20\t60\t4M\t*\t0\t0\tACGT\tIIII\n"
	sam := filepath.Join(dir, "long.sam")
	os.WriteFile(sam, []byte(text), 0o644)
	file := filepath.Join(dir, "long.bam")
	testutil.Run(t, "samtools", "view", "--no-PG", "-b", "-o", file, sam)
	raw := testutil.Run(t, "samtools", "view", "--no-PG", "-u", file)
	if !bytes.Contains(raw, []byte("CGBI")) {
		t.Fatal("samtools did not write a CG tag; the test proves nothing")
	}
	checkLikeSamtools(t, file)
}

// Record building for the defect tests, in BAM's layout (SAMv1 §4.2).
type rawRecord struct {
	name             string
	flag             uint16
	refID, pos       int32
	mapq             uint8
	cigar            []uint32
	mateRef, matePos int32
	tlen             int32
	seq              string
	qual             []byte
	aux              []byte
}

func (r rawRecord) encode() []byte {
	const letters = "=ACMGRSVTWYHKDBN"
	var b []byte
	le := binary.LittleEndian
	b = le.AppendUint32(b, 0) // block_size, set below
	b = le.AppendUint32(b, uint32(r.refID))
	b = le.AppendUint32(b, uint32(r.pos))
	b = append(b, byte(len(r.name)+1), r.mapq)
	b = le.AppendUint16(b, 4680)
	b = le.AppendUint16(b, uint16(len(r.cigar)))
	b = le.AppendUint16(b, r.flag)
	b = le.AppendUint32(b, uint32(len(r.seq)))
	b = le.AppendUint32(b, uint32(r.mateRef))
	b = le.AppendUint32(b, uint32(r.matePos))
	b = le.AppendUint32(b, uint32(r.tlen))
	b = append(append(b, r.name...), 0)
	for _, c := range r.cigar {
		b = le.AppendUint32(b, c)
	}
	packed := make([]byte, (len(r.seq)+1)/2)
	for i := range len(r.seq) {
		v := byte(strings.IndexByte(letters, r.seq[i]))
		if i%2 == 0 {
			v <<= 4
		}
		packed[i/2] |= v
	}
	b = append(b, packed...)
	qual := r.qual
	if qual == nil {
		qual = bytes.Repeat([]byte{30}, len(r.seq))
	}
	b = append(b, qual...)
	b = append(b, r.aux...)
	le.PutUint32(b, uint32(len(b)-4))
	return b
}

func goodRecord() rawRecord {
	return rawRecord{name: "read1", refID: 0, pos: 99, mapq: 60, cigar: []uint32{4 << 4}, mateRef: -1, matePos: -1, seq: "ACGT", aux: []byte("NMc\x00")}
}

func header(text string, refs ...string) []byte {
	le := binary.LittleEndian
	b := append([]byte{}, bam.Magic...)
	b = le.AppendUint32(b, uint32(len(text)))
	b = append(b, text...)
	b = le.AppendUint32(b, uint32(len(refs)))
	for _, r := range refs {
		b = le.AppendUint32(b, uint32(len(r)+1))
		b = append(append(b, r...), 0)
		b = le.AppendUint32(b, 1000)
	}
	return b
}

// compress writes the parts as BGZF, each starting a new block.
func compress(t testing.TB, parts ...[]byte) []byte {
	data, _ := compressParts(t, parts...)
	return data
}

// compressParts writes the parts as BGZF, each starting a new block, and
// returns the file offset of each part's first block.
func compressParts(t testing.TB, parts ...[]byte) (data []byte, starts []int64) {
	t.Helper()
	var buf bytes.Buffer
	w := bgzf.NewWriter(&buf)
	for _, p := range parts {
		starts = append(starts, w.Offset())
		w.Write(p)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), starts
}

func TestDefectsAreReportedPrecisely(t *testing.T) {
	hdr := header("@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:1000\n", "chr1")
	good := goodRecord().encode() // 43 bytes
	with := func(edit func(*rawRecord)) []byte {
		r := goodRecord()
		edit(&r)
		return r.encode()
	}
	patched := func(b []byte, at int, v uint32) []byte {
		b = append([]byte{}, b...)
		binary.LittleEndian.PutUint32(b[at:], v)
		return b
	}
	cut := func(n int) func([]byte) []byte { return func(b []byte) []byte { return b[:len(b)-n] } }
	eofSize := len(bgzf.EOFMarker)
	tests := []struct {
		name  string
		parts [][]byte
		// mangle changes the compressed file; nil leaves it.
		mangle func([]byte) []byte
		// want is the message, with %[1]d standing for the file offset of
		// the last part's block and %[2]d for the file size.
		want string
	}{
		{"block_size below the fixed fields", [][]byte{hdr, good, patched(good, 0, 10)}, nil,
			"record 2 (BGZF block at byte %[1]d): block_size 10 is less than the 32 bytes of a record's fixed fields"},
		{"block_size larger than the data", [][]byte{hdr, good, patched(good, 0, 5000)}, nil,
			"record 2 (BGZF block at byte %[1]d): the file ends 52 bytes into a record of 5000 bytes: it is truncated"},
		{"block_size too short for the fields", [][]byte{hdr, patched(good[:len(good)-4], 0, 35)}, nil,
			"record 1 (BGZF block at byte %[1]d): l_read_name 6, n_cigar_op 1 and l_seq 4 need 48 bytes but block_size is 35"},
		{"refID past the dictionary", [][]byte{hdr, with(func(r *rawRecord) { r.refID = 1 })}, nil,
			"record 1 (BGZF block at byte %[1]d): refID 1 is out of range [-1, 1)"},
		{"refID below -1", [][]byte{hdr, with(func(r *rawRecord) { r.refID = -2 })}, nil,
			"record 1 (BGZF block at byte %[1]d): refID -2 is out of range [-1, 1)"},
		{"next refID past the dictionary", [][]byte{hdr, with(func(r *rawRecord) { r.mateRef = 7 })}, nil,
			"record 1 (BGZF block at byte %[1]d): next refID 7 is out of range [-1, 1)"},
		{"pos below -1", [][]byte{hdr, with(func(r *rawRecord) { r.pos = -5 })}, nil,
			"record 1 (BGZF block at byte %[1]d): pos -5 is below -1"},
		{"l_read_name of 0", [][]byte{hdr, patched(good, 12, 0x0c003c00)}, nil,
			"record 1 (BGZF block at byte %[1]d): l_read_name is 0"},
		{"an invalid CIGAR op", [][]byte{hdr, with(func(r *rawRecord) { r.cigar = []uint32{2 << 4, 2<<4 | 12} })}, nil,
			"record 1 (BGZF block at byte %[1]d): CIGAR operation 2 has the invalid op code 12"},
		{"CIGAR and SEQ disagree", [][]byte{hdr, good, good, with(func(r *rawRecord) { r.cigar = []uint32{101 << 4}; r.seq = strings.Repeat("A", 100) })}, nil,
			"record 3 (BGZF block at byte %[1]d): CIGAR consumes 101 query bases but SEQ has 100"},
		{"a tag of unknown type", [][]byte{hdr, with(func(r *rawRecord) { r.aux = []byte("NMc\x00XAq1234") })}, nil,
			"record 1 (BGZF block at byte %[1]d): optional field at byte 4 of the tags: tag XA: unknown type 'q'"},
		{"a string tag without NUL", [][]byte{hdr, with(func(r *rawRecord) { r.aux = []byte("XAZabc") })}, nil,
			"record 1 (BGZF block at byte %[1]d): optional field at byte 0 of the tags: tag XA: type Z string has no NUL before the end of the record"},
		{"an array running past the record", [][]byte{hdr, with(func(r *rawRecord) { r.aux = []byte("XABi\x09\x00\x00\x00\x01\x00\x00\x00") })}, nil,
			"B array of 9 type i elements runs past the end of the record"},
		{"stray bytes after the tags", [][]byte{hdr, with(func(r *rawRecord) { r.aux = []byte("NMc\x00XY") })}, nil,
			"record 1 (BGZF block at byte %[1]d): optional field at byte 4 of the tags: 2 stray bytes after the last field"},
		{"a record cut short", [][]byte{hdr, good, good[:20]}, nil,
			"record 2 (BGZF block at byte %[1]d): the file ends 16 bytes into a record of 52 bytes: it is truncated"},
		{"block_size cut short", [][]byte{hdr, good, good[:2]}, nil,
			"record 2 (BGZF block at byte %[1]d): the file ends 2 bytes into a record's block_size of 4 bytes: it is truncated"},
		{"no EOF marker", [][]byte{hdr, good, good}, cut(eofSize),
			"record 3 (BGZF block at byte %[2]d): the file ends without the BGZF end-of-file marker: it is truncated"},
		{"a file cut inside a block", [][]byte{hdr, good, good}, cut(eofSize + 10),
			"record 2 (BGZF block at byte %[1]d): truncated: the file ends after "},
		{"a corrupt block", [][]byte{hdr, good, good}, func(b []byte) []byte { b[len(b)-eofSize-12] ^= 0x55; return b },
			"record 2 (BGZF block at byte %[1]d): "},
		{"a header line without '@'", [][]byte{header("@HD\tVN:1.6\nSQ\tSN:chr1\n", "chr1")}, nil,
			"header (BGZF block at byte 0): header text line 2 does not start with '@'"},
		{"a negative reference count", [][]byte{patched(header("", "chr1"), 8, 0xfffffffe)}, nil,
			"header (BGZF block at byte 0): the reference count -2 is negative"},
		{"a reference name length of 0", [][]byte{patched(header("", "chr1"), 12, 0)}, nil,
			"header (BGZF block at byte 0): reference 1 has a name length of 0"},
		{"a header cut short", [][]byte{header("@HD\tVN:1.6\n", "chr1")[:15]}, nil,
			"header (BGZF block at byte 0): the file ends 7 bytes into the header text of 11 bytes: it is truncated"},
		{"a bad magic", [][]byte{[]byte("BAM\x02rest of it")}, nil,
			`header (BGZF block at byte 0): this is BGZF-compressed but not BAM: the data starts with "BAM\x02rest" instead of the magic "BAM\1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, starts := compressParts(t, tt.parts...)
			if tt.mangle != nil {
				data = tt.mangle(data)
			}
			want := strings.NewReplacer("%[1]d", strconv.FormatInt(starts[len(starts)-1], 10), "%[2]d", strconv.Itoa(len(data))).Replace(tt.want)
			_, err := render(t, data)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("got error %v\nwant one containing %q", err, want)
			}
			var pe *bam.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("%T is not a *bam.ParseError", err)
			}
		})
	}
	if _, err := render(t, compress(t, hdr, good, good)); err != nil {
		t.Fatalf("the valid file failed: %v", err)
	}
}

func TestNonBAMInputSaysWhatItIs(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("@r1\nACGT\n+\nIIII\n"))
	zw.Close()
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"an empty file", nil, "the file is empty"},
		{"FASTQ", []byte("@r1\nACGT\n+\nIIII\n"), "this is FASTQ, not BAM"},
		{"SAM", []byte("@HD\tVN:1.6\n"), "this is SAM text, not BAM"},
		{"VCF", []byte("##fileformat=VCFv4.2\n"), "this is VCF, not BAM"},
		{"FASTA", []byte(">chr1\nACGT\n"), "this is FASTA, not BAM"},
		{"CRAM", []byte("CRAM\x03\x00rest"), "this is CRAM, not BAM"},
		{"plain gzip", gz.Bytes(), "gzip but not BGZF"},
		{"bgzipped VCF", compress(t, []byte("##fileformat=VCFv4.2\n")), "this is bgzipped VCF, not BAM"},
		{"bgzipped FASTQ", compress(t, []byte("@r1\nACGT\n+\nIIII\n")), "this is bgzipped FASTQ, not BAM"},
		{"BCF", compress(t, []byte("BCF\x02\x02rest")), "this is BCF"},
		{"uncompressed BAM", append(append([]byte{}, bam.Magic...), 0, 0, 0, 0), "uncompressed BAM"},
		{"an empty BGZF stream", compress(t), "too few for the BAM magic"},
		{"random bytes", []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, "starts with the bytes 0001020304050607"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bam.NewReader(bytes.NewReader(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, bam.ErrNotBAM) {
				t.Fatalf("got %v, want ErrNotBAM saying %q", err, tt.want)
			}
		})
	}
}

func TestCRAMSaysCRAM(t *testing.T) {
	aligned, ref := bamtest.Lambda(t)
	cram := filepath.Join(t.TempDir(), "x.cram")
	testutil.Run(t, "samtools", "view", "-C", "-T", ref, "-o", cram, aligned)
	f, _ := os.Open(cram)
	defer f.Close()
	if _, err := bam.NewReader(f); err == nil || !strings.Contains(err.Error(), "this is CRAM") {
		t.Fatalf("got %v", err)
	}
}

// tinyBAM makes a small real BAM through samtools (for fuzz seeds), or
// nil when samtools is missing.
func tinyBAM(text string) []byte {
	if _, err := exec.LookPath("samtools"); err != nil {
		return nil
	}
	cmd := exec.Command("samtools", "view", "--no-PG", "-b", "-")
	cmd.Stdin = strings.NewReader(text)
	out, err := cmd.Output()
	if err != nil {
		return nil
	}
	return out
}

func FuzzReader(f *testing.F) {
	text := "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:c\tLN:100\n" +
		"r1\t99\tc\t5\t60\t2S2M1D\t=\t20\t19\tACGT\tIIII\tNM:i:0\tXB:B:c,1,-2\tXF:f:1.5\tXZ:Z:hi\n" +
		"r2\t4\t*\t0\t0\t*\t*\t0\t0\tAC\t*\tXH:H:1A\n"
	if b := tinyBAM(text); b != nil {
		f.Add(b)
	}
	f.Add(compress(f, header("@HD\tVN:1.6\n", "chr1"), goodRecord().encode()))
	f.Add([]byte{})
	f.Add(bgzf.EOFMarker)
	f.Fuzz(func(t *testing.T, data []byte) {
		heapcap.Check(t, heapcap.Ceiling, func() {
			rd, err := bam.NewReader(bytes.NewReader(data))
			if err != nil {
				var pe *bam.ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("error %T is not a *bam.ParseError: %v", err, err)
				}
				return
			}
			defer rd.Close()
			var rec sam.Record
			for {
				err := rd.Read(&rec)
				if err == io.EOF {
					return
				}
				if err != nil {
					var pe *bam.ParseError
					if !errors.As(err, &pe) || pe.Record != rd.Records()+1 {
						t.Fatalf("error %v does not name record %d", err, rd.Records()+1)
					}
					return
				}
				// Whatever the reader accepts renders.
				if _, err := sam.AppendText(nil, &rec, rd.Header().References); err != nil {
					t.Fatalf("an accepted record does not render: %v", err)
				}
			}
		})
	})
}

func BenchmarkRead(b *testing.B) {
	aligned, _ := bamtest.Lambda(b)
	data, err := os.ReadFile(aligned)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	var rec sam.Record
	for b.Loop() {
		rd, err := bam.NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for {
			if err := rd.Read(&rec); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
		rd.Close()
	}
}

// TestLimits feeds hostile BAMs, made as they are read, whose header or
// records declare sizes that an unbounded reader would hold gigabytes for:
// each must fail at the limit it passes, naming it, while holding little.
func TestLimits(t *testing.T) {
	le := binary.LittleEndian
	start := func(lText uint32, text string, nRef uint32) []byte {
		b := le.AppendUint32(append([]byte{}, bam.Magic...), lText)
		b = append(b, text...)
		return le.AppendUint32(b, nRef)
	}
	ref := func(name string, lName uint32) []byte {
		b := le.AppendUint32(nil, lName)
		return le.AppendUint32(append(b, name...), 1000)
	}
	validHeader := start(0, "", 1)
	validHeader = append(validHeader, ref("c\x00", 2)...)
	const big = 200 << 20
	tests := []struct {
		name       string
		head, tail []byte
		total      int64
		limit      string
		msg        string
	}{
		{"20 million references", start(0, "", 20_000_000), ref("c\x00", 2), big,
			"max-references", "header (BGZF block at byte 0): the header's 20000000 reference sequences exceeds the limit max-references=1048576"},
		{"2^31-1 references", start(0, "", 1<<31-1), ref("c\x00", 2), big,
			"max-references", "the header's 2147483647 reference sequences exceeds the limit max-references=1048576"},
		{"200 MiB of header text", start(big, "@CO\t", 0)[:12], []byte("x"), big + 12,
			"max-header", "the header text length 209715200 exceeds the limit max-header=32MiB"},
		{"1 MiB reference names", start(0, "", 1000), append(ref("", 1<<20)[:4], bytes.Repeat([]byte("c"), 1<<20)...), big,
			"max-reference-name", "reference 1's name length 1048576 exceeds the limit max-reference-name=64KiB"},
		{"names beyond the header limit", start(0, "", 100_000), append(ref("", 60<<10)[:4], append(bytes.Repeat([]byte("c"), 60<<10), 0, 0, 0, 0)...), big,
			"max-header", "the header text and reference names up to reference 547 exceeds the limit max-header=32MiB"},
		{"a 200 MiB record", le.AppendUint32(validHeader, big), []byte{0}, big + int64(len(validHeader)) + 4,
			"max-bam-record", "record 1 (BGZF block at byte 0): block_size 209715200 exceeds the limit max-bam-record=32MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := bamtest.Stream(tt.head, tt.tail, tt.total)
			defer src.Close()
			var err error
			heapcap.Check(t, heapcap.Ceiling, func() {
				var rd *bam.Reader
				rd, err = bam.NewReader(src)
				if err != nil {
					return
				}
				defer rd.Close()
				var rec sam.Record
				for err == nil {
					err = rd.Read(&rec)
				}
			})
			var pe *bam.ParseError
			var le *limit.Error
			if !errors.As(err, &pe) || !errors.As(err, &le) || le.Name != tt.limit {
				t.Fatalf("got %v, want a ParseError for the limit %s", err, tt.limit)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %q, want it to contain %q", err, tt.msg)
			}
		})
	}
}

// FuzzReaderMemory reads a BAM made of the fuzzed head and the fuzzed tail
// repeated up to 40 MiB (past every limit), compressed as it is read, as a small hostile
// upload expands: whatever it holds, the reader stays under the ceiling.
func FuzzReaderMemory(f *testing.F) {
	le := binary.LittleEndian
	f.Add(le.AppendUint32(le.AppendUint32(append([]byte{}, bam.Magic...), 0), 20_000_000), []byte{2, 0, 0, 0, 'c', 0, 1, 0, 0, 0})
	f.Add(le.AppendUint32(append([]byte{}, bam.Magic...), 100<<20), []byte("@"))
	f.Add(append(header("", "c"), 0, 0, 0, 8), []byte{0})
	f.Fuzz(func(t *testing.T, head, tail []byte) {
		if len(head)+len(tail) > heapcap.MaxInput {
			return
		}
		src := bamtest.Stream(head, tail, 40<<20)
		defer src.Close()
		heapcap.Check(t, heapcap.Ceiling, func() {
			rd, err := bam.NewReader(src)
			if err != nil {
				return
			}
			defer rd.Close()
			var rec sam.Record
			for rd.Read(&rec) == nil {
			}
		})
	})
}
