package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore/internal/analyze"
	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/transfer"
)

const uploadUsage = `Usage: seqstore upload -store ID -subject S -sample S [flags] FILE [FILE2]

Uploads FILE (and FILE2, the second mates of paired FASTQ) as one read set:
checks the files locally the way ingestion will, so a defect is reported
before a byte is sent, sends parts of at most 100 MiB several at once,
checks each part's checksum and completes the upload. Run again with the
same arguments, it resumes an interrupted upload and sends only the parts
that are missing. With -wait it follows the read set to ACTIVE, or prints
why it failed and exits 1.

Flags:
`

// uploadOutput is what `seqstore upload -json` prints.
type uploadOutput struct {
	*transfer.UploadResult
	FileType      string `json:"fileType"`
	Status        string `json:"status,omitempty"`
	StatusMessage string `json:"statusMessage,omitempty"`
	// ETagVerified says the server's ETag equals the one computed locally.
	ETagVerified bool `json:"etagVerified,omitempty"`
}

func runUpload(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cf := newClientCommand("upload", uploadUsage, stderr)
	store := sequenceStoreFlag(fs)
	fileType := fs.String("type", "", "file `type`: FASTQ, BAM, UBAM or CRAM (default: from the content)")
	referenceArn := fs.String("reference-arn", "", "reference `ARN` (required for BAM and CRAM)")
	name := fs.String("name", "", "read set `name` (default: the first file's name without its extensions)")
	subject := fs.String("subject", "", "subject `ID` (required)")
	sample := fs.String("sample", "", "sample `ID` (required)")
	description := fs.String("description", "", "read set `description`")
	generatedFrom := fs.String("generated-from", "", "where the data came `from`")
	wait := fs.Bool("wait", false, "wait until the read set is ACTIVE; exit 1 if it fails")
	concurrency := fs.Int("concurrency", transfer.DefaultConcurrency, "`n` parts sent at once")
	partSize := fs.Int64("part-size", transfer.MaxPartSize, "`bytes` per part, at most 104857600 (100 MiB)")
	reference := fs.String("reference", "", "FASTA `file` a CRAM was written against, for the local check")
	noCheck := fs.Bool("no-check", false, "skip the local check of the files")
	files, err := parseArgs(fs, args)
	if err != nil {
		return helpRequested(err)
	}
	switch {
	case len(files) == 0 || len(files) > 2:
		fs.Usage()
		return errors.New("upload takes one file, or two for paired FASTQ")
	case *store == "" || *subject == "" || *sample == "":
		fs.Usage()
		return errors.New("upload needs -store, -subject and -sample")
	case *concurrency < 1:
		return errors.New("-concurrency must be at least 1")
	case *partSize < 1 || *partSize > transfer.MaxPartSize:
		return fmt.Errorf("-part-size must be between 1 and %d bytes", transfer.MaxPartSize)
	}
	kind := strings.ToUpper(*fileType)
	switch kind {
	case "", analyze.FileTypeFASTQ, analyze.FileTypeBAM, analyze.FileTypeUBAM, analyze.FileTypeCRAM:
	default:
		return fmt.Errorf("-type %s: use FASTQ, BAM, UBAM or CRAM", *fileType)
	}
	if *name == "" {
		*name = readSetName(files[0])
	}

	c, closeProgress, err := cf.client(ctx, stderr, *concurrency)
	if err != nil {
		return err
	}
	defer closeProgress()
	c.PartSize = *partSize
	kind, local, family, err := checkBeforeUpload(ctx, c, *store, files, kind, *reference, *noCheck, *wait)
	if err != nil {
		return err
	}
	if (kind == analyze.FileTypeBAM || kind == analyze.FileTypeCRAM) && *referenceArn == "" {
		return fmt.Errorf("a %s read set needs its reference: give -reference-arn (or -type UBAM for unaligned reads)\nnothing was uploaded", kind)
	}

	res, err := c.Upload(ctx, transfer.UploadInput{
		StoreID:       *store,
		FileType:      types.FileType(kind),
		ReferenceArn:  *referenceArn,
		Name:          *name,
		SubjectID:     *subject,
		SampleID:      *sample,
		Description:   *description,
		GeneratedFrom: *generatedFrom,
		Files:         files,
	})
	if err != nil {
		return err
	}
	out := uploadOutput{UploadResult: res, FileType: kind}
	var failure error
	if *wait {
		if failure = waitAndCompare(ctx, c, *store, &out, local, family); failure != nil && out.Status == "" {
			return failure
		}
	}
	closeProgress()
	switch {
	case cf.json:
		if err := printJSON(stdout, out); err != nil {
			return err
		}
	case cf.quiet || out.Status == "":
		fmt.Fprintln(stdout, res.ReadSetID)
	default:
		fmt.Fprintf(stdout, "%s\t%s\n", res.ReadSetID, out.Status)
	}
	return failure
}

