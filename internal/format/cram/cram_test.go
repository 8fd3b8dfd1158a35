package cram

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/format/fasta"
	"github.com/seqstore/seqstore/internal/format/sam"
	"github.com/seqstore/seqstore/internal/testutil"
)

const (
	htslibTest = "/usr/share/htslib-test/test"
	stadenData = "/usr/share/doc/staden-io-lib/test/data"
)

// decodeFile renders every record of a CRAM as SAM text, naming nameless
// reads after the file as samtools does.
func decodeFile(t testing.TB, path, refPath string) ([]byte, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ref ReferenceSource
	if refPath != "" {
		fa, err := fasta.Open(refPath)
		if err != nil {
			t.Fatal(err)
		}
		defer fa.Close()
		ref = fa
	}
	rd, err := NewReaderOptions(f, ref, Options{NamePrefix: filepath.Base(path)})
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
		out, err = sam.AppendText(out, &rec, rd.Header().References)
		if err != nil {
			return out, fmt.Errorf("record %d: %w", rd.Records(), err)
		}
	}
}

// samtoolsView is what samtools prints for the file's records.
func samtoolsView(t testing.TB, path, refPath string, extra ...string) []byte {
	t.Helper()
	args := []string{"view"}
	if refPath != "" {
		args = append(args, "-T", refPath)
	}
	args = append(args, extra...)
	args = append(args, path)
	return testutil.Run(t, "samtools", args...)
}

// compareSAM fails the test at the first line that differs.
func compareSAM(t testing.TB, name string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	g := strings.Split(string(got), "\n")
	w := strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Errorf("%s: line %d (of %d, samtools %d) differs:\n got  %q\n want %q", name, i+1, len(g), len(w), gl, wl)
			return
		}
	}
}

// refFor names the reference of a test file: the part of its name before
// '#' plus ".fa", in the same directory.
func refFor(dir, name string) string {
	base := filepath.Base(name)
	if i := strings.IndexByte(base, '#'); i >= 0 {
		return filepath.Join(dir, base[:i]+".fa")
	}
	return ""
}

func TestShippedCRAMs(t *testing.T) {
	testutil.RequireTool(t, "samtools")
	testutil.RequireDir(t, htslibTest)
	tmp := t.TempDir()
	type file struct{ cram, ref string }
	files := []file{
		{htslibTest + "/auxf#values_java.cram", htslibTest + "/auxf.fa"},
		{htslibTest + "/ce#5b_java.cram", htslibTest + "/ce.fa"},
		{htslibTest + "/range.cram", htslibTest + "/ce.fa"},
		{htslibTest + "/xx#large_aux_java.cram", htslibTest + "/xx.fa"},
	}
	if _, err := os.Stat(stadenData); err == nil {
		ce := testutil.GunzipTo(t, stadenData+"/ce.fa.gz", tmp)
		files = append(files,
			file{testutil.GunzipTo(t, stadenData+"/9827_rand3.cram.gz", tmp), ""},
			file{testutil.GunzipTo(t, stadenData+"/ce#5b_java.cram.gz", tmp), ce},
			file{testutil.GunzipTo(t, stadenData+"/xx#large_aux_java.cram.gz", tmp), stadenData + "/xx.fa"},
			file{stadenData + "/tag_aux#aux_java.cram", stadenData + "/tag_aux.fa"},
		)
	} else if testutil.InCI() {
		t.Fatalf("%s is missing", stadenData)
	}
	for _, f := range files {
		t.Run(filepath.Base(f.cram), func(t *testing.T) {
			want := samtoolsView(t, f.cram, f.ref)
			got, err := decodeFile(t, f.cram, f.ref)
			if err != nil {
				t.Fatal(err)
			}
			compareSAM(t, f.cram, got, want)
		})
	}
}

// makeCRAM writes sam as CRAM with the given samtools output options.
func makeCRAM(t testing.TB, dir, samPath, ref, name, fmtOpts string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	args := []string{"view", "-O", "cram," + fmtOpts, "-o", out}
	if ref != "" {
		args = append(args, "-T", ref)
	}
	args = append(args, samPath)
	cmd := exec.Command("samtools", args...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("samtools cannot write %s as CRAM (%s): %v %s", samPath, fmtOpts, err, msg)
	}
	return out
}

// profiles are the CRAM flavours the generated tests write.
var profiles = []string{
	"version=3.0",
	"version=3.0,use_bzip2=1,use_lzma=1",
	"version=3.0,no_ref",
	"version=3.0,embed_ref=1",
	"version=3.1,fast",
	"version=3.1,normal",
	"version=3.1,small",
	"version=3.1,archive",
	"version=3.0,seqs_per_slice=7,slices_per_container=3",
	"version=3.1,lossy_names=1",
	"version=3.0,multi_seq_per_slice=1,seqs_per_slice=50",
}

