package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"
	"golang.org/x/sync/errgroup"
)

// DownloadInput names what to download and where to.
type DownloadInput struct {
	StoreID   string
	ReadSetID string
	// Files to fetch (SOURCE1, SOURCE2, INDEX); none means every file the
	// read set has.
	Files []types.ReadSetFile
	// Dir is the directory the files are written to ("" for the current
	// one).
	Dir string
	// Overwrite replaces files that exist; without it they are an error.
	Overwrite bool
	// SkipETag leaves out the ETag check, which costs inflating and hashing
	// the whole file (about two CPU seconds per GiB of FASTQ); the length
	// is still checked.
	SkipETag bool
}

// DownloadedFile is one file written.
type DownloadedFile struct {
	File string `json:"file"` // SOURCE1, SOURCE2 or INDEX
	Path string `json:"path"`
	Size int64  `json:"size"`
	// ETag is the ETag the file's content was found to have, equal to the
	// read set's; empty when there was none to check (an index, a CRAM).
	ETag string `json:"etag,omitempty"`
	// Algorithm is the ETag's algorithm, such as FASTQ_MD5up.
	Algorithm string `json:"algorithm,omitempty"`
}

// DownloadResult lists the files a download wrote.
type DownloadResult struct {
	ReadSetID string           `json:"readSetId"`
	Files     []DownloadedFile `json:"files"`
}

// copyBuffer is how much of a part is read from the connection and written
// to the file at a time: larger writes mean fewer system calls.
const copyBuffer = 256 << 10

// partReadAttempts is how often a part whose body broke off is fetched.
const partReadAttempts = 3

// Download fetches a read set's files, several parts at once, each written
// at its offset. Every file must come to its contentLength, and a FASTQ or
// BAM source must hash, as it streams in, to the read set's ETag. A file is
// written under a temporary name and renamed to the name HealthOmics gives
// it (the last element of its S3 URI) only once it has been verified; a
// failed download leaves nothing behind.
func (c *Client) Download(ctx context.Context, in DownloadInput) (*DownloadResult, error) {
	md, err := c.API.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(in.StoreID), Id: aws.String(in.ReadSetID)})
	if err != nil {
		return nil, fmt.Errorf("reading read set %s: %w", in.ReadSetID, err)
	}
	switch st := readSetState(md.Status, md.StatusMessage); {
	case !st.Settled:
		return nil, fmt.Errorf("read set %s is %s: wait for it to be ACTIVE (seqstore wait) and download it then", in.ReadSetID, st.Status)
	case st.Failed:
		return nil, fmt.Errorf("read set %s is %s%s: only ACTIVE read sets can be downloaded", in.ReadSetID, st.Status, messageSuffix(st.Message))
	}
	files := in.Files
	if len(files) == 0 {
		files = []types.ReadSetFile{types.ReadSetFileSource1}
		if md.Files != nil && md.Files.Source2 != nil {
			files = append(files, types.ReadSetFileSource2)
		}
		if md.Files != nil && md.Files.Index != nil {
			files = append(files, types.ReadSetFileIndex)
		}
	}
	if in.Dir != "" {
		// As cp and aws s3 cp do, the directory a download goes to is
		// made when it is missing.
		if err := os.MkdirAll(in.Dir, 0o777); err != nil {
			return nil, fmt.Errorf("making the output directory: %w", err)
		}
	}
	var dls []*fileDownload
	defer func() {
		for _, d := range dls {
			d.abandon()
		}
	}()
	for _, f := range files {
		d, err := c.prepareFile(md, f, in)
		if err != nil {
			return nil, err
		}
		dls = append(dls, d)
	}

	if err := c.fetchFiles(ctx, in, dls); err != nil {
		return nil, err
	}

	res := &DownloadResult{ReadSetID: in.ReadSetID}
	for _, d := range dls {
		if err := d.finish(); err != nil {
			return nil, err
		}
		res.Files = append(res.Files, DownloadedFile{File: string(d.file), Path: d.target, Size: d.size, ETag: d.etag, Algorithm: d.algorithm})
		how := "length checked"
		if d.algorithm != "" {
			how = d.algorithm + " " + d.etag + " verified"
		}
		c.Emit(Event{Kind: EventFileDone, File: d.label, Path: d.target, Message: how})
	}
	return res, nil
}

