package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/seqstore/seqstore/internal/analyze"
	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/format/fasta"
)

// analyzeLocal reads local files the way ingestion reads a read set's
// sources: one FASTQ or a pair of them, a BAM, or a CRAM decoded against its
// FASTA reference. `seqstore inspect` and the check before an upload both
// come here, so they find the same defects. An empty fileType takes the
// type from the content, and a BAM whose reads are all unmapped is then
// reported as UBAM; a fileType that the content contradicts is an error.
// watch, if not nil, wraps the reader of each file, to follow the reading.
func analyzeLocal(ctx context.Context, paths []string, fileType, reference string, families []etag.Family, limits analyze.Limits, watch func(i int, r io.Reader) io.Reader) (*analyze.Result, error) {
	if len(paths) == 0 || len(paths) > 2 {
		return nil, fmt.Errorf("a read set has one source, or two for paired FASTQ; got %d files", len(paths))
	}
	var sources []io.Reader
	var kinds []string
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		var r io.Reader = f
		if watch != nil {
			r = watch(len(sources), f)
		}
		br := bufio.NewReaderSize(r, 1<<20)
		sources = append(sources, br)
		kinds = append(kinds, analyze.Detect(br))
	}
	kind := kinds[0]
	if len(paths) == 2 {
		for i, k := range kinds {
			if k != analyze.FileTypeFASTQ {
				return nil, fmt.Errorf("%s holds %s: only FASTQ files come in pairs", paths[i], k)
			}
		}
	}
	if fileType != "" && fileType != kind && !(fileType == analyze.FileTypeUBAM && kind == analyze.FileTypeBAM) {
		return nil, fmt.Errorf("%s holds %s, not %s", paths[0], kind, fileType)
	}
	switch kind {
	case analyze.FileTypeBAM:
		as := analyze.FileTypeBAM
		if fileType != "" {
			as = fileType
		}
		r, err := analyze.BAM(ctx, sources[0], as, io.Discard, families, limits)
		if err == nil && fileType == "" && r.Alignment == analyze.Unaligned {
			r.FileType = analyze.FileTypeUBAM
			if r.QC != nil {
				r.QC.FileType = r.FileType
			}
		}
		return r, err
	case analyze.FileTypeCRAM:
		if reference == "" {
			return nil, fmt.Errorf("this is CRAM: give its FASTA reference with -reference")
		}
		ref, err := fasta.Open(reference)
		if err != nil {
			return nil, err
		}
		return analyze.CRAM(ctx, sources[0], ref, io.Discard, families, limits)
	default:
		return analyze.FASTQ(ctx, sources, nil, families, limits)
	}
}
