package integration

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/testutil"
)

const testReferenceArn = "arn:aws:omics:us-east-1:123456789012:referenceStore/1234567890/reference/1234567890"

// testData makes the files the read-set tests upload, once per test binary.
type testData struct {
	dir        string
	r1gz, r2gz string // bowtie2's lambda reads, gzip
	r1, r2     string // the same, plain
	r1bgzf     string // source 1 as BGZF
	r1multi    string // source 1 as two gzip members
	r1gz6      string // source 1 as `gzip -6` makes it
	r1gz1      string // source 1 as `gzip -1` makes it
	bam, ubam  string
	ref        string
}

var (
	dataOnce sync.Once
	data     *testData
	dataErr  error
)

func lambdaData(t *testing.T) *testData {
	t.Helper()
	for _, tool := range []string{"samtools", "seqkit", "minimap2", "bgzip"} {
		testutil.RequireTool(t, tool)
	}
	examples := testutil.RequireDir(t, "/usr/share/doc/bowtie2/examples")
	dataOnce.Do(func() {
		dir, err := os.MkdirTemp("", "seqstore-it-")
		if err != nil {
			dataErr = err
			return
		}
		d := &testData{dir: dir}
		sh := func(script string) {
			if dataErr != nil {
				return
			}
			cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				dataErr = fmt.Errorf("%s: %v\n%s", script, err, out)
			}
		}
		sh(fmt.Sprintf("cp %[1]s/reads/reads_1.fq.gz r1.fq.gz && cp %[1]s/reads/reads_2.fq.gz r2.fq.gz && gzip -dc r1.fq.gz > r1.fq && gzip -dc r2.fq.gz > r2.fq", examples))
		sh("gzip -dc " + examples + "/reference/lambda_virus.fa.gz > ref.fa")
		sh("bgzip -c r1.fq > r1.bgzf.fq.gz")
		sh("head -n 4000 r1.fq | gzip -c > r1.multi.fq.gz && tail -n +4001 r1.fq | gzip -c >> r1.multi.fq.gz")
		sh("gzip -6 -c r1.fq > r1.gz6.fq.gz && gzip -1 -c r1.fq > r1.gz1.fq.gz")
		sh("minimap2 -a -x sr ref.fa r1.fq r2.fq 2>/dev/null | samtools sort -o aligned.bam - 2>/dev/null")
		sh("samtools import -1 r1.fq -2 r2.fq -o unaligned.bam 2>/dev/null")
		d.r1gz, d.r2gz = filepath.Join(dir, "r1.fq.gz"), filepath.Join(dir, "r2.fq.gz")
		d.r1, d.r2 = filepath.Join(dir, "r1.fq"), filepath.Join(dir, "r2.fq")
		d.r1bgzf, d.r1multi = filepath.Join(dir, "r1.bgzf.fq.gz"), filepath.Join(dir, "r1.multi.fq.gz")
		d.r1gz6, d.r1gz1 = filepath.Join(dir, "r1.gz6.fq.gz"), filepath.Join(dir, "r1.gz1.fq.gz")
		d.bam, d.ubam, d.ref = filepath.Join(dir, "aligned.bam"), filepath.Join(dir, "unaligned.bam"), filepath.Join(dir, "ref.fa")
		data = d
	})
	if dataErr != nil {
		t.Fatal(dataErr)
	}
	return data
}

