package analyze

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/format/cram"
	"github.com/seqstore/seqstore/internal/format/cram/crai"
	"github.com/seqstore/seqstore/internal/format/panics"
	"github.com/seqstore/seqstore/internal/format/sam"
)

// CRAMNamePrefix starts the names htslib generates for reads a CRAM stores
// without one. htslib uses the file's base name, which a stream does not
// have; "-" is what samtools uses when it reads the CRAM from its standard
// input, the nearest match for an upload.
const CRAMNamePrefix = "-"

// CRAM analyses a CRAM 3.0 or 3.1 source in one pass: it decodes every
// record against ref (which may be nil for files that need no reference),
// renders each as `samtools view -T ref` prints it and hashes that text (the
// CRAM_*up ETag), counts primary records and their bases, and, when the
// header says the file is coordinate-sorted and its slices are in order,
// writes a CRAI to index (nil skips it). Containers decode on two
// goroutines; rendering and hashing run beside them. All have ended when
// CRAM returns, whatever it returns, so nothing reads src after; a panic
// on any of them comes back as a *panics.Error. What the reader buffers
// and how much it may decompress are bounded by lim.
func CRAM(ctx context.Context, src io.Reader, ref cram.ReferenceSource, index io.Writer, families []etag.Family, lim Limits) (_ *Result, err error) {
	defer panics.Recover(&err)
	counted := &byteCounter{r: src}
	br := bufio.NewReaderSize(counted, 1<<20)
	if head, _ := br.Peek(4); string(head) != "CRAM" {
		return nil, Errorf("source1", "byte offset 0", "%s", notCRAM(head))
	}
	var entries []crai.Entry
	opt := lim.cram()
	if index != nil {
		opt.Index = func(e crai.Entry) { entries = append(entries, e) }
	}
	rd, err := cram.NewReaderOptions(br, ref, opt)
	if err != nil {
		return nil, cramError(err)
	}
	defer rd.Close()
	hdr := rd.Header()

	hashing, text := startHashing(etag.NewHasher(families...), textBuffers, textChunk)
	// Also on a panic of this goroutine, so that hashing ends then too.
	defer hashing.stop()
	res := &Result{FileType: FileTypeCRAM, Alignment: Unaligned, Header: hdr}
	var stats *recordStats
	if wantQC(ctx) {
		stats = newRecordStats(hdr)
		// Also on failure or a panic, so that its goroutine ends.
		defer stats.stop()
	}
	records := recordCounter(ctx)
	var rec sam.Record
	for n := 0; ; n++ {
		if n > 0 && n%progressStride == 0 {
			records.Add(progressStride)
		}
		if n&1023 == 0 && ctx.Err() != nil {
			return nil, hashing.fail(ctx.Err())
		}
		err := rd.Read(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, hashing.fail(cramError(err))
		}
		if err := lim.checkDecompressed(rd.Inflated()); err != nil {
			return nil, hashing.fail(Errorf("source1", fmt.Sprintf("record %d", rd.Records()), "%v", err))
		}
		if rec.Flag&sam.FlagUnmapped == 0 {
			res.Alignment = Aligned
		}
		if rec.IsPrimary() {
			res.ReadCount++
			res.BaseCount += int64(len(rec.Seq))
		}
		stats.add(&rec)
		if len(families) == 0 {
			continue // no ETag asked for, no text to render
		}
		text, err = sam.AppendText(text, &rec, hdr.References)
		if err != nil {
			return nil, hashing.fail(Errorf("source1", fmt.Sprintf("record %d", rd.Records()), "%v", err))
		}
		if len(text) >= textChunk {
			if text, err = hashing.hand(text); err != nil {
				return nil, hashing.fail(err)
			}
		}
	}
	if res.ETags, err = hashing.finish(text, families); err != nil {
		return nil, err
	}
	res.Sources = closeSource(rd, counted)
	if res.QC, err = stats.report(FileTypeCRAM); err != nil {
		return nil, err
	}
	if index != nil && cramCoordinateSorted(hdr.Text) && craiSorted(entries) {
		w := crai.NewWriter(index)
		for _, e := range entries {
			if err := w.Add(e); err != nil {
				return nil, err
			}
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		res.Indexed = true
	}
	return res, nil
}

// cramCoordinateSorted reports whether the @HD line says SO:coordinate.
func cramCoordinateSorted(text string) bool {
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	return strings.HasPrefix(text, "@HD") && strings.Contains(text, "\tSO:coordinate")
}

// craiSorted reports whether the slices are in coordinate order, which a
// CRAI needs (samtools index refuses other files): within a reference the
// starts never go back, and unmapped slices (-1) come last.
func craiSorted(entries []crai.Entry) bool {
	if len(entries) == 0 {
		return false
	}
	seen := map[int32]bool{}
	last := entries[0]
	for i, e := range entries {
		if i > 0 && e.RefID == last.RefID && e.Start < last.Start {
			return false
		}
		if i > 0 && e.RefID != last.RefID {
			if seen[e.RefID] || last.RefID == -1 {
				return false
			}
		}
		seen[e.RefID] = true
		last = e
	}
	return true
}

// cramError turns a decoding error into an analysis error.
func cramError(err error) error {
	if isPanic(err) {
		return err
	}
	var ce *cram.Error
	if errors.As(err, &ce) {
		return Errorf("source1", ce.Where(), "%s", ce.Msg)
	}
	return Errorf("source1", "", "%v", err)
}

// notCRAM says what a source that should be CRAM looks like instead.
func notCRAM(head []byte) string {
	switch {
	case len(head) == 0:
		return "the file is empty"
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return "this is gzip or BGZF (BAM?), not CRAM: a BAM upload needs sourceFileType BAM"
	case head[0] == '@':
		return "this is FASTQ or SAM text, not CRAM"
	}
	return "this is not CRAM: it does not start with \"CRAM\""
}
