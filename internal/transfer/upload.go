package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"
	"golang.org/x/sync/errgroup"
)

// UploadInput describes a read set to upload.
type UploadInput struct {
	StoreID       string
	FileType      types.FileType
	ReferenceArn  string
	Name          string
	SubjectID     string
	SampleID      string
	Description   string
	GeneratedFrom string
	// Files are the sources: one file, or the two mates of paired FASTQ.
	Files []string
}

// UploadResult says what an upload did.
type UploadResult struct {
	UploadID  string `json:"uploadId"`
	ReadSetID string `json:"readSetId"`
	// Resumed is set when an unfinished upload of the same files was
	// found and completed.
	Resumed bool `json:"resumed"`
	// PartsSent counts the parts sent by this run, PartsKept those an
	// earlier run had sent already.
	PartsSent int `json:"partsSent"`
	PartsKept int `json:"partsKept"`
	// PartsVerified counts the parts whose checksum from the server was
	// the SHA-256 of the local bytes. A server may answer with checksums
	// of another kind (the API calls them identifiers); such parts are
	// sent and completed but not counted here.
	PartsVerified int `json:"partsVerified"`
}

// source is one local file of an upload, cut into parts.
type source struct {
	label      string // "source1", as events and messages name it
	partSource types.ReadSetPartSource
	path       string
	f          *os.File
	layout
}