// uploadFile streams files through the multipart API in parts of partSize
// and returns the read set ID once ingestion ends.
func uploadFiles(t *testing.T, c *omics.Client, storeID string, fileType types.FileType, refArn string, partSize int, files ...string) string {
	t.Helper()
	ctx := context.Background()
	in := &omics.CreateMultipartReadSetUploadInput{
		SequenceStoreId: aws.String(storeID),
		SourceFileType:  fileType,
		SubjectId:       aws.String("subject-1"),
		SampleId:        aws.String("sample-1"),
		Name:            aws.String("rs-" + strings.ToLower(string(fileType))),
		GeneratedFrom:   aws.String("integration test"),
	}
	if refArn != "" {
		in.ReferenceArn = aws.String(refArn)
	}
	up, err := c.CreateMultipartReadSetUpload(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompleteReadSetUploadPartListItem
	for i, f := range files {
		source := types.ReadSetPartSourceSource1
		if i == 1 {
			source = types.ReadSetPartSourceSource2
		}
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for n := 1; len(body) > 0; n++ {
			chunk := body[:min(partSize, len(body))]
			body = body[len(chunk):]
			out, err := c.UploadReadSetPart(ctx, &omics.UploadReadSetPartInput{
				SequenceStoreId: aws.String(storeID),
				UploadId:        up.UploadId,
				PartSource:      source,
				PartNumber:      aws.Int32(int32(n)),
				Payload:         bytes.NewReader(chunk),
			})
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(chunk)
			if *out.Checksum != hex.EncodeToString(sum[:]) {
				t.Fatalf("part %d checksum %s is not the SHA-256 of its bytes", n, *out.Checksum)
			}
			parts = append(parts, types.CompleteReadSetUploadPartListItem{PartNumber: aws.Int32(int32(n)), PartSource: source, Checksum: out.Checksum})
		}
	}
	done, err := c.CompleteMultipartReadSetUpload(ctx, &omics.CompleteMultipartReadSetUploadInput{SequenceStoreId: aws.String(storeID), UploadId: up.UploadId, Parts: parts})
	if err != nil {
		t.Fatal(err)
	}
	return *done.ReadSetId
}

// waitIngested polls until the read set leaves PROCESSING_UPLOAD.
func waitIngested(t *testing.T, c *omics.Client, storeID, id string) *omics.GetReadSetMetadataOutput {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		md, err := c.GetReadSetMetadata(context.Background(), &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(storeID), Id: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if md.Status != types.ReadSetStatusProcessingUpload {
			return md
		}
		if time.Now().After(deadline) {
			t.Fatalf("read set %s still PROCESSING_UPLOAD after 3 minutes", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// download fetches every part of a file and joins them.
func download(t *testing.T, c *omics.Client, storeID, id string, file types.ReadSetFile, info *types.FileInformation) []byte {
	t.Helper()
	var all []byte
	for n := int32(1); n <= *info.TotalParts; n++ {
		out, err := c.GetReadSet(context.Background(), &omics.GetReadSetInput{SequenceStoreId: aws.String(storeID), Id: aws.String(id), File: file, PartNumber: aws.Int32(n)})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(out.Payload)
		out.Payload.Close()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if int64(len(all)) != *info.ContentLength {
		t.Fatalf("downloaded %d bytes, contentLength %d", len(all), *info.ContentLength)
	}
	return all
}

// seqkitCounts returns the record and base counts seqkit reports.
func seqkitCounts(t *testing.T, files ...string) (reads, bases int64) {
	t.Helper()
	for _, f := range files {
		out := testutil.Run(t, "seqkit", "stats", "-T", f)
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		cols := strings.Split(lines[len(lines)-1], "\t")
		r, _ := strconv.ParseInt(cols[3], 10, 64)
		b, _ := strconv.ParseInt(cols[4], 10, 64)
		reads += r
		bases += b
	}
	return reads, bases
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func newStore(t *testing.T, c *omics.Client, family types.ETagAlgorithmFamily) string {
	t.Helper()
	st, err := c.CreateSequenceStore(context.Background(), &omics.CreateSequenceStoreInput{Name: aws.String("reads"), ETagAlgorithmFamily: family})
	if err != nil {
		t.Fatal(err)
	}
	return *st.Id
}

func TestPairedFASTQReadSet(t *testing.T) {
	d := lambdaData(t)
	forEachBackend(t, func(t *testing.T, b backend, in *instance) {
		c := in.goClient(in.rootKey())
		store := newStore(t, c, "")
		// Parts of 300 kB split records anywhere: ingestion must not care.
		id := uploadFiles(t, c, store, types.FileTypeFastq, "", 300_000, d.r1gz, d.r2gz)
		md := waitIngested(t, c, store, id)
		if md.Status != types.ReadSetStatusActive {
			t.Fatalf("status %s: %s", md.Status, aws.ToString(md.StatusMessage))
		}
		reads, bases := seqkitCounts(t, d.r1, d.r2)
		if got := *md.SequenceInformation.TotalReadCount; got != reads {
			t.Errorf("totalReadCount %d, seqkit says %d", got, reads)
		}
		if got := *md.SequenceInformation.TotalBaseCount; got != bases {
			t.Errorf("totalBaseCount %d, seqkit says %d", got, bases)
		}
		plain1, _ := os.ReadFile(d.r1)
		plain2, _ := os.ReadFile(d.r2)
		if md.Etag.Algorithm != types.ETagAlgorithmFastqMd5up || *md.Etag.Source1 != md5Hex(plain1) || *md.Etag.Source2 != md5Hex(plain2) {
			t.Errorf("etag %+v, want FASTQ_MD5up %s %s", md.Etag, md5Hex(plain1), md5Hex(plain2))
		}
		if md.CreationType != types.CreationTypeUpload || *md.SubjectId != "subject-1" || *md.SampleId != "sample-1" || md.FileType != types.FileTypeFastq {
			t.Errorf("metadata %+v", md)
		}
		if md.Files == nil || md.Files.Source1 == nil || md.Files.Source2 == nil || md.Files.Index != nil {
			t.Fatalf("files %+v", md.Files)
		}
		if *md.Files.Source1.PartSize != 104857600 || md.Files.Source1.S3Access == nil || !strings.HasSuffix(*md.Files.Source1.S3Access.S3Uri, "/readSet/"+id+"/rs-fastq_source1.fastq.gz") {
			t.Errorf("source1 %+v", md.Files.Source1)
		}
		got1 := download(t, c, store, id, types.ReadSetFileSource1, md.Files.Source1)
		got2 := download(t, c, store, id, types.ReadSetFileSource2, md.Files.Source2)
		up1, _ := os.ReadFile(d.r1gz)
		up2, _ := os.ReadFile(d.r2gz)
		if !bytes.Equal(got1, up1) || !bytes.Equal(got2, up2) {
			t.Errorf("downloaded sources are not the uploaded files byte for byte")
		}
		// Part 2 does not exist for files under 100 MiB.
		_, err := c.GetReadSet(context.Background(), &omics.GetReadSetInput{SequenceStoreId: aws.String(store), Id: aws.String(id), PartNumber: aws.Int32(2)})
		var rns *types.RangeNotSatisfiableException
		if !errors.As(err, &rns) {
			t.Errorf("part 2: %v, want RangeNotSatisfiableException", err)
		}
		_, err = c.GetReadSet(context.Background(), &omics.GetReadSetInput{SequenceStoreId: aws.String(store), Id: aws.String(id), File: types.ReadSetFileIndex, PartNumber: aws.Int32(1)})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("index of FASTQ: %v, want ResourceNotFoundException", err)
		}
	})
}

// TestFASTQStoredAsUploaded uploads one FASTQ in every form, in parts that
// cut records anywhere: each gets the same ETag and counts, a compressed
// upload is stored and served byte for byte as it arrived, and a plain one
// is stored BGZF-compressed at the server's default level, no larger than
// bgzip makes it.
func TestFASTQStoredAsUploaded(t *testing.T) {
	d := lambdaData(t)
	plain, _ := os.ReadFile(d.r1)
	sum := sha256.Sum256(plain)
	want := hex.EncodeToString(sum[:])
	bgzipped, _ := os.ReadFile(d.r1bgzf)
	forms := []struct{ name, file string }{
		{"plain", d.r1}, {"gzip -6", d.r1gz6}, {"gzip -1", d.r1gz1}, {"bgzip", d.r1bgzf}, {"multi-member gzip", d.r1multi},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg := newConfig(t, b)
			cfg.FASTQStoreLevel = bgzf.DefaultLevel // the server's; the harness's is faster
			storedAsUploaded(t, start(t, b, cfg), d, plain, want, bgzipped, forms)
		})
	}
}

// storedAsUploaded is TestFASTQStoredAsUploaded on one server: want is
// the SHA-256 of plain, the FASTQ each form holds.
func storedAsUploaded(t *testing.T, in *instance, d *testData, plain []byte, want string, bgzipped []byte, forms []struct{ name, file string }) {
	c := in.goClient(in.rootKey())
	store := newStore(t, c, types.ETagAlgorithmFamilySha256up)
	for _, form := range forms {
		t.Run(form.name, func(t *testing.T) {
			uploaded, _ := os.ReadFile(form.file)
			id := uploadFiles(t, c, store, types.FileTypeFastq, "", 300_000, form.file)
			md := waitIngested(t, c, store, id)
			if md.Status != types.ReadSetStatusActive {
				t.Fatalf("status %s: %s", md.Status, aws.ToString(md.StatusMessage))
			}
			if md.Etag.Algorithm != types.ETagAlgorithmFastqSha256up || *md.Etag.Source1 != want {
				t.Errorf("etag %+v, want %s", md.Etag, want)
			}
			if n := *md.SequenceInformation.TotalReadCount; n != int64(bytes.Count(plain, []byte("\n"))/4) {
				t.Errorf("totalReadCount %d", n)
			}
			got := download(t, c, store, id, types.ReadSetFileSource1, md.Files.Source1)
			if form.file != d.r1 {
				if !bytes.Equal(got, uploaded) {
					t.Fatalf("downloaded %d bytes (MD5 %s), uploaded %d (MD5 %s)", len(got), md5Hex(got), len(uploaded), md5Hex(uploaded))
				}
				return
			}
			if !bytes.Equal(gunzip(t, got), plain) {
				t.Errorf("the stored copy of the plain upload does not decompress to it")
			}
			if len(got) > len(bgzipped) {
				t.Errorf("the plain upload is stored in %d bytes, more than bgzip's %d", len(got), len(bgzipped))
			}
		})
	}
}

// samtoolsView is what `samtools view` prints for a file, without header.
func samtoolsView(t *testing.T, file string, args ...string) []byte {
	t.Helper()
	return testutil.Run(t, "samtools", append([]string{"view"}, append(args, file)...)...)
}

func TestBAMReadSet(t *testing.T) {
	d := lambdaData(t)
	forEachBackend(t, func(t *testing.T, b backend, in *instance) {
		c := in.goClient(in.rootKey())
		store := newStore(t, c, "")
		id := uploadFiles(t, c, store, types.FileTypeBam, testReferenceArn, 200_000, d.bam)
		md := waitIngested(t, c, store, id)
		if md.Status != types.ReadSetStatusActive {
			t.Fatalf("status %s: %s", md.Status, aws.ToString(md.StatusMessage))
		}
		primary := strings.TrimSpace(string(testutil.Run(t, "samtools", "view", "-c", "-F", "0x900", d.bam)))
		if got := strconv.FormatInt(*md.SequenceInformation.TotalReadCount, 10); got != primary {
			t.Errorf("totalReadCount %s, samtools counts %s primary records", got, primary)
		}
		var bases int64
		for _, line := range strings.Split(strings.TrimSpace(string(samtoolsView(t, d.bam, "-F", "0x900"))), "\n") {
			if seq := strings.Split(line, "\t")[9]; seq != "*" {
				bases += int64(len(seq))
			}
		}
		if *md.SequenceInformation.TotalBaseCount != bases {
			t.Errorf("totalBaseCount %d, want %d", *md.SequenceInformation.TotalBaseCount, bases)
		}
		if want := md5Hex(samtoolsView(t, d.bam)); md.Etag.Algorithm != types.ETagAlgorithmBamMd5up || *md.Etag.Source1 != want {
			t.Errorf("etag %+v, want BAM_MD5up %s", md.Etag, want)
		}
		if md.SequenceInformation.Alignment == nil || *md.SequenceInformation.Alignment != "ALIGNED" || *md.ReferenceArn != testReferenceArn {
			t.Errorf("alignment %v, reference %v", md.SequenceInformation.Alignment, md.ReferenceArn)
		}
		if md.Files.Index == nil {
			t.Fatal("a coordinate-sorted BAM got no index")
		}
		original, _ := os.ReadFile(d.bam)
		stored := download(t, c, store, id, types.ReadSetFileSource1, md.Files.Source1)
		if !bytes.Equal(stored, original) {
			t.Fatalf("downloaded BAM differs from the upload")
		}
		bai := download(t, c, store, id, types.ReadSetFileIndex, md.Files.Index)
		dir := t.TempDir()
		ours := filepath.Join(dir, "ours.bam.bai")
		os.WriteFile(ours, bai, 0o644)
		theirs := filepath.Join(dir, "theirs.bam")
		os.WriteFile(theirs, original, 0o644)
		testutil.Run(t, "samtools", "index", theirs)
		for _, region := range []string{"gi|9626243|ref|NC_001416.1|", "gi|9626243|ref|NC_001416.1|:1-1000", "gi|9626243|ref|NC_001416.1|:20000-20500", "gi|9626243|ref|NC_001416.1|:48000-48502", "*"} {
			got := testutil.Run(t, "samtools", "view", "-X", theirs, ours, region)
			want := testutil.Run(t, "samtools", "view", theirs, region)
			if !bytes.Equal(got, want) {
				t.Errorf("region %s: seqstore's index gives %d bytes, samtools' %d", region, len(got), len(want))
			}
		}
	})
}

func TestUnalignedBAMReadSet(t *testing.T) {
	d := lambdaData(t)
	in := start(t, backends[0], nil)
	c := in.goClient(in.rootKey())
	store := newStore(t, c, types.ETagAlgorithmFamilySha512up)
	id := uploadFiles(t, c, store, types.FileTypeUbam, "", 1<<20, d.ubam)
	md := waitIngested(t, c, store, id)
	if md.Status != types.ReadSetStatusActive {
		t.Fatalf("status %s: %s", md.Status, aws.ToString(md.StatusMessage))
	}
	reads, bases := seqkitCounts(t, d.r1, d.r2)
	if *md.SequenceInformation.TotalReadCount != reads || *md.SequenceInformation.TotalBaseCount != bases {
		t.Errorf("counts %d/%d, want %d/%d", *md.SequenceInformation.TotalReadCount, *md.SequenceInformation.TotalBaseCount, reads, bases)
	}
	if *md.SequenceInformation.Alignment != "UNALIGNED" || md.Etag.Algorithm != types.ETagAlgorithmBamSha512up {
		t.Errorf("alignment %s, etag %+v", *md.SequenceInformation.Alignment, md.Etag)
	}
	// An aligned BAM sent as UBAM fails its read set and nothing else.
	bad := uploadFiles(t, c, store, types.FileTypeUbam, "", 1<<20, d.bam)
	md = waitIngested(t, c, store, bad)
	if md.Status != types.ReadSetStatusUploadFailed || !strings.Contains(aws.ToString(md.StatusMessage), "source1") {
		t.Errorf("aligned BAM as UBAM: %s %q", md.Status, aws.ToString(md.StatusMessage))
	}
}

func TestBrokenFilesFailTheirReadSetOnly(t *testing.T) {
	d := lambdaData(t)
	in := start(t, backends[0], nil)
	c := in.goClient(in.rootKey())
	store := newStore(t, c, "")
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bam, _ := os.ReadFile(d.bam)
	fq, _ := os.ReadFile(d.r1)
	gz, _ := os.ReadFile(d.r1gz)
	short := bytes.Replace(fq, []byte("\n+\n"), []byte("\n+\n!"), 1)
	cases := []struct {
		name     string
		fileType types.FileType
		files    []string
		want     string // in the status message
	}{
		{"a truncated BAM", types.FileTypeBam, []string{write("trunc.bam", bam[:len(bam)/2])}, "source1"},
		{"a BAM without its EOF marker", types.FileTypeBam, []string{write("noeof.bam", bam[:len(bam)-28])}, "end-of-file marker"},
		{"FASTQ sent as BAM", types.FileTypeBam, []string{d.r1gz}, "source1"},
		{"a truncated gzip FASTQ", types.FileTypeFastq, []string{write("trunc.fq.gz", gz[:len(gz)/2])}, "source1"},
		{"a quality line of the wrong length", types.FileTypeFastq, []string{write("badqual.fq", short)}, "record 1"},
		{"BAM sent as FASTQ", types.FileTypeFastq, []string{d.bam}, "source1"},
		{"unpaired mates", types.FileTypeFastq, []string{d.r1, write("fewer.fq", fq[:bytes.LastIndex(fq[:len(fq)/2], []byte("\n@"))+1])}, "source2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ref := ""
			if tc.fileType == types.FileTypeBam {
				ref = testReferenceArn
			}
			id := uploadFiles(t, c, store, tc.fileType, ref, 1<<20, tc.files...)
			md := waitIngested(t, c, store, id)
			if md.Status != types.ReadSetStatusUploadFailed {
				t.Fatalf("status %s, want UPLOAD_FAILED", md.Status)
			}
			if msg := aws.ToString(md.StatusMessage); !strings.Contains(msg, tc.want) {
				t.Errorf("statusMessage %q lacks %q", msg, tc.want)
			}
			_, err := c.GetReadSet(context.Background(), &omics.GetReadSetInput{SequenceStoreId: aws.String(store), Id: aws.String(id), PartNumber: aws.Int32(1)})
			var conflict *types.ConflictException
			if !errors.As(err, &conflict) {
				t.Errorf("GetReadSet of a failed read set: %v, want ConflictException", err)
			}
		})
	}
	// The good read set next to them is untouched.
	good := uploadFiles(t, c, store, types.FileTypeFastq, "", 1<<20, d.r1gz)
	if md := waitIngested(t, c, store, good); md.Status != types.ReadSetStatusActive {
		t.Fatalf("good read set: %s %s", md.Status, aws.ToString(md.StatusMessage))
	}
}

func TestUploadProtocolErrors(t *testing.T) {
	in := start(t, backends[0], nil)
	ctx := context.Background()
	c := in.goClient(in.rootKey())
	store := newStore(t, c, "")
	_, err := c.CreateMultipartReadSetUpload(ctx, &omics.CreateMultipartReadSetUploadInput{
		SequenceStoreId: aws.String(store), SourceFileType: types.FileTypeBam,
		SubjectId: aws.String("s"), SampleId: aws.String("s"), Name: aws.String("n"),
	})
	var ve *types.ValidationException
	if !errors.As(err, &ve) || !strings.Contains(ve.ErrorMessage(), "referenceArn") {
		t.Errorf("BAM without referenceArn: %v", err)
	}
	up, err := c.CreateMultipartReadSetUpload(ctx, &omics.CreateMultipartReadSetUploadInput{
		SequenceStoreId: aws.String(store), SourceFileType: types.FileTypeFastq,
		SubjectId: aws.String("s"), SampleId: aws.String("s"), Name: aws.String("n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	put := func(source types.ReadSetPartSource, n int32, body string) string {
		out, err := c.UploadReadSetPart(ctx, &omics.UploadReadSetPartInput{SequenceStoreId: aws.String(store), UploadId: up.UploadId, PartSource: source, PartNumber: aws.Int32(n), Payload: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		return *out.Checksum
	}
	first := put(types.ReadSetPartSourceSource1, 1, "@r1\nACGT\n+\n!!!!\n")
	second := put(types.ReadSetPartSourceSource1, 1, "@r1\nACGTA\n+\n!!!!!\n") // replaces part 1
	if first == second {
		t.Fatal("a replaced part kept its checksum")
	}
	list, err := c.ListReadSetUploadParts(ctx, &omics.ListReadSetUploadPartsInput{SequenceStoreId: aws.String(store), UploadId: up.UploadId, PartSource: types.ReadSetPartSourceSource1})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Parts) != 1 || *list.Parts[0].Checksum != second || *list.Parts[0].PartSize != 18 {
		t.Fatalf("parts %+v", list.Parts)
	}
	uploads, err := c.ListMultipartReadSetUploads(ctx, &omics.ListMultipartReadSetUploadsInput{SequenceStoreId: aws.String(store)})
	if err != nil || len(uploads.Uploads) != 1 {
		t.Fatalf("uploads %+v %v", uploads, err)
	}
	complete := func(parts ...types.CompleteReadSetUploadPartListItem) error {
		_, err := c.CompleteMultipartReadSetUpload(ctx, &omics.CompleteMultipartReadSetUploadInput{SequenceStoreId: aws.String(store), UploadId: up.UploadId, Parts: parts})
		return err
	}
	item := func(n int32, sum string) types.CompleteReadSetUploadPartListItem {
		return types.CompleteReadSetUploadPartListItem{PartNumber: aws.Int32(n), PartSource: types.ReadSetPartSourceSource1, Checksum: aws.String(sum)}
	}
	for name, parts := range map[string][]types.CompleteReadSetUploadPartListItem{
		"a stale checksum":             {item(1, first)},
		"a part that was not uploaded": {item(1, second), item(2, second)},
		"no parts":                     {},
	} {
		if err := complete(parts...); !errors.As(err, &ve) {
			t.Errorf("complete with %s: %v, want ValidationException", name, err)
		}
	}
	put(types.ReadSetPartSourceSource1, 3, "@r2\nAC\n+\n!!\n")
	if err := complete(item(1, second), item(3, second)); !errors.As(err, &ve) {
		t.Errorf("complete with a gap: %v", err)
	}
	if _, err := c.AbortMultipartReadSetUpload(ctx, &omics.AbortMultipartReadSetUploadInput{SequenceStoreId: aws.String(store), UploadId: up.UploadId}); err != nil {
		t.Fatal(err)
	}
	uploads, err = c.ListMultipartReadSetUploads(ctx, &omics.ListMultipartReadSetUploadsInput{SequenceStoreId: aws.String(store)})
	if err != nil || len(uploads.Uploads) != 0 {
		t.Fatalf("uploads after abort %+v %v", uploads, err)
	}
	var nf *types.ResourceNotFoundException
	if _, err := c.UploadReadSetPart(ctx, &omics.UploadReadSetPartInput{SequenceStoreId: aws.String(store), UploadId: up.UploadId, PartSource: types.ReadSetPartSourceSource1, PartNumber: aws.Int32(1), Payload: strings.NewReader("x")}); !errors.As(err, &nf) {
		t.Errorf("part after abort: %v", err)
	}
	// No part bytes survive the abort.
	var left []string
	in.srv.Blobs.List(ctx, "uploads/", func(key string, _ blobAttrs) error { left = append(left, key); return nil })
	if len(left) != 0 {
		t.Errorf("parts left after abort: %v", left)
	}
}

func TestListAndBatchDeleteReadSets(t *testing.T) {
	d := lambdaData(t)
	in := start(t, backends[0], nil)
	ctx := context.Background()
	c := in.goClient(in.rootKey())
	store := newStore(t, c, "")
	a := uploadFiles(t, c, store, types.FileTypeFastq, "", 1<<20, d.r1gz)
	b := uploadFiles(t, c, store, types.FileTypeBam, testReferenceArn, 1<<20, d.bam)
	waitIngested(t, c, store, a)
	waitIngested(t, c, store, b)
	list := func(f *types.ReadSetFilter) []types.ReadSetListItem {
		var all []types.ReadSetListItem
		p := omics.NewListReadSetsPaginator(c, &omics.ListReadSetsInput{SequenceStoreId: aws.String(store), Filter: f, MaxResults: aws.Int32(1)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page.ReadSets...)
		}
		return all
	}
	if got := list(nil); len(got) != 2 {
		t.Fatalf("%d read sets, want 2", len(got))
	}
	if got := list(&types.ReadSetFilter{ReferenceArn: aws.String(testReferenceArn)}); len(got) != 1 || *got[0].Id != b {
		t.Errorf("reference filter: %+v", got)
	}
	if got := list(&types.ReadSetFilter{Status: types.ReadSetStatusActive, SampleId: aws.String("sample-1"), SubjectId: aws.String("subject-1"), CreationType: types.CreationTypeUpload}); len(got) != 2 {
		t.Errorf("status+sample+subject+creationType filter: %d", len(got))
	}
	if got := list(&types.ReadSetFilter{Name: aws.String("rs-fastq")}); len(got) != 1 || got[0].Etag == nil || got[0].SequenceInformation == nil {
		t.Errorf("name filter: %+v", got)
	}
	if got := list(&types.ReadSetFilter{SampleId: aws.String("nobody")}); len(got) != 0 {
		t.Errorf("sample filter matched %d", len(got))
	}
	var conflict *types.ConflictException
	if _, err := c.DeleteSequenceStore(ctx, &omics.DeleteSequenceStoreInput{Id: aws.String(store)}); !errors.As(err, &conflict) {
		t.Errorf("delete a store with read sets: %v, want ConflictException", err)
	}
	out, err := c.BatchDeleteReadSet(ctx, &omics.BatchDeleteReadSetInput{SequenceStoreId: aws.String(store), Ids: []string{a, b, "9999999999"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) != 1 || *out.Errors[0].Id != "9999999999" {
		t.Errorf("errors %+v", out.Errors)
	}
	var stored []string
	in.srv.Blobs.List(ctx, "readsets/", func(key string, _ blobAttrs) error { stored = append(stored, key); return nil })
	if len(stored) != 0 {
		t.Errorf("stored files left after delete: %v", stored)
	}
	if _, err := c.DeleteSequenceStore(ctx, &omics.DeleteSequenceStoreInput{Id: aws.String(store)}); err != nil {
		t.Errorf("delete the emptied store: %v", err)
	}
}
