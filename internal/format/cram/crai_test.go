package cram

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/seqstore/seqstore/internal/format/cram/crai"
	"github.com/seqstore/seqstore/internal/format/fasta"
	"github.com/seqstore/seqstore/internal/format/sam"
	"github.com/seqstore/seqstore/internal/testutil"
)

// buildCRAI decodes a CRAM and writes the CRAI its slices give.
func buildCRAI(t testing.TB, path, refPath, out string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fa, err := fasta.Open(refPath)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	idx, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w := crai.NewWriter(idx)
	var werr error
	rd, err := NewReaderOptions(f, fa, Options{Index: func(e crai.Entry) {
		if err := w.Add(e); err != nil && werr == nil {
			werr = err
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var rec sam.Record
	for {
		if err := rd.Read(&rec); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if werr != nil {
		t.Fatal(werr)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCRAIMatchesSamtools compares our index with samtools index's, line
// for line, and the records samtools extracts through each over regions.
func TestCRAIMatchesSamtools(t *testing.T) {
	lf := lambdaData(t)
	dir := t.TempDir()
	type input struct{ sam, ref string }
	inputs := []input{{lf.sorted, lf.ref}}
	if _, err := os.Stat(htslibTest); err == nil {
		inputs = append(inputs, input{htslibTest + "/ce#1000.sam", htslibTest + "/ce.fa"}, input{htslibTest + "/ce#unmap2.sam", htslibTest + "/ce.fa"})
	}
	regions := []string{"gi|9626243|ref|NC_001416.1|", "gi|9626243|ref|NC_001416.1|:1-100", "gi|9626243|ref|NC_001416.1|:5000-5200",
		"gi|9626243|ref|NC_001416.1|:20000-20001", "gi|9626243|ref|NC_001416.1|:48000-", "CHROMOSOME_I:1000-2000", "CHROMOSOME_II", "CHROMOSOME_I", "*"}
	for k, in := range inputs {
		for i, p := range []string{"version=3.0", "version=3.1,seqs_per_slice=100,slices_per_container=2", "version=3.0,multi_seq_per_slice=1,seqs_per_slice=150", "version=3.1,archive"} {
			name := fmt.Sprintf("idx%d.%d.cram", k, i)
			t.Run(name+"/"+p, func(t *testing.T) {
				c := makeCRAM(t, dir, in.sam, in.ref, name, p)
				theirs := c + ".crai"
				testutil.Run(t, "samtools", "index", c)
				ours := filepath.Join(dir, name+".ours.crai")
				buildCRAI(t, c, in.ref, ours)
				if got, want := testutil.Gunzip(t, ours), testutil.Gunzip(t, theirs); !bytes.Equal(got, want) {
					t.Errorf("CRAI differs from samtools index:\n got\n%s\n want\n%s", got, want)
				}
				for _, reg := range regions {
					got := testutil.Run(t, "samtools", "view", "-T", in.ref, "-X", c, ours, reg)
					want := testutil.Run(t, "samtools", "view", "-T", in.ref, "-X", c, theirs, reg)
					if !bytes.Equal(got, want) {
						t.Errorf("region %s: %d bytes through our index, %d through samtools'", reg, len(got), len(want))
					}
				}
			})
		}
	}
}