// localSum is the SHA-256 of part n as read from the file now.
func (s *source) localSum(n int) (string, error) {
	off, length := s.part(n)
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(s.f, off, length)); err != nil {
		return "", fmt.Errorf("reading %s: %w", s.path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// partSources names the sources of an upload in order: the first file is
// SOURCE1, the second (the mates of paired FASTQ) SOURCE2.
var partSources = []types.ReadSetPartSource{types.ReadSetPartSourceSource1, types.ReadSetPartSourceSource2}

// partKey names a part of an upload.
type partKey struct {
	source int // index into the sources
	number int
}

// Upload sends a read set's files through a multipart upload and completes
// it, returning the new read set's ID; ingestion then runs on the server
// (see Wait). An unfinished upload with the same store, name, subject,
// sample, type, reference, description and origin whose parts match the
// local files' bytes is resumed: only the parts it lacks are sent. A
// cancelled context stops the upload where it is, and running the same
// upload again carries on from there.
func (c *Client) Upload(ctx context.Context, in UploadInput) (*UploadResult, error) {
	if len(in.Files) == 0 || len(in.Files) > 2 {
		return nil, fmt.Errorf("an upload takes one file, or two for paired FASTQ; got %d", len(in.Files))
	}
	if len(in.Files) == 2 && in.FileType != types.FileTypeFastq {
		return nil, fmt.Errorf("two files make a read set only for paired FASTQ, not %s", in.FileType)
	}
	partSize := c.partSize()
	if partSize > MaxPartSize {
		return nil, fmt.Errorf("parts may be at most %d bytes (100 MiB), not %d", MaxPartSize, partSize)
	}
	sources := make([]*source, len(in.Files))
	for i, path := range in.Files {
		s, err := openSource(i, path, partSize)
		if err != nil {
			return nil, err
		}
		defer s.f.Close()
		sources[i] = s
	}

	res := &UploadResult{}
	kept, err := c.findUpload(ctx, in, sources, res)
	if err != nil {
		return nil, err
	}
	if res.UploadID == "" {
		up, err := c.API.CreateMultipartReadSetUpload(ctx, &omics.CreateMultipartReadSetUploadInput{
			SequenceStoreId: aws.String(in.StoreID),
			SourceFileType:  in.FileType,
			Name:            aws.String(in.Name),
			SubjectId:       aws.String(in.SubjectID),
			SampleId:        aws.String(in.SampleID),
			ReferenceArn:    optional(in.ReferenceArn),
			Description:     optional(in.Description),
			GeneratedFrom:   optional(in.GeneratedFrom),
		})
		if err != nil {
			return nil, fmt.Errorf("creating the upload: %w", err)
		}
		res.UploadID = aws.ToString(up.UploadId)
		c.step("created upload %s in store %s", res.UploadID, in.StoreID)
	}

	checksums, err := c.sendParts(ctx, in.StoreID, sources, kept, res)
	if err != nil {
		if ctx.Err() != nil {
			return res, fmt.Errorf("interrupted: upload %s keeps the %d parts sent so far; run the same command again to send the rest", res.UploadID, res.PartsKept+res.PartsSent)
		}
		return res, err
	}

	if res.ReadSetID, err = c.complete(ctx, in.StoreID, res.UploadID, sources, checksums); err != nil {
		return res, err
	}
	c.step("completed upload %s: read set %s", res.UploadID, res.ReadSetID)
	return res, nil
}

// complete ends the upload with every part, in order, and returns the new
// read set's ID.
func (c *Client) complete(ctx context.Context, storeID, uploadID string, sources []*source, checksums map[partKey]string) (string, error) {
	parts := make([]types.CompleteReadSetUploadPartListItem, 0, len(checksums))
	for key, sum := range checksums {
		parts = append(parts, types.CompleteReadSetUploadPartListItem{
			PartNumber: aws.Int32(int32(key.number)),
			PartSource: sources[key.source].partSource,
			Checksum:   aws.String(sum),
		})
	}
	sort.Slice(parts, func(i, j int) bool {
		if parts[i].PartSource != parts[j].PartSource {
			return parts[i].PartSource < parts[j].PartSource
		}
		return *parts[i].PartNumber < *parts[j].PartNumber
	})
	done, err := c.API.CompleteMultipartReadSetUpload(ctx, &omics.CompleteMultipartReadSetUploadInput{
		SequenceStoreId: aws.String(storeID),
		UploadId:        aws.String(uploadID),
		Parts:           parts,
	})
	if err != nil {
		return "", fmt.Errorf("completing upload %s: %w", uploadID, err)
	}
	return aws.ToString(done.ReadSetId), nil
}

func openSource(i int, path string, partSize int64) (*source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &source{
		label:      fmt.Sprintf("source%d", i+1),
		partSource: partSources[i],
		path:       path,
		f:          f,
		layout:     newLayout(st.Size(), partSize),
	}
	switch {
	case !st.Mode().IsRegular():
		err = fmt.Errorf("%s is not a regular file", path)
	case s.size == 0:
		err = fmt.Errorf("%s is empty", path)
	case s.parts > maxParts:
		err = fmt.Errorf("%s needs %d parts of %d bytes, more than the %d a source may have", path, s.parts, partSize, maxParts)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// findUpload looks for an unfinished upload of these files. It returns the
// parts that upload holds already, with the server's checksums, and sets
// res.UploadID when it found one.
func (c *Client) findUpload(ctx context.Context, in UploadInput, sources []*source, res *UploadResult) (map[partKey]string, error) {
	var candidates []types.MultipartReadSetUploadListItem
	pages := omics.NewListMultipartReadSetUploadsPaginator(c.API, &omics.ListMultipartReadSetUploadsInput{SequenceStoreId: aws.String(in.StoreID)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the store's unfinished uploads: %w", err)
		}
		for _, u := range page.Uploads {
			if sameUpload(u, in) {
				candidates = append(candidates, u)
			}
		}
	}
	// The newest first: a run interrupted twice left its parts there.
	sort.Slice(candidates, func(i, j int) bool {
		return aws.ToTime(candidates[i].CreationTime).After(aws.ToTime(candidates[j].CreationTime))
	})
	for _, u := range candidates {
		id := aws.ToString(u.UploadId)
		kept, ok, err := c.matchParts(ctx, in.StoreID, id, sources)
		if err != nil {
			return nil, err
		}
		if ok {
			res.UploadID, res.Resumed, res.PartsKept = id, true, len(kept)
			total := 0
			for _, s := range sources {
				total += s.parts
			}
			c.step("resuming upload %s: %d of %d parts are there already", id, len(kept), total)
			return kept, nil
		}
		c.step("unfinished upload %s has the same name but its parts are not these files' (other bytes, or another part size); leaving it alone", id)
	}
	return nil, nil
}

// sameUpload reports whether an unfinished upload was made with the same
// arguments.
func sameUpload(u types.MultipartReadSetUploadListItem, in UploadInput) bool {
	return u.SourceFileType == in.FileType &&
		aws.ToString(u.Name) == in.Name &&
		aws.ToString(u.SubjectId) == in.SubjectID &&
		aws.ToString(u.SampleId) == in.SampleID &&
		aws.ToString(u.ReferenceArn) == in.ReferenceArn &&
		aws.ToString(u.Description) == in.Description &&
		aws.ToString(u.GeneratedFrom) == in.GeneratedFrom
}

// matchParts lists an upload's parts and reports whether they are parts of
// the local files: each must exist locally with the same size and, where
// the server's checksum is a SHA-256, the same bytes. Parts whose checksum
// cannot be compared are left out of kept, so they are sent again.
func (c *Client) matchParts(ctx context.Context, storeID, uploadID string, sources []*source) (kept map[partKey]string, ok bool, err error) {
	kept = map[partKey]string{}
	for i, partSource := range partSources {
		pages := omics.NewListReadSetUploadPartsPaginator(c.API, &omics.ListReadSetUploadPartsInput{
			SequenceStoreId: aws.String(storeID),
			UploadId:        aws.String(uploadID),
			PartSource:      partSource,
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, false, fmt.Errorf("listing the parts of upload %s: %w", uploadID, err)
			}
			for _, p := range page.Parts {
				if i >= len(sources) {
					return nil, false, nil
				}
				s, n := sources[i], int(aws.ToInt32(p.PartNumber))
				if n < 1 || n > s.parts {
					return nil, false, nil
				}
				if _, length := s.part(n); aws.ToInt64(p.PartSize) != length {
					return nil, false, nil
				}
				remote := aws.ToString(p.Checksum)
				if !isSHA256(remote) {
					continue
				}
				local, err := s.localSum(n)
				if err != nil {
					return nil, false, err
				}
				if local != remote {
					return nil, false, nil
				}
				kept[partKey{i, n}] = remote
			}
		}
	}
	return kept, true, nil
}

// isSHA256 reports whether a checksum is written as seqstore writes part
// checksums: 64 lowercase hex digits.
func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// partAttempts is how often a part whose checksum came back wrong is sent
// before the upload gives up.
const partAttempts = 3

// sendParts sends every part not in kept, several at once, and returns the
// checksums of all parts.
func (c *Client) sendParts(ctx context.Context, storeID string, sources []*source, kept map[partKey]string, res *UploadResult) (map[partKey]string, error) {
	sums := map[partKey]string{}
	for k, v := range kept {
		sums[k] = v
	}
	var mu sync.Mutex
	var verified atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.concurrency())
	for i, s := range sources {
		var keptBytes int64
		for n := 1; n <= s.parts; n++ {
			if _, ok := kept[partKey{i, n}]; ok {
				_, length := s.part(n)
				keptBytes += length
			}
		}
		c.Emit(Event{Kind: EventFileStart, File: s.label, Path: s.path, Size: s.size, Parts: s.parts, Bytes: keptBytes})
	}
queue:
	for i, s := range sources {
		for n := 1; n <= s.parts; n++ {
			key := partKey{i, n}
			if _, ok := kept[key]; ok {
				continue
			}
			if gctx.Err() != nil {
				break queue
			}
			g.Go(func() error {
				sum, ok, err := c.sendPart(gctx, storeID, res.UploadID, s, n)
				if err != nil {
					return err
				}
				if ok {
					verified.Add(1)
				}
				mu.Lock()
				sums[key] = sum
				res.PartsSent++
				mu.Unlock()
				_, length := s.part(n)
				c.Emit(Event{Kind: EventPartDone, File: s.label, Part: n, Parts: s.parts, Bytes: length})
				return nil
			})
		}
	}
	err := g.Wait()
	res.PartsVerified = int(verified.Load()) + len(kept)
	if err != nil {
		return nil, err
	}
	for _, s := range sources {
		c.Emit(Event{Kind: EventFileDone, File: s.label, Path: s.path})
	}
	return sums, nil
}

// sendPart uploads part n of s and checks the checksum the server returns.
// It reports whether that checksum was the part's SHA-256.
func (c *Client) sendPart(ctx context.Context, storeID, uploadID string, s *source, n int) (sum string, verified bool, err error) {
	off, length := s.part(n)
	for attempt := 1; ; attempt++ {
		body := &partBody{r: io.NewSectionReader(s.f, off, length), h: sha256.New(), valid: true,
			sent: func(d int64) { c.Emit(Event{Kind: EventBytes, File: s.label, Bytes: d}) }}
		out, err := c.API.UploadReadSetPart(ctx, &omics.UploadReadSetPartInput{
			SequenceStoreId: aws.String(storeID),
			UploadId:        aws.String(uploadID),
			PartSource:      s.partSource,
			PartNumber:      aws.Int32(int32(n)),
			Payload:         body,
		})
		if err != nil {
			body.rewind()
			return "", false, fmt.Errorf("sending part %d of %s: %w", n, s.label, err)
		}
		remote := aws.ToString(out.Checksum)
		if remote == "" {
			return "", false, fmt.Errorf("part %d of %s: %w", n, s.label, errNoChecksum)
		}
		if !isSHA256(remote) {
			// An opaque identifier, as the API allows: nothing to compare.
			return remote, false, nil
		}
		local, err := body.sum(s, n)
		if err != nil {
			return "", false, err
		}
		if remote == local {
			return remote, true, nil
		}
		body.rewind()
		if attempt == partAttempts {
			return "", false, fmt.Errorf("part %d of %s: the server's checksum %s is not the SHA-256 of the bytes sent (%s), %d times: the connection or the server corrupts data", n, s.label, remote, local, attempt)
		}
		c.step("part %d of %s arrived damaged (checksum %s, sent %s); sending it again", n, s.label, remote, local)
	}
}

// partBody is one part's bytes, hashed as they go out so that the checksum
// the server returns can be checked without reading the part twice. The SDK
// seeks it to measure it and to rewind it for a retry; the hash restarts
// whenever it is back at the start.
type partBody struct {
	r     *io.SectionReader
	h     hash.Hash
	pos   int64
	valid bool // h holds exactly the bytes [0, pos)
	sent  func(int64)
	// counted is how many bytes were reported as sent.
	counted int64
}

func (b *partBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.h.Write(p[:n])
		b.pos += int64(n)
		b.counted += int64(n)
		b.sent(int64(n))
	}
	return n, err
}

func (b *partBody) Seek(offset int64, whence int) (int64, error) {
	pos, err := b.r.Seek(offset, whence)
	if err != nil {
		return pos, err
	}
	switch {
	case pos == 0:
		b.h.Reset()
		b.valid = true
		b.rewind()
	case pos != b.pos:
		b.valid = false
	}
	b.pos = pos
	return pos, nil
}

// rewind takes back the bytes reported as sent.
func (b *partBody) rewind() {
	if b.counted != 0 {
		b.sent(-b.counted)
		b.counted = 0
	}
}

// sum is the SHA-256 of what was sent, read again from the file only if
// the body was not read straight through.
func (b *partBody) sum(s *source, n int) (string, error) {
	if b.valid && b.pos == b.r.Size() {
		return hex.EncodeToString(b.h.Sum(nil)), nil
	}
	return s.localSum(n)
}

// errNoChecksum is returned when a server answers a part without a checksum.
var errNoChecksum = errors.New("the server returned no checksum")