// checkBeforeUpload looks at the store, so that a wrong ID or key is
// reported before a long local check, then reads the files as ingestion
// will and returns their type and, unless noCheck, what the check found.
// The ETag in the store's family is computed only when wantETag: it is
// compared with the server's once the read set is ACTIVE, so an upload
// that does not wait has no use for it, and hashing every uncompressed
// byte (MD5 runs on one core, slower than a loopback copy) would be most
// of the check's time.
func checkBeforeUpload(ctx context.Context, c *transfer.Client, store string, files []string, kind, reference string, noCheck, wantETag bool) (string, *analyze.Result, etag.Family, error) {
	st, err := c.API.GetSequenceStore(ctx, &omics.GetSequenceStoreInput{Id: aws.String(store)})
	if err != nil {
		return "", nil, "", fmt.Errorf("sequence store %s: %w", store, err)
	}
	family := etag.MD5up
	if st.ETagAlgorithmFamily != "" {
		if family, err = etag.ParseFamily(string(st.ETagAlgorithmFamily)); err != nil {
			// A family this seqstore does not know: check the files all
			// the same, and leave the ETag uncompared.
			family = ""
		}
	}
	if noCheck {
		if kind == "" {
			kind, err = detectType(files[0])
		}
		return kind, nil, family, err
	}
	var families []etag.Family
	if wantETag && family != "" {
		families = []etag.Family{family}
	}
	// The server computes the QC report as it ingests; the check before
	// sending only needs the counts and, to compare later, the ETag.
	local, err := analyzeLocal(analyze.WithoutQC(ctx), files, kind, reference, families, analyze.Limits{}, watchCheck(c, files))
	if err != nil {
		if ctx.Err() != nil {
			return "", nil, "", ctx.Err()
		}
		return "", nil, "", fmt.Errorf("%s: %w\nnothing was uploaded", strings.Join(files, ", "), err)
	}
	for i, f := range files {
		c.Emit(transfer.Event{Kind: transfer.EventFileDone, File: checkLabel(i), Path: f})
	}
	c.Emit(transfer.Event{Kind: transfer.EventStep, Message: fmt.Sprintf("%s: %s, %d reads, %d bases",
		strings.Join(files, ", "), local.FileType, local.ReadCount, local.BaseCount)})
	return local.FileType, local, family, nil
}

// waitAndCompare follows the new read set until it settles and, when it is
// ACTIVE, compares its ETag with the one the local check computed. It
// records the outcome in out and returns what failed.
func waitAndCompare(ctx context.Context, c *transfer.Client, store string, out *uploadOutput, local *analyze.Result, family etag.Family) error {
	state, err := c.Wait(ctx, transfer.ReadSet{API: c.API, StoreID: store, ID: out.ReadSetID})
	if err != nil {
		var failed *transfer.FailedError
		if errors.As(err, &failed) {
			out.Status, out.StatusMessage = state.Status, state.Message
		}
		return err
	}
	out.Status, out.StatusMessage = state.Status, state.Message
	if local == nil || family == "" {
		return nil
	}
	out.ETagVerified, err = compareETag(ctx, c.API, store, out.ReadSetID, local, family)
	return err
}

// checkLabel names the local check of file i in progress reports.
func checkLabel(i int) string { return fmt.Sprintf("checking source%d", i+1) }

// watchCheck reports the local check's reading of each file as progress.
func watchCheck(c *transfer.Client, files []string) func(int, io.Reader) io.Reader {
	if c.Progress == nil {
		return nil
	}
	return func(i int, r io.Reader) io.Reader {
		size := int64(-1)
		if st, err := os.Stat(files[i]); err == nil {
			size = st.Size()
		}
		c.Emit(transfer.Event{Kind: transfer.EventFileStart, File: checkLabel(i), Path: files[i], Size: size})
		return &progressReader{r: r, report: func(n int64) {
			c.Emit(transfer.Event{Kind: transfer.EventBytes, File: checkLabel(i), Bytes: n})
		}}
	}
}

// progressReader reports how much is read through it.
type progressReader struct {
	r      io.Reader
	report func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.report(int64(n))
	}
	return n, err
}

// compareETag checks the ETag the server computed against the local one.
func compareETag(ctx context.Context, api *omics.Client, store, id string, local *analyze.Result, family etag.Family) (bool, error) {
	md, err := api.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: aws.String(id)})
	if err != nil {
		return false, err
	}
	if md.Etag == nil {
		return false, nil
	}
	want := local.ETags[family]
	if len(want) == 0 {
		return false, nil // the check did not compute it
	}
	got := []string{aws.ToString(md.Etag.Source1)}
	if len(want) == 2 {
		got = append(got, aws.ToString(md.Etag.Source2))
	}
	for i := range want {
		if got[i] != want[i] {
			return false, fmt.Errorf("read set %s is ACTIVE, but the ETag of source%d is %s where the local file's is %s: the copy is damaged", id, i+1, got[i], want[i])
		}
	}
	return true, nil
}

// detectType reads a file's type from its first bytes, for uploads that
// skip the local check.
func detectType(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return analyze.Detect(bufio.NewReader(f)), nil
}

// readSetName makes a name from a file's: sample_R1.fastq.gz gives
// sample_R1.
func readSetName(path string) string {
	name := filepath.Base(path)
	for {
		ext := filepath.Ext(name)
		switch strings.ToLower(ext) {
		case ".gz", ".bgz", ".bgzf", ".fastq", ".fq", ".bam", ".ubam", ".cram", ".sam":
			name = strings.TrimSuffix(name, ext)
			continue
		}
		return name
	}
}
