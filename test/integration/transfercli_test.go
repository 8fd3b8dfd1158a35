package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore/internal/testutil"
)

// seqstoreCmd is the seqstore command, built once for the tests that run it.
var seqstoreCmd = testutil.Binary{Package: "../../cmd/seqstore"}

func TestMain(m *testing.M) {
	code := m.Run()
	seqstoreCmd.Cleanup()
	os.Exit(code)
}

// seqstoreBinary is the built seqstore command.
func seqstoreBinary(t *testing.T) string { return seqstoreCmd.Path(t) }

// cliEnv is the environment of a seqstore client command: the server's
// endpoint and the root key through the standard AWS variables, and no
// shared config that could steer it elsewhere.
func (in *instance) cliEnv() []string {
	key := in.rootKey()
	return append(testutil.EnvWithoutAWS(),
		"AWS_ACCESS_KEY_ID="+key.ID,
		"AWS_SECRET_ACCESS_KEY="+key.Secret,
		"AWS_REGION=us-east-1",
		"AWS_ENDPOINT_URL_OMICS="+in.endpoint,
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	)
}

// cmdResult is what one seqstore command did.
type cmdResult struct {
	stdout, stderr string
	exitCode       int
}

// seqstore runs `seqstore ARGS...` against the server, its output going to
// pipes (not a terminal).
func (in *instance) seqstore(t *testing.T, args ...string) cmdResult {
	t.Helper()
	cmd := exec.Command(seqstoreBinary(t), args...)
	cmd.Env = in.cliEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cmdResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.exitCode = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return res
}

