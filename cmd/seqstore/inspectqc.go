package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"

	"github.com/seqstore/seqstore/internal/qc"
)

// qcReport is the member qc of what `seqstore inspect -qc` prints: the
// read statistics of a FASTQ or of a BAM's or CRAM's primary records, and
// a BAM's or CRAM's alignment statistics, computed in the pass that checks
// the file.
type qcReport struct {
	Reads      *qc.ReadsReport      `json:"reads,omitempty"`
	Alignments *qc.AlignmentsReport `json:"alignments,omitempty"`
}

// qcOf is the member qc of one file: its one source's read statistics
// and, for a BAM or CRAM, its alignment statistics.
func qcOf(rep *qc.Report) *qcReport {
	out := &qcReport{Alignments: rep.Alignments}
	if len(rep.Sources) > 0 {
		out.Reads = rep.Sources[0].Reads
	}
	return out
}

// sampleName is the file's name without the extensions FastQC drops, so
// that MultiQC names the sample alike whichever tool wrote the report.
func sampleName(path string) string {
	name := filepath.Base(path)
	for _, ext := range qcSampleExtensions {
		name = strings.TrimSuffix(name, ext)
	}
	return name
}

func writeQCFile(path string, write func(*bufio.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := write(w); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