func TestHtslibSAMsAsCRAM(t *testing.T) {
	testutil.RequireTool(t, "samtools")
	testutil.RequireDir(t, htslibTest)
	sams, _ := filepath.Glob(htslibTest + "/*#*.sam")
	staden, _ := filepath.Glob(stadenData + "/*#*.sam*")
	sams = append(sams, staden...)
	tmp := t.TempDir()
	for _, s := range sams {
		// The reference sits beside the SAM, or in htslib-test.
		ref := refFor(filepath.Dir(s), s)
		if _, err := os.Stat(ref); err != nil {
			ref = refFor(htslibTest, s)
		}
		if _, err := os.Stat(ref); err != nil {
			continue
		}
		for i, p := range profiles {
			name := fmt.Sprintf("%s.%d.%d.cram", strings.TrimSuffix(filepath.Base(s), ".sam"), len(s), i)
			t.Run(name+"/"+p, func(t *testing.T) {
				c := makeCRAM(t, tmp, s, ref, name, p)
				want, err := exec.Command("samtools", "view", "-T", ref, c).Output()
				if err != nil {
					// htslib 1.16 cannot read back some files it writes
					// (an empty embedded reference); nothing to compare.
					t.Skipf("samtools cannot read its own %s: %v", c, err)
				}
				got, err := decodeFile(t, c, ref)
				if err != nil {
					t.Fatal(err)
				}
				compareSAM(t, c, got, want)
			})
		}
	}
}

func TestBrokenCRAMs(t *testing.T) {
	testutil.RequireDir(t, htslibTest)
	orig, err := os.ReadFile(htslibTest + "/ce#5b_java.cram")
	if err != nil {
		t.Fatal(err)
	}
	ref := htslibTest + "/ce.fa"
	tmp := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flip := func(off int) []byte {
		b := bytes.Clone(orig)
		b[off] ^= 0x40
		return b
	}
	// A reference with the right names but one base changed where the
	// reads align.
	fa, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.IndexByte(fa, '\n') + 1 + 30
	if fa[at] == 'A' {
		fa[at] = 'C'
	} else {
		fa[at] = 'A'
	}
	mutated := write("mutated.fa", fa)
	tests := []struct {
		name, path, ref, want string
	}{
		{"reference MD5 mismatch", htslibTest + "/ce#5b_java.cram", mutated, "reference MD5 mismatch for CHROMOSOME_I"},
		{"bad container header CRC", write("hcrc.cram", flip(26+5)), ref, "container header CRC32"},
		{"truncated container header", write("htrunc.cram", orig[:26+3]), ref, "truncated"},
		{"empty", write("empty.cram", nil), ref, "empty"},
		{"not cram", write("bam.cram", []byte("BAM\x01xxxxxxxxxxxxxxxxxxxxxxxxxxxx")), ref, "not a CRAM"},
		{"truncated definition", write("def.cram", orig[:10]), ref, "truncated"},
		{"truncated", write("trunc.cram", orig[:len(orig)-200]), ref, "truncated"},
		{"bad crc late", write("crc.cram", flip(len(orig)-100)), ref, "CRC32"},
		{"wrong reference", htslibTest + "/ce#5b_java.cram", htslibTest + "/c1.fa", "reference"},
		{"no reference", htslibTest + "/ce#5b_java.cram", "", "no reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeFile(t, tt.path, tt.ref)
			if err == nil {
				t.Fatalf("no error, want one saying %q", tt.want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("error %v is not a *cram.Error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			t.Log(err)
		})
	}
}

// TestHtslibOtherFilesNoRef writes htslib-test's SAM and BAM files that
// have no reference of their own as reference-free CRAM (no_ref), in 3.0
// and 3.1, and compares with samtools, which needs no reference for them.
func TestHtslibOtherFilesNoRef(t *testing.T) {
	testutil.RequireTool(t, "samtools")
	testutil.RequireDir(t, htslibTest)
	var inputs []string
	filepath.WalkDir(htslibTest, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(filepath.Base(p), "#") &&
			(strings.HasSuffix(p, ".sam") || strings.HasSuffix(p, ".bam")) {
			inputs = append(inputs, p)
		}
		return nil
	})
	tmp := t.TempDir()
	for k, in := range inputs {
		for i, p := range []string{"version=3.0,no_ref", "version=3.1,no_ref,small"} {
			name := fmt.Sprintf("%d.%d.cram", k, i)
			rel, _ := filepath.Rel(htslibTest, in)
			t.Run(rel+"/"+p, func(t *testing.T) {
				c := makeCRAM(t, tmp, in, "", name, p)
				want, err := exec.Command("samtools", "view", c).Output()
				if err != nil {
					t.Skipf("samtools cannot read its own %s: %v", c, err)
				}
				got, err := decodeFile(t, c, "")
				if err != nil {
					t.Fatal(err)
				}
				compareSAM(t, c, got, want)
			})
		}
	}
}