// mustSeqstore runs a command that must succeed.
func (in *instance) mustSeqstore(t *testing.T, args ...string) cmdResult {
	t.Helper()
	r := in.seqstore(t, args...)
	if r.exitCode != 0 {
		t.Fatalf("seqstore %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.exitCode, r.stdout, r.stderr)
	}
	return r
}

// uploadJSON is what `seqstore upload -json` prints.
type uploadJSON struct {
	UploadID      string
	ReadSetID     string
	Resumed       bool
	PartsSent     int
	PartsKept     int
	PartsVerified int
	FileType      string
	Status        string
	StatusMessage string
	ETagVerified  bool
}

func decodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return v
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTransferCLIPairedFASTQ(t *testing.T) {
	d := lambdaData(t)
	in := start(t, backends[0], nil)
	c := in.goClient(in.rootKey())
	store := newStore(t, c, "")

	// Flags after the files, parts of 300 kB: four parts per mate.
	up := in.mustSeqstore(t, "upload", "-store", store, "-subject", "subj", "-sample", "samp", "-wait",
		d.r1gz, d.r2gz, "-part-size", "300000")
	id, status, _ := strings.Cut(strings.TrimSpace(up.stdout), "\t")
	if status != "ACTIVE" {
		t.Fatalf("upload printed %q\n%s", up.stdout, up.stderr)
	}
	for _, want := range []string{"checking source1: " + d.r1gz, "checking source2: " + d.r2gz + ", 1.1 MiB\n", "checking source2: done", "FASTQ, 20000 reads", "source2: part 5 of 5 done", "read set " + id + " is ACTIVE"} {
		if !strings.Contains(up.stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, up.stderr)
		}
	}
	if strings.Contains(up.stderr, "\x1b[") {
		t.Errorf("progress to a pipe holds terminal escapes:\n%q", up.stderr)
	}
	md, err := c.GetReadSetMetadata(context.Background(), &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	plain1, plain2 := readFile(t, d.r1), readFile(t, d.r2)
	if *md.Name != "r1" || *md.SubjectId != "subj" || *md.Etag.Source1 != md5Hex(plain1) || *md.Etag.Source2 != md5Hex(plain2) {
		t.Errorf("name %s subject %s etag %+v", *md.Name, *md.SubjectId, md.Etag)
	}

	dir := t.TempDir()
	dl := in.mustSeqstore(t, "download", "-store", store, id, "-o", dir, "-json")
	got := decodeJSON[struct {
		ReadSetID string
		Files     []struct{ File, Path, ETag, Algorithm string }
	}](t, dl.stdout)
	if len(got.Files) != 2 {
		t.Fatalf("downloaded %+v", got)
	}
	for i, plain := range [][]byte{plain1, plain2} {
		f := got.Files[i]
		if f.File != fmt.Sprintf("SOURCE%d", i+1) || f.Algorithm != "FASTQ_MD5up" || f.ETag != md5Hex(plain) {
			t.Errorf("file %d: %+v", i, f)
		}
		if want := filepath.Join(dir, fmt.Sprintf("r1_source%d.fastq.gz", i+1)); f.Path != want {
			t.Errorf("file %d written to %s, want %s (the name in its S3 URI)", i, f.Path, want)
		}
		if !bytes.Equal(gunzip(t, readFile(t, f.Path)), plain) {
			t.Errorf("%s does not decompress to the uploaded reads", f.Path)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("download left %d entries in its directory, want the 2 files", len(entries))
	}
	if r := in.seqstore(t, "download", "-store", store, id, "-o", dir); r.exitCode != 1 || !strings.Contains(r.stderr, "exists") {
		t.Errorf("download over existing files: exit %d, %s", r.exitCode, r.stderr)
	}

	ls := in.mustSeqstore(t, "ls", store, "-status", "active")
	if !strings.Contains(ls.stdout, id) || !strings.Contains(ls.stdout, "20000") {
		t.Errorf("ls %s:\n%s", store, ls.stdout)
	}
	listed := decodeJSON[[]struct {
		ID                  string `json:"id"`
		Status              string `json:"status"`
		SequenceInformation struct {
			TotalReadCount int64 `json:"totalReadCount"`
		} `json:"sequenceInformation"`
		ETag struct {
			Algorithm, Source1, Source2 string
		} `json:"etag"`
	}](t, in.mustSeqstore(t, "ls", store, "-json").stdout)
	if len(listed) != 1 || listed[0].ID != id || listed[0].Status != "ACTIVE" || listed[0].SequenceInformation.TotalReadCount != 20000 ||
		listed[0].ETag.Algorithm != "FASTQ_MD5up" || listed[0].ETag.Source2 != md5Hex(plain2) {
		t.Errorf("ls -json: %+v", listed)
	}
	if ls := in.mustSeqstore(t, "ls"); !strings.Contains(ls.stdout, store) {
		t.Errorf("ls lacks store %s:\n%s", store, ls.stdout)
	}
	if w := in.mustSeqstore(t, "wait", "-store", store, id); strings.TrimSpace(w.stdout) != "ACTIVE" {
		t.Errorf("wait printed %q", w.stdout)
	}
	if rm := in.seqstore(t, "rm", "-store", store, id, "9999999999"); rm.exitCode != 1 || !strings.Contains(rm.stdout, "deleted "+id) || !strings.Contains(rm.stderr, "9999999999") {
		t.Errorf("rm: exit %d\n%s%s", rm.exitCode, rm.stdout, rm.stderr)
	}
	if ls := in.mustSeqstore(t, "ls", store, "-json"); strings.Contains(ls.stdout, id) {
		t.Errorf("read set %s still listed after rm: %s", id, ls.stdout)
	}
}

func TestTransferCLIBAMAndUBAM(t *testing.T) {
	d := lambdaData(t)
	in := start(t, backends[0], nil)
	c := in.goClient(in.rootKey())
	store := newStore(t, c, types.ETagAlgorithmFamilySha256up)

	// The type comes from the content: the unaligned BAM is UBAM.
	up := decodeJSON[uploadJSON](t, in.mustSeqstore(t, "upload", "-store", store, "-subject", "s", "-sample", "s", "-wait", "-json", "-part-size", "200000", d.ubam).stdout)
	if up.FileType != "UBAM" || up.Status != "ACTIVE" || !up.ETagVerified || up.PartsVerified != up.PartsSent || up.PartsSent < 2 {
		t.Errorf("uBAM upload: %+v", up)
	}

	// An aligned BAM needs its reference ARN, and is refused before upload
	// without one.
	r := in.seqstore(t, "upload", "-store", store, "-subject", "s", "-sample", "s", d.bam)
	if r.exitCode != 1 || !strings.Contains(r.stderr, "-reference-arn") || !strings.Contains(r.stderr, "nothing was uploaded") {
		t.Errorf("BAM without reference: exit %d: %s", r.exitCode, r.stderr)
	}
	up = decodeJSON[uploadJSON](t, in.mustSeqstore(t, "upload", "-store", store, "-subject", "s", "-sample", "s", "-reference-arn", testReferenceArn, "-wait", "-json", d.bam).stdout)
	if up.FileType != "BAM" || up.Status != "ACTIVE" || !up.ETagVerified {
		t.Errorf("BAM upload: %+v", up)
	}

	// A directory that does not exist yet is made.
	dir := filepath.Join(t.TempDir(), "new", "dir")
	dl := in.mustSeqstore(t, "download", "-store", store, up.ReadSetID, "-o", dir)
	paths := strings.Fields(dl.stdout)
	if len(paths) != 2 || !strings.HasSuffix(paths[0], ".bam") || !strings.HasSuffix(paths[1], ".bai") {
		t.Fatalf("download wrote %q", dl.stdout)
	}
	if !bytes.Equal(readFile(t, paths[0]), readFile(t, d.bam)) {
		t.Errorf("downloaded BAM differs from the upload")
	}
	if want := "BAM_SHA256up " + sha256Hex(samtoolsView(t, d.bam)) + " verified"; !strings.Contains(dl.stderr, want) {
		t.Errorf("download did not say %q:\n%s", want, dl.stderr)
	}
	// The index answers as samtools' own does.
	theirs := filepath.Join(t.TempDir(), "theirs.bam")
	os.WriteFile(theirs, readFile(t, d.bam), 0o644)
	testutil.Run(t, "samtools", "index", theirs)
	region := "gi|9626243|ref|NC_001416.1|:20000-20500"
	if got, want := testutil.Run(t, "samtools", "view", "-X", paths[0], paths[1], region), testutil.Run(t, "samtools", "view", theirs, region); len(want) == 0 || !bytes.Equal(got, want) {
		t.Errorf("region query through the downloaded index: %d bytes, want %d", len(got), len(want))
	}
}

// A CRAM goes up with one command once its reference is in seqstore: the
// local check decodes it against the FASTA given with -reference, the
// server against the imported reference, and the download is the CRAM sent.
func TestTransferCLICRAM(t *testing.T) {
	d := lambdaData(t)
	places := jobPlaces(t)[:1]
	cfg := newConfig(t, backends[0])
	allowJobs(t, cfg, places)
	in := start(t, backends[0], cfg)
	c := in.goClient(in.rootKey())
	refArn := importLambdaReference(t, c, places[0], d.ref)
	store := newStore(t, c, "")
	cram := filepath.Join(t.TempDir(), "lambda.cram")
	testutil.Run(t, "samtools", "view", "-C", "-T", d.ref, "-o", cram, d.bam)

	up := decodeJSON[uploadJSON](t, in.mustSeqstore(t, "upload", "-store", store, "-subject", "s", "-sample", "s", "-name", "lambda",
		"-reference-arn", refArn, "-reference", d.ref, "-wait", "-json", "-part-size", "8192", cram).stdout)
	if up.FileType != "CRAM" || up.Status != "ACTIVE" || up.PartsSent < 2 || up.PartsVerified != up.PartsSent {
		t.Fatalf("CRAM upload: %+v", up)
	}
	md, err := c.GetReadSetMetadata(context.Background(), &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: aws.String(up.ReadSetID)})
	if err != nil {
		t.Fatal(err)
	}
	if want := md5Hex(testutil.Run(t, "samtools", "view", "-T", d.ref, cram)); aws.ToString(md.Etag.Source1) != want || aws.ToString(md.ReferenceArn) != refArn {
		t.Errorf("CRAM read set: etag %s (want %s), reference %s", aws.ToString(md.Etag.Source1), want, aws.ToString(md.ReferenceArn))
	}
	dir := t.TempDir()
	paths := strings.Fields(in.mustSeqstore(t, "download", "-store", store, up.ReadSetID, "-o", dir).stdout)
	if len(paths) != 2 || !strings.HasSuffix(paths[0], ".cram") || !strings.HasSuffix(paths[1], ".crai") {
		t.Fatalf("download wrote %q", paths)
	}
	if !bytes.Equal(readFile(t, paths[0]), readFile(t, cram)) {
		t.Errorf("downloaded CRAM differs from the upload")
	}
	theirs := filepath.Join(t.TempDir(), "theirs.cram")
	os.WriteFile(theirs, readFile(t, cram), 0o644)
	testutil.Run(t, "samtools", "index", theirs)
	region := "gi|9626243|ref|NC_001416.1|:20000-20500"
	if got, want := testutil.Run(t, "samtools", "view", "-T", d.ref, "-X", paths[0], paths[1], region), testutil.Run(t, "samtools", "view", "-T", d.ref, theirs, region); len(want) == 0 || !bytes.Equal(got, want) {
		t.Errorf("region query through the downloaded CRAI: %d bytes, want %d", len(got), len(want))
	}

	// Without the FASTA the local check cannot decode it, and says so
	// before sending anything.
	r := in.seqstore(t, "upload", "-store", store, "-subject", "s", "-sample", "s", "-reference-arn", refArn, cram)
	if r.exitCode != 1 || !strings.Contains(r.stderr, "-reference") {
		t.Errorf("CRAM without -reference: exit %d: %s", r.exitCode, r.stderr)
	}
}

// A defect is found before anything is sent: the server sees no upload and
// no read set.
func TestTransferCLIRefusesDefectBeforeUpload(t *testing.T) {
	d := lambdaData(t)
	in := start(t, backends[0], nil)
	c := in.goClient(in.rootKey())
	store := newStore(t, c, "")
	dir := t.TempDir()
	// Mate 2 lacks its first record: every name after it is off by one.
	r2 := readFile(t, d.r2)
	shifted := filepath.Join(dir, "r2.fq")
	cut := 0
	for range 4 {
		cut += bytes.IndexByte(r2[cut:], '\n') + 1
	}
	if err := os.WriteFile(shifted, r2[cut:], 0o644); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "cut.bam")
	bam := readFile(t, d.bam)
	if err := os.WriteFile(truncated, bam[:len(bam)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	cram := filepath.Join(dir, "aligned.cram")
	testutil.Run(t, "samtools", "view", "-C", "-T", d.ref, "-o", cram, d.bam)
	for name, tc := range map[string]struct {
		files []string
		want  string
	}{
		"CRAM without its FASTA": {[]string{cram}, "give its FASTA reference with -reference"},
		"unpaired mates":         {[]string{d.r1, shifted}, "does not pair"},
		"truncated BAM":          {[]string{truncated}, "source1"},
		"BAM sent as FASTQ":      {[]string{d.bam}, "holds BAM, not FASTQ"},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"upload", "-store", store, "-subject", "s", "-sample", "s", "-reference-arn", testReferenceArn}, tc.files...)
			if name == "BAM sent as FASTQ" {
				args = append(args, "-type", "fastq")
			}
			r := in.seqstore(t, args...)
			if r.exitCode != 1 || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "nothing was uploaded") {
				t.Errorf("exit %d, stderr:\n%s", r.exitCode, r.stderr)
			}
		})
	}
	uploads, err := c.ListMultipartReadSetUploads(context.Background(), &omics.ListMultipartReadSetUploadsInput{SequenceStoreId: aws.String(store)})
	if err != nil {
		t.Fatal(err)
	}
	sets, err := c.ListReadSets(context.Background(), &omics.ListReadSetsInput{SequenceStoreId: aws.String(store)})
	if err != nil {
		t.Fatal(err)
	}
	if len(uploads.Uploads) != 0 || len(sets.ReadSets) != 0 {
		t.Errorf("the server saw %d uploads and %d read sets", len(uploads.Uploads), len(sets.ReadSets))
	}
}

