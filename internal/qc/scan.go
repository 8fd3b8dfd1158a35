package qc

import (
	"context"
	"fmt"
	"io"

	"github.com/seqstore/seqstore/internal/format/bam"
	"github.com/seqstore/seqstore/internal/format/compress"
	"github.com/seqstore/seqstore/internal/format/fastq"
	"github.com/seqstore/seqstore/internal/format/panics"
	"github.com/seqstore/seqstore/internal/format/sam"
)

// ScanFASTQ reads a FASTQ stream (plain, gzip or BGZF) to its end and
// returns its statistics. It is a pass of its own, which the tests hold
// the single pass of ingestion (package analyze) to; ingestion adds its
// records as it reads them.
func ScanFASTQ(ctx context.Context, src io.Reader) (_ *Reads, err error) {
	defer panics.Recover(&err)
	rc, _, err := compress.Open(src)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	rd := fastq.NewReader(rc)
	var reads Reads
	var rec fastq.Record
	for n := 1; ; n++ {
		if n&4095 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		switch err := rd.Read(&rec); {
		case err == io.EOF:
			return &reads, nil
		case err != nil:
			return nil, fmt.Errorf("reading the FASTQ: %w", err)
		}
		reads.AddFASTQ(rec.Seq, rec.Qual)
	}
}

// ScanBAM reads a BAM (aligned or not) to its end and returns the
// statistics of its primary records' sequences and those of all its
// records' alignments.
func ScanBAM(ctx context.Context, src io.Reader) (_ *Reads, _ *Alignments, err error) {
	defer panics.Recover(&err)
	rd, err := bam.NewReader(src)
	if err != nil {
		return nil, nil, err
	}
	defer rd.Close()
	var reads Reads
	var alignments Alignments
	var rec sam.Record
	for n := 1; ; n++ {
		if n&4095 == 0 && ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		switch err := rd.Read(&rec); {
		case err == io.EOF:
			return &reads, &alignments, nil
		case err != nil:
			return nil, nil, err
		}
		alignments.AddBAM(&rec)
		if rec.IsPrimary() {
			reads.AddPhred(rec.Seq, rec.Qual)
		}
	}
}
