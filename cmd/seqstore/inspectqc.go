package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/seqstore/seqstore/internal/analyze"
	"github.com/seqstore/seqstore/internal/qc"
)

// qcReport is the member qc of what `seqstore inspect -qc` prints: the
// read statistics of a FASTQ or of a BAM's primary records, and a BAM's
// alignment statistics.
type qcReport struct {
	Reads      *qc.ReadsReport      `json:"reads,omitempty"`
	Alignments *qc.AlignmentsReport `json:"alignments,omitempty"`
}

// inspectQC reads path again for its quality-control statistics, returns
// them and, when outDir is not empty, writes them there as FastQC's
// NAME_fastqc/fastqc_data.txt (FASTQ, unaligned BAM), samtools
// flagstat's NAME.flagstat and the SN lines of samtools stats' NAME.stats
// (BAM), the layouts MultiQC looks for.
func inspectQC(ctx context.Context, path, fileType, outDir string) (*qcReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	name := sampleName(path)
	var rep qcReport
	switch fileType {
	case analyze.FileTypeFASTQ:
		reads, err := qc.ScanFASTQ(ctx, bufio.NewReaderSize(f, 1<<20))
		if err != nil {
			return nil, err
		}
		rep.Reads = reads.Report()
		if outDir != "" {
			err := writeQCFile(filepath.Join(outDir, name+"_fastqc", "fastqc_data.txt"), func(w *bufio.Writer) error {
				return qc.WriteFastQC(w, filepath.Base(path), reads)
			})
			if err != nil {
				return nil, err
			}
		}
	case analyze.FileTypeBAM, analyze.FileTypeUBAM:
		reads, alignments, err := qc.ScanBAM(ctx, bufio.NewReaderSize(f, 1<<20))
		if err != nil {
			return nil, err
		}
		rep.Reads, rep.Alignments = reads.Report(), alignments.Report()
		if outDir != "" {
			err := writeQCFile(filepath.Join(outDir, name+".flagstat"), func(w *bufio.Writer) error {
				return qc.WriteFlagstat(w, alignments)
			})
			if err == nil {
				err = writeQCFile(filepath.Join(outDir, name+".stats"), func(w *bufio.Writer) error {
					return qc.WriteStatsSN(w, alignments)
				})
			}
			// FastQC reads an unaligned BAM as it reads FASTQ (and
			// reverse-complements the reverse-strand reads of an aligned
			// one, which Reads does not).
			if err == nil && fileType == analyze.FileTypeUBAM {
				err = writeQCFile(filepath.Join(outDir, name+"_fastqc", "fastqc_data.txt"), func(w *bufio.Writer) error {
					return qc.WriteFastQC(w, filepath.Base(path), reads)
				})
			}
			if err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("quality control of %s files is not available yet; for a CRAM, convert it to BAM (samtools view -b) and inspect that", fileType)
	}
	return &rep, nil
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
