package analyze

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/format/bai"
	"github.com/seqstore/seqstore/internal/format/bam"
	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/format/panics"
	"github.com/seqstore/seqstore/internal/format/sam"
)

// BAM analyses a BAM (fileType BAM) or unaligned BAM (UBAM) source in one
// streaming pass: it validates every record, renders each as `samtools
// view` prints it and hashes that text (the BAM_*up ETag, over every record,
// secondary and supplementary included), counts primary records and their
// bases, and, for a BAM whose header says SO:coordinate, builds a BAI and
// writes it to index (nil skips it). A UBAM must hold only unmapped records.
//
// Work runs on three stages at once: BGZF blocks inflate on every CPU,
// records are decoded and rendered on the calling goroutine, and the text
// is hashed on another. All have ended when BAM returns, whatever it
// returns, so nothing reads src after; a panic on any of them comes back
// as a *panics.Error. What the reader buffers and how much it may
// decompress are bounded by lim.
func BAM(ctx context.Context, src io.Reader, fileType string, index io.Writer, families []etag.Family, lim Limits) (_ *Result, err error) {
	defer panics.Recover(&err)
	if fileType != FileTypeBAM && fileType != FileTypeUBAM {
		return nil, fmt.Errorf("analyze.BAM: file type %q is neither BAM nor UBAM", fileType)
	}
	counted := &byteCounter{r: src}
	rd, err := bam.NewReaderOptions(counted, lim.bam())
	if err != nil {
		return nil, bamError(err)
	}
	defer rd.Close()
	hdr := rd.Header()
	var idx *bai.Builder
	// A uBAM's reads are all unplaced, so an index of it could find
	// nothing; only aligned BAMs get one.
	if index != nil && fileType == FileTypeBAM && hdr.SortOrder() == "coordinate" {
		idx = bai.NewBuilder(hdr.References)
	}

	hashing, text := startHashing(etag.NewHasher(families...), textBuffers, textChunk)
	// Also on a panic of this goroutine, so that hashing ends then too.
	defer hashing.stop()

	res := &Result{FileType: fileType, Alignment: Unaligned, Header: hdr}
	var stats *recordStats
	if wantQC(ctx) {
		stats = newRecordStats(hdr)
		// Also on failure or a panic, so that its goroutine ends.
		defer stats.stop()
	}
	records := recordCounter(ctx)
	var rec sam.Record
	for n := 1; ; n++ {
		if n > 0 && n%progressStride == 0 {
			records.Add(progressStride)
		}
		if n&4095 == 0 && ctx.Err() != nil {
			return nil, hashing.fail(ctx.Err())
		}
		err := rd.Read(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, hashing.fail(bamError(err))
		}
		if err := lim.checkDecompressed(rd.Inflated()); err != nil {
			return nil, hashing.fail(Errorf("source1", recordWhere(rd), "%v", err))
		}
		if rec.Flag&sam.FlagUnmapped == 0 {
			if fileType == FileTypeUBAM {
				return nil, hashing.fail(Errorf("source1", recordWhere(rd),
					"read %q is mapped (flag %d lacks 0x4), but an unaligned BAM holds only unmapped reads; upload it as BAM", rec.Name, rec.Flag))
			}
			res.Alignment = Aligned
		}
		if rec.IsPrimary() {
			res.ReadCount++
			res.BaseCount += int64(len(rec.Seq))
		}
		stats.add(&rec)
		if idx != nil {
			start, end := rd.Offsets()
			idx.Add(rec.RefID, int64(rec.Pos), rec.End(), rec.Flag&sam.FlagUnmapped != 0, start, end)
		}
		if len(families) == 0 {
			// No ETag asked for, no text to render: the reader has
			// checked the record already.
			continue
		}
		if text, err = sam.AppendText(text, &rec, hdr.References); err != nil {
			// The reader checked the tags; this is a defect in seqstore.
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
	if res.QC, err = stats.report(fileType); err != nil {
		return nil, err
	}
	if rd.Records() == 0 {
		return nil, Errorf("source1", "", "the BAM holds a header but no alignment records")
	}
	if idx != nil {
		switch err := idx.Err(); {
		case errors.Is(err, bai.ErrNotSorted):
			// The header promises an order the records do not keep: an
			// index built from it would answer queries wrongly.
			return nil, Errorf("source1", "", "the header says SO:coordinate but %v", err)
		case err != nil:
			// Too long for a BAI: the file is fine, it just goes unindexed.
		default:
			if err := idx.Write(index); err != nil {
				return nil, fmt.Errorf("writing the BAM index: %w", err)
			}
			res.Indexed = true
		}
	}
	return res, nil
}

// recordWhere says where the record just read is: its number and the
// offset of its BGZF block.
func recordWhere(rd *bam.Reader) string {
	start, _ := rd.Offsets()
	return fmt.Sprintf("record %d (BGZF block at byte %d)", rd.Records(), start.BlockOffset())
}

// bamError turns a defect found while reading into an analysis error that
// says where; a failure to read the source at all (an I/O error) is not the
// file's fault and passes through as it is.
func bamError(err error) error {
	if isPanic(err) {
		return err
	}
	var pe *bam.ParseError
	if errors.As(err, &pe) {
		if le := limitError("source1", pe.Where(), err); le != nil {
			return le
		}
	}
	var be *bgzf.BlockError
	if errors.As(err, &pe) && pe.Err != nil && !errors.Is(pe.Err, bam.ErrNotBAM) && !errors.Is(pe.Err, bam.ErrTruncated) && !errors.As(pe.Err, &be) {
		return fmt.Errorf("reading the BAM source: %w", pe.Err)
	}
	if errors.As(err, &pe) {
		if errors.Is(err, bam.ErrNotBAM) {
			msg := pe.Msg
			if len(msg) > 12 && msg[:12] == "this is CRAM" {
				msg += ": upload it with file type CRAM"
			}
			return Errorf("source1", "", "%s", msg)
		}
		return Errorf("source1", pe.Where(), "%s", pe.Msg)
	}
	return Errorf("source1", "", "%v", err)
}
