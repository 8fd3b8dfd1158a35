package analyze

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/format/bai"
	"github.com/seqstore/seqstore/internal/format/bam"
	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/format/sam"
)

// hashChunk is how much SAM text is rendered before it is handed to the
// hashing goroutine.
const hashChunk = 256 << 10

// BAM analyses a BAM (fileType BAM) or unaligned BAM (UBAM) source in one
// pass: it validates every record, renders each as samtools view prints it
// and hashes that text (the BAM_*up ETag), counts primary records and their
// bases, and, when the header says the file is coordinate-sorted, writes a
// BAI to index (nil skips it). Inflating, decoding and hashing run on
// separate goroutines.
func BAM(ctx context.Context, src io.Reader, fileType string, index io.Writer, families []etag.Family) (*Result, error) {
	br := bufio.NewReaderSize(src, 1<<20)
	head, _ := br.Peek(18)
	if !bgzf.IsHeader(head) {
		return nil, Errorf("source1", "byte offset 0", "%s", notBGZF(head))
	}
	z := bgzf.NewReader(br)
	defer z.Close()
	rd, err := bam.NewReader(z)
	if err != nil {
		return nil, bamError(err)
	}
	hdr := rd.Header()
	sorted := strings.Contains(firstLine(hdr.Text), "SO:coordinate")
	var idx *bai.Builder
	if sorted && index != nil {
		idx = bai.NewBuilder(len(hdr.References))
	}

	hasher := etag.NewHasher(families...)
	chunks := make(chan []byte, 4)
	free := make(chan []byte, 4)
	for range 4 {
		free <- make([]byte, 0, hashChunk+64<<10)
	}
	hashed := make(chan struct{})
	go func() {
		defer close(hashed)
		for c := range chunks {
			hasher.Write(c)
			free <- c[:0]
		}
	}()
	res := &Result{FileType: fileType, Alignment: Unaligned}
	var rec sam.Record
	text := <-free
	fail := func(err error) (*Result, error) {
		close(chunks)
		<-hashed
		return nil, err
	}
	for n := 0; ; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			return fail(ctx.Err())
		}
		err := rd.Read(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(bamError(err))
		}
		mapped := rec.Flag&sam.FlagUnmapped == 0
		if mapped {
			if fileType == FileTypeUBAM {
				start, _ := rd.Offsets()
				return fail(Errorf("source1", fmt.Sprintf("record %d (BGZF block at byte %d)", rd.Records(), start.BlockOffset()),
					"read %q is mapped (flag %d lacks 0x4); an unaligned BAM must hold only unmapped reads: upload it as BAM with its reference", rec.Name, rec.Flag))
			}
			res.Alignment = Aligned
		}
		if rec.IsPrimary() {
			res.ReadCount++
			res.BaseCount += int64(len(rec.Seq))
		}
		if idx != nil {
			start, end := rd.Offsets()
			idx.Add(rec.RefID, int(rec.Pos), rec.End(), !mapped, start, end)
		}
		text, err = sam.AppendText(text, &rec, hdr.References)
		if err != nil {
			return fail(Errorf("source1", fmt.Sprintf("record %d", rd.Records()), "%v", err))
		}
		if len(text) >= hashChunk {
			chunks <- text
			text = <-free
		}
	}
	chunks <- text
	close(chunks)
	<-hashed
	if rd.Records() == 0 && fileType == FileTypeUBAM {
		return nil, Errorf("source1", "", "holds no records")
	}
	sums := hasher.Sums()
	res.ETags = map[etag.Family][]string{}
	for _, f := range families {
		res.ETags[f] = []string{sums[f]}
	}
	if idx != nil {
		if ok, _ := idx.Sorted(); ok {
			if _, err := idx.WriteTo(index); err != nil {
				return nil, err
			}
			res.Indexed = true
		}
	}
	return res, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// bamError turns a reading error into an analysis error.
func bamError(err error) error {
	var pe *bam.ParseError
	if errors.As(err, &pe) {
		where := "header"
		if pe.Record > 0 {
			where = fmt.Sprintf("record %d", pe.Record)
		}
		return Errorf("source1", fmt.Sprintf("%s (BGZF block at byte %d)", where, pe.Offset.BlockOffset()), "%s", pe.Msg)
	}
	var be *bgzf.BlockError
	if errors.As(err, &be) {
		return Errorf("source1", "", "%v", be)
	}
	return Errorf("source1", "", "%v", err)
}

// notBGZF says what a source that should be BAM looks like instead.
func notBGZF(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("CRAM")):
		return "this is CRAM, not BAM: upload it with sourceFileType CRAM"
	case bytes.HasPrefix(head, []byte("##fileformat=VCF")):
		return "this is VCF, not BAM"
	case len(head) > 0 && head[0] == '@':
		return "this is FASTQ or SAM text, not BAM"
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return "this is gzip but not BGZF, so it is not BAM (a gzipped FASTQ? upload it as FASTQ)"
	case len(head) == 0:
		return "the file is empty"
	}
	return "this is not BAM: it does not start with a BGZF block"
}