// On a terminal the progress is a bar redrawn in place; run under a
// pseudo-terminal with script(1).
func TestTransferCLIProgressOnTerminal(t *testing.T) {
	d := lambdaData(t)
	script := testutil.RequireTool(t, "script")
	in := start(t, backends[0], nil)
	c := in.goClient(in.rootKey())
	store := newStore(t, c, "")
	command := fmt.Sprintf("%s upload -store %s -subject s -sample s -part-size 200000 -wait %s", seqstoreBinary(t), store, d.r1)
	cmd := exec.Command(script, "-qefc", command, "/dev/null")
	cmd.Env = in.cliEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"\x1b[J", "source1 r1.fq [", "100% ", "done in", "read set", "ACTIVE"} {
		if !strings.Contains(text, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, text)
		}
	}
	if strings.Contains(text, "part 1 of") {
		t.Errorf("terminal output holds the plain per-part lines:\n%q", text)
	}
	// -quiet prints the ID and nothing else, terminal or not.
	cmd = exec.Command(script, "-qefc", command+" -quiet", "/dev/null")
	cmd.Env = in.cliEnv()
	out, err = cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); len(got) != 10 || strings.ContainsAny(got, " \x1b") {
		t.Errorf("-quiet printed %q, want the read set ID alone", got)
	}
}

