package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/seqstore/seqstore/internal/qc"
	"github.com/seqstore/seqstore/internal/transfer"
)

const qcUsage = `Usage: seqstore qc -store ID [-o DIR] READSET

Prints the quality-control report a seqstore server computed for a read
set as it ingested it (JSON). With -o, writes it instead in the layouts
MultiQC reads, so that "multiqc DIR" reports every read set fetched into
DIR: FastQC's NAME_fastqc/fastqc_data.txt for each FASTQ source (and an
unaligned BAM), and samtools' NAME.stats and NAME.flagstat for a BAM or
CRAM. NAME is the stored file's name without its extensions.

Flags:
`

func runQC(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cf := newClientCommand("qc", qcUsage, stderr)
	store := sequenceStoreFlag(fs)
	dir := fs.String("o", "", "`directory` to write MultiQC's layouts to (default: print the JSON)")
	ids, err := parseArgs(fs, args)
	if err != nil {
		return helpRequested(err)
	}
	if len(ids) != 1 || *store == "" {
		fs.Usage()
		return errors.New("qc takes -store and one read set ID")
	}
	c, err := cf.quietClient(ctx, 1)
	if err != nil {
		return err
	}
	body, err := transfer.ReadSetQC(ctx, c.API, *store, ids[0])
	if err != nil {
		return err
	}
	if *dir == "" {
		_, err := stdout.Write(append(body, '\n'))
		return err
	}
	var rep qc.Report
	if err := json.Unmarshal(body, &rep); err != nil {
		return fmt.Errorf("the server's QC report is not what this seqstore reads: %w", err)
	}
	paths, err := writeQCLayouts(*dir, &rep, ids[0])
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(stdout, map[string]any{"files": paths})
	}
	for _, p := range paths {
		fmt.Fprintln(stdout, p)
	}
	return nil
}

// writeQCLayouts writes a read set's report into dir as the tools MultiQC
// reads write theirs, and returns the files written. Sources without a
// file name are named after fallback and the source.
func writeQCLayouts(dir string, rep *qc.Report, fallback string) ([]string, error) {
	var paths []string
	write := func(path string, fn func(w *bufio.Writer) error) error {
		paths = append(paths, path)
		return writeQCFile(path, fn)
	}
	names := make([]string, len(rep.Sources))
	for i, src := range rep.Sources {
		names[i] = sampleName(src.FileName)
		if src.FileName == "" {
			names[i] = fallback + "_" + src.Source
		}
	}
	if a := rep.Alignments; a != nil && len(names) > 0 {
		if err := write(filepath.Join(dir, names[0]+".stats"), func(w *bufio.Writer) error { return qc.WriteStatsSNReport(w, a) }); err != nil {
			return nil, err
		}
		if err := write(filepath.Join(dir, names[0]+".flagstat"), func(w *bufio.Writer) error { return qc.WriteFlagstatReport(w, a) }); err != nil {
			return nil, err
		}
	}
	// FastQC reads an unaligned BAM as it reads FASTQ (and
	// reverse-complements the reverse-strand reads of an aligned one,
	// which the report does not).
	if rep.FileType != "FASTQ" && rep.FileType != "UBAM" {
		return paths, nil
	}
	for i, src := range rep.Sources {
		if src.Reads == nil {
			continue
		}
		fileName := src.FileName
		if fileName == "" {
			fileName = names[i]
		}
		err := write(filepath.Join(dir, names[i]+"_fastqc", "fastqc_data.txt"), func(w *bufio.Writer) error {
			return qc.WriteFastQCReport(w, fileName, src.Reads)
		})
		if err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// qcSampleExtensions are the extensions sampleName drops.
var qcSampleExtensions = []string{".gz", ".bz2", ".txt", ".fastq", ".fq", ".sam", ".bam", ".cram"}