// fetchFiles fetches every part of the files, several at once, while a
// verifier per file follows its content as it lands. The first failure,
// of a part or of a verification, stops everything.
func (c *Client) fetchFiles(ctx context.Context, in DownloadInput, dls []*fileDownload) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var verifiers sync.WaitGroup
	for _, d := range dls {
		c.Emit(Event{Kind: EventFileStart, File: d.label, Path: d.target, Size: d.size, Parts: d.parts})
		if d.algorithm == "" {
			continue
		}
		verifiers.Add(1)
		go func() {
			defer verifiers.Done()
			if err := d.verify(ctx); err != nil {
				cancel(err)
			}
		}()
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.concurrency())
queue:
	for _, d := range dls {
		for n := 1; n <= d.parts; n++ {
			if gctx.Err() != nil {
				break queue
			}
			g.Go(func() error {
				if err := c.fetchPart(gctx, in.StoreID, in.ReadSetID, d, n); err != nil {
					return err
				}
				d.arrived.add(n)
				_, length := d.part(n)
				c.Emit(Event{Kind: EventPartDone, File: d.label, Part: n, Parts: d.parts, Bytes: length})
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		cancel(err)
	}
	cause := context.Cause(ctx)
	if cause != nil {
		// Verifiers waiting for parts that will not come stop here.
		for _, d := range dls {
			d.arrived.fail(cause)
		}
	}
	verifiers.Wait()
	if cause == nil {
		// A verifier may have failed after the last part landed.
		cause = context.Cause(ctx)
	}
	if errors.Is(cause, context.Canceled) {
		return errors.New("interrupted: no file was written")
	}
	return cause

}

func messageSuffix(msg string) string {
	if msg == "" {
		return ""
	}
	return " (" + msg + ")"
}

// fileDownload is one file on its way to disk.
type fileDownload struct {
	file     types.ReadSetFile
	label    string // "source1", as events name it
	fileType types.FileType
	target   string // the final path
	tmp      *os.File
	layout
	arrived *arrivals
	// algorithm and want are the ETag to verify against, if any; etag is
	// what the content hashed to.
	algorithm string
	want      string
	etag      string
}

// prepareFile checks what the metadata says of a file and opens its
// temporary copy.
func (c *Client) prepareFile(md *omics.GetReadSetMetadataOutput, file types.ReadSetFile, in DownloadInput) (*fileDownload, error) {
	var info *types.FileInformation
	var want *string
	if md.Files != nil {
		switch file {
		case types.ReadSetFileSource1:
			info = md.Files.Source1
		case types.ReadSetFileSource2:
			info = md.Files.Source2
		case types.ReadSetFileIndex:
			info = md.Files.Index
		}
	}
	if md.Etag != nil {
		switch file {
		case types.ReadSetFileSource1:
			want = md.Etag.Source1
		case types.ReadSetFileSource2:
			want = md.Etag.Source2
		}
	}
	if info == nil {
		return nil, fmt.Errorf("read set %s has no %s file", in.ReadSetID, file)
	}
	size, partSize, totalParts := aws.ToInt64(info.ContentLength), aws.ToInt64(info.PartSize), int(aws.ToInt32(info.TotalParts))
	// The parts are counted before anything is sized by them: a file has at
	// most 10,000 parts, as a source has in an upload.
	if size <= 0 || partSize <= 0 || totalParts > maxParts || totalParts != newLayout(size, partSize).parts {
		return nil, fmt.Errorf("read set %s: the metadata of %s does not add up (contentLength %d, partSize %d, totalParts %d)", in.ReadSetID, file, size, partSize, totalParts)
	}
	d := &fileDownload{
		file:     file,
		label:    strings.ToLower(string(file)),
		fileType: md.FileType,
		layout:   newLayout(size, partSize),
	}
	if want != nil && *want != "" && etagVerifiable(md.FileType) && !in.SkipETag {
		d.algorithm, d.want = string(md.Etag.Algorithm), *want
	}
	d.target = filepath.Join(in.Dir, fileName(md, file, info))
	if _, err := os.Lstat(d.target); err == nil && !in.Overwrite {
		return nil, fmt.Errorf("%s exists: remove it, or download with -force to replace it", d.target)
	}
	// Not os.CreateTemp: its files are private, and the finished file
	// should get the permissions any new file gets.
	tmpName := filepath.Join(filepath.Dir(d.target), fmt.Sprintf(".%s.%x.partial", filepath.Base(d.target), rand.Uint64()))
	tmp, err := os.OpenFile(tmpName, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return nil, err
	}
	d.tmp = tmp
	if err := tmp.Truncate(d.size); err != nil {
		d.abandon()
		return nil, err
	}
	d.arrived = newArrivals(d.layout)
	return d, nil
}

// fileName is the name HealthOmics gives a file: the last element of its
// S3 URI, such as sample_source1.fastq.gz. Without one it is made up from
// the read set's ID, the file and the type.
func fileName(md *omics.GetReadSetMetadataOutput, file types.ReadSetFile, info *types.FileInformation) string {
	if info.S3Access != nil {
		uri := aws.ToString(info.S3Access.S3Uri)
		name := uri[strings.LastIndexByte(uri, '/')+1:]
		if name != "" && name != "." && name != ".." && !strings.ContainsRune(name, '\\') {
			return name
		}
	}
	ext := map[types.FileType]string{types.FileTypeFastq: ".fastq.gz", types.FileTypeBam: ".bam", types.FileTypeUbam: ".bam", types.FileTypeCram: ".cram"}[md.FileType]
	if file == types.ReadSetFileIndex {
		ext = map[types.FileType]string{types.FileTypeBam: ".bam.bai", types.FileTypeCram: ".cram.crai"}[md.FileType]
	}
	return aws.ToString(md.Id) + "_" + strings.ToLower(string(file)) + ext
}

// fetchPart writes part n of a file at its offset.
func (c *Client) fetchPart(ctx context.Context, storeID, readSetID string, d *fileDownload, n int) error {
	off, want := d.part(n)
	for attempt := 1; ; attempt++ {
		out, err := c.API.GetReadSet(ctx, &omics.GetReadSetInput{
			SequenceStoreId: aws.String(storeID),
			Id:              aws.String(readSetID),
			File:            d.file,
			PartNumber:      aws.Int32(int32(n)),
		})
		if err != nil {
			return fmt.Errorf("fetching part %d of %s: %w", n, d.label, err)
		}
		var written int64
		w := &countingWriter{w: io.NewOffsetWriter(d.tmp, off), add: func(b int64) {
			written += b
			d.arrived.wrote(n-1, written)
			c.Emit(Event{Kind: EventBytes, File: d.label, Bytes: b})
		}}
		got, err := io.CopyBuffer(w, io.LimitReader(out.Payload, want), make([]byte, copyBuffer))
		if err == nil && got == want {
			// A byte more would be a part longer than the metadata says.
			if n, _ := out.Payload.Read(make([]byte, 1)); n > 0 {
				got++
			}
		}
		out.Payload.Close()
		if err == nil && got != want {
			return fmt.Errorf("part %d of %s holds %d bytes, but the metadata (contentLength %d, partSize %d) says %d", n, d.label, got, d.size, d.partSize, want)
		}
		if err == nil {
			return nil
		}
		c.Emit(Event{Kind: EventBytes, File: d.label, Bytes: -got})
		if ctx.Err() != nil || attempt == partReadAttempts || errors.Is(err, errWrite) {
			return fmt.Errorf("fetching part %d of %s: %w", n, d.label, err)
		}
		c.step("part %d of %s broke off after %d bytes (%v); fetching it again", n, d.label, got, err)
	}
}

// errWrite marks a failure to write the local file, which fetching again
// would not cure.
var errWrite = errors.New("writing the local file")

type countingWriter struct {
	w   io.Writer
	add func(int64)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if n > 0 {
		c.add(int64(n))
	}
	if err != nil {
		err = fmt.Errorf("%w: %w", errWrite, err)
	}
	return n, err
}

// verify hashes the file's content as its parts arrive, in order, and
// compares it with the read set's ETag.
func (d *fileDownload) verify(ctx context.Context) error {
	got, err := contentETag(ctx, d.fileType, d.algorithm, &prefixReader{f: d.tmp, a: d.arrived})
	if err != nil {
		if context.Cause(ctx) != nil {
			return nil // the download failed; its error is the one to report
		}
		return fmt.Errorf("%s of read set is damaged: %w", d.label, err)
	}
	if got != d.want {
		return fmt.Errorf("%s: the downloaded content hashes to %s, but the read set's ETag (%s) is %s: the copy is damaged", d.label, got, d.algorithm, d.want)
	}
	d.etag = got
	return nil
}

// finish makes the verified copy durable under its final name.
func (d *fileDownload) finish() error {
	if err := d.tmp.Sync(); err != nil {
		return err
	}
	if err := d.tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(d.tmp.Name(), d.target); err != nil {
		return err
	}
	d.tmp = nil
	return nil
}

// abandon removes the temporary copy of a file that was not finished.
func (d *fileDownload) abandon() {
	if d.tmp != nil {
		d.tmp.Close()
		os.Remove(d.tmp.Name())
		d.tmp = nil
	}
}

// arrivals follows how much of each part of a file is on disk, so that a
// reader can read the file in order while the parts land out of order.
// Each part is written front to back, so what is on disk of a part is a
// prefix of it.
type arrivals struct {
	layout
	mu      sync.Mutex
	cond    *sync.Cond
	written []int64 // bytes on disk from the start of each part
	next    int     // parts before next (0-based) are complete
	prefix  int64   // bytes on disk from the start of the file
	err     error
}

func newArrivals(l layout) *arrivals {
	a := &arrivals{layout: l, written: make([]int64, l.parts)}
	a.cond = sync.NewCond(&a.mu)
	return a
}

// partLength is the length of part i (0-based).
func (a *arrivals) partLength(i int) int64 {
	_, length := a.part(i + 1)
	return length
}

// wrote records that the first n bytes of part i (0-based) are on disk. A
// part fetched again rewrites the same bytes, so n never goes back.
func (a *arrivals) wrote(i int, n int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n <= a.written[i] {
		return
	}
	a.written[i] = n
	for a.next < len(a.written) && a.written[a.next] == a.partLength(a.next) {
		a.next++
	}
	a.prefix = int64(a.next) * a.partSize
	if a.next < len(a.written) {
		a.prefix += a.written[a.next]
	}
	a.prefix = min(a.prefix, a.size)
	a.cond.Broadcast()
}

// add records that part n (1-based) is on disk whole.
func (a *arrivals) add(n int) { a.wrote(n-1, a.partLength(n-1)) }

// fail wakes readers with err (if nothing else ended them first).
func (a *arrivals) fail(err error) {
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err == nil {
		a.err = err
	}
	a.cond.Broadcast()
}

// readable blocks until the byte at off is on disk and returns how many
// bytes from off are.
func (a *arrivals) readable(off int64) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.prefix <= off && a.err == nil {
		a.cond.Wait()
	}
	if a.prefix > off {
		return a.prefix - off, nil
	}
	return 0, a.err
}

// prefixReader reads a file being downloaded from the start, waiting for
// parts that have not landed yet.
type prefixReader struct {
	f   *os.File
	a   *arrivals
	off int64
}

func (r *prefixReader) Read(p []byte) (int, error) {
	if r.off >= r.a.size {
		return 0, io.EOF
	}
	avail, err := r.a.readable(r.off)
	if err != nil {
		return 0, err
	}
	n, err := r.f.ReadAt(p[:min(int64(len(p)), avail)], r.off)
	r.off += int64(n)
	if err == io.EOF && r.off < r.a.size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