// A download whose stored bytes were changed into another valid file of
// the same length fails on the ETag, and leaves no file behind.
func TestTransferCLIDetectsTamperedDownload(t *testing.T) {
	d := lambdaData(t)
	in := start(t, backends[0], nil)
	c := in.goClient(in.rootKey())
	store := newStore(t, c, "")
	dir := t.TempDir()
	// An uncompressed BAM: its BGZF blocks hold the records as they are,
	// so one can be changed and the block's CRC fixed.
	ubam := filepath.Join(dir, "plain.bam")
	testutil.Run(t, "samtools", "view", "-u", "-o", ubam, d.ubam)
	original := readFile(t, ubam)
	id := strings.TrimSpace(in.mustSeqstore(t, "upload", "-store", store, "-subject", "s", "-sample", "s", "-wait", "-quiet", ubam).stdout)

	ctx := context.Background()
	var key string
	in.srv.Blobs.List(ctx, "readsets/", func(k string, a blobAttrs) error {
		if a.Size == int64(len(original)) {
			key = k
		}
		return nil
	})
	if key == "" {
		t.Fatal("the stored BAM is not in the object store")
	}
	tampered := renameRead(t, original)
	w, err := in.srv.Blobs.NewWriter(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(tampered)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	r := in.seqstore(t, "download", "-store", store, id, "-o", out, "-file", "source1")
	if r.exitCode != 1 || !strings.Contains(r.stderr, "damaged") || !strings.Contains(r.stderr, "BAM_MD5up") {
		t.Errorf("tampered download: exit %d\n%s", r.exitCode, r.stderr)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a failed download left %d files", len(entries))
	}
	// Only the ETag tells: with lengths alone the tampered file passes.
	r = in.seqstore(t, "download", "-store", store, id, "-o", out, "-file", "source1", "-no-verify")
	if r.exitCode != 0 || !bytes.Equal(readFile(t, strings.TrimSpace(r.stdout)), tampered) {
		t.Errorf("download -no-verify: exit %d\n%s", r.exitCode, r.stderr)
	}
}

// renameRead changes one digit of the first read name "r<digits>" in an
// uncompressed BGZF file and fixes the CRC of the block it is in, so that
// the file stays valid BAM of the same length but says something else.
func renameRead(t *testing.T, b []byte) []byte {
	t.Helper()
	b = bytes.Clone(b)
	for off := 0; off+18 <= len(b); {
		bsize := int(binary.LittleEndian.Uint16(b[off+16:])) + 1
		block := b[off : off+bsize]
		// A stored deflate block: a header byte, LEN, NLEN, then the data.
		data := block[18 : len(block)-8]
		// Only a block that is one final stored block is used.
		if len(data) > 5 && data[0] == 1 && int(binary.LittleEndian.Uint16(data[1:]))+5 == len(data) {
			payload := data[5:]
			if i := bytes.Index(payload, []byte("\x00r1")); i >= 0 && i+4 < len(payload) {
				// Skip to the name's first digit after "r1".
				p := i + 3
				payload[p-1] = '9'
				binary.LittleEndian.PutUint32(block[len(block)-8:], crc32.ChecksumIEEE(payload))
				return b
			}
		}
		off += bsize
	}
	t.Fatal("no read name r1... found in a stored block")
	return nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// A file the server refuses fails its read set; with -wait the command
// prints the status message and exits 1.
func TestTransferCLIWaitReportsUploadFailed(t *testing.T) {
	in := start(t, backends[0], nil)
	c := in.goClient(in.rootKey())
	store := newStore(t, c, "")
	bad := filepath.Join(t.TempDir(), "bad.fq")
	if err := os.WriteFile(bad, []byte("@r1\nACGT\n+\nIIII\n@r2\nACGT\n+\nII\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := in.seqstore(t, "upload", "-store", store, "-subject", "s", "-sample", "s", "-no-check", "-wait", bad)
	id, status, _ := strings.Cut(strings.TrimSpace(r.stdout), "\t")
	if r.exitCode != 1 || status != "UPLOAD_FAILED" || !strings.Contains(r.stderr, "read set "+id+" is UPLOAD_FAILED: source1, record 2") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", r.exitCode, r.stdout, r.stderr)
	}
	w := in.seqstore(t, "wait", "-store", store, id)
	if w.exitCode != 1 || strings.TrimSpace(w.stdout) != "UPLOAD_FAILED" || !strings.Contains(w.stderr, "source1, record 2") {
		t.Errorf("wait: exit %d\nstdout: %s\nstderr: %s", w.exitCode, w.stdout, w.stderr)
	}
	// The local check would have refused it.
	r = in.seqstore(t, "upload", "-store", store, "-subject", "s", "-sample", "s", bad)
	if r.exitCode != 1 || !strings.Contains(r.stderr, "source1, record 2") || !strings.Contains(r.stderr, "nothing was uploaded") {
		t.Errorf("checked upload: exit %d\n%s", r.exitCode, r.stderr)
	}
}

// With no AWS variables at all, -profile finds the key, the region and the
// endpoint in the shared files, and host prefixes are off for that
// endpoint too.
func TestTransferCLIProfile(t *testing.T) {
	in := start(t, backends[0], nil)
	c := in.goClient(in.rootKey())
	store := newStore(t, c, "")
	dir := t.TempDir()
	key := in.rootKey()
	config := filepath.Join(dir, "config")
	credentials := filepath.Join(dir, "credentials")
	os.WriteFile(config, []byte("[profile lab]\nregion = us-east-1\nendpoint_url = "+in.endpoint+"\n"), 0o600)
	os.WriteFile(credentials, []byte("[lab]\naws_access_key_id = "+key.ID+"\naws_secret_access_key = "+key.Secret+"\n"), 0o600)
	cmd := exec.Command(seqstoreBinary(t), "ls", "-profile", "lab")
	cmd.Env = append(testutil.EnvWithoutAWS(), "AWS_CONFIG_FILE="+config, "AWS_SHARED_CREDENTIALS_FILE="+credentials)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), store) {
		t.Errorf("ls -profile lab: %v\n%s", err, out)
	}
	// Without the profile there is no region to send anything to.
	cmd = exec.Command(seqstoreBinary(t), "ls")
	cmd.Env = append(testutil.EnvWithoutAWS(), "AWS_CONFIG_FILE="+config, "AWS_SHARED_CREDENTIALS_FILE="+credentials)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "no AWS region") {
		t.Errorf("ls without a profile: %v\n%s", err, out)
	}
}
