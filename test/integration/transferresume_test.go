package integration

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/seqstore/seqstore/internal/transfer"
)

// partCounter counts the UploadReadSetPart calls a client makes.
type partCounter struct{ n atomic.Int64 }

// client returns c counting its part uploads.
func (p *partCounter) client(c *omics.Client) *omics.Client {
	return omics.New(c.Options(), func(o *omics.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("CountParts",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if awsmiddleware.GetOperationName(ctx) == "UploadReadSetPart" {
						p.n.Add(1)
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.After)
		})
	})
}

// listedParts counts the parts an upload holds on the server.
func listedParts(t *testing.T, c *omics.Client, store, upload string) int {
	t.Helper()
	n := 0
	for _, src := range []types.ReadSetPartSource{types.ReadSetPartSourceSource1, types.ReadSetPartSourceSource2} {
		out, err := c.ListReadSetUploadParts(context.Background(), &omics.ListReadSetUploadPartsInput{SequenceStoreId: aws.String(store), UploadId: aws.String(upload), PartSource: src})
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.Parts)
	}
	return n
}

// interruptedUpload uploads files in parts of partSize, one at a time, and
// cancels after stopAfter parts.
func interruptedUpload(t *testing.T, api *omics.Client, in transfer.UploadInput, partSize int64, stopAfter int) *transfer.UploadResult {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := 0
	c := &transfer.Client{API: api, Concurrency: 1, PartSize: partSize, Progress: func(e transfer.Event) {
		if e.Kind == transfer.EventPartDone {
			if done++; done == stopAfter {
				cancel()
			}
		}
	}}
	res, err := c.Upload(ctx, in)
	if err == nil || !strings.Contains(err.Error(), "interrupted") || res == nil || res.UploadID == "" {
		t.Fatalf("cancelled upload: %+v, %v", res, err)
	}
	return res
}

func TestTransferResumesInterruptedUpload(t *testing.T) {
	d := lambdaData(t)
	forEachBackend(t, func(t *testing.T, b backend, in *instance) {
		c := in.goClient(in.rootKey())
		store := newStore(t, c, "")
		const partSize = 256 << 10 // about 9 parts per mate
		upload := transfer.UploadInput{StoreID: store, FileType: types.FileTypeFastq, Name: "pair", SubjectID: "s", SampleID: "s", Files: []string{d.r1, d.r2}}
		first := interruptedUpload(t, c, upload, partSize, 5)
		if got := listedParts(t, c, store, first.UploadID); got != 5 {
			t.Fatalf("the interrupted upload holds %d parts, want the 5 sent", got)
		}

		var counter partCounter
		tc := &transfer.Client{API: counter.client(c), Concurrency: 3, PartSize: partSize}
		res, err := tc.Upload(context.Background(), upload)
		if err != nil {
			t.Fatal(err)
		}
		total := int((int64(len(readFile(t, d.r1)))+partSize-1)/partSize + (int64(len(readFile(t, d.r2)))+partSize-1)/partSize)
		if !res.Resumed || res.UploadID != first.UploadID || res.PartsKept != 5 || res.PartsSent != total-5 || res.PartsVerified != total {
			t.Errorf("resumed upload: %+v, want upload %s resumed with 5 parts kept of %d", res, first.UploadID, total)
		}
		if got := counter.n.Load(); got != int64(total-5) {
			t.Errorf("the resumed upload sent %d parts, want the %d missing", got, total-5)
		}
		if _, err := tc.Wait(context.Background(), transfer.ReadSet{API: c, StoreID: store, ID: res.ReadSetID}); err != nil {
			t.Fatal(err)
		}
		md := waitIngested(t, c, store, res.ReadSetID)
		if *md.Etag.Source1 != md5Hex(readFile(t, d.r1)) || *md.Etag.Source2 != md5Hex(readFile(t, d.r2)) {
			t.Errorf("resumed read set's ETag %+v is not the files'", md.Etag)
		}
	})
}

// An unfinished upload with the same name but other bytes is someone
// else's: it is left alone and a new upload sends every part.
func TestTransferDoesNotResumeOtherBytes(t *testing.T) {
	d := lambdaData(t)
	in := start(t, backends[0], nil)
	c := in.goClient(in.rootKey())
	store := newStore(t, c, "")
	const partSize = 256 << 10
	upload := transfer.UploadInput{StoreID: store, FileType: types.FileTypeFastq, Name: "reads", SubjectID: "s", SampleID: "s", Files: []string{d.r1}}
	first := interruptedUpload(t, c, upload, partSize, 2)

	upload.Files = []string{d.r2}
	var counter partCounter
	var steps []string
	tc := &transfer.Client{API: counter.client(c), PartSize: partSize, Progress: func(e transfer.Event) {
		if e.Kind == transfer.EventStep {
			steps = append(steps, e.Message)
		}
	}}
	res, err := tc.Upload(context.Background(), upload)
	if err != nil {
		t.Fatal(err)
	}
	total := (int64(len(readFile(t, d.r2))) + partSize - 1) / partSize
	if res.Resumed || res.UploadID == first.UploadID || counter.n.Load() != total {
		t.Errorf("upload of other bytes: %+v after %d part calls; want a new upload of all %d parts", res, counter.n.Load(), total)
	}
	if !strings.Contains(strings.Join(steps, "\n"), first.UploadID+" has the same name but its parts are not these files") {
		t.Errorf("steps do not say why %s was not resumed: %q", first.UploadID, steps)
	}
	if got := listedParts(t, c, store, first.UploadID); got != 2 {
		t.Errorf("the other upload now holds %d parts, want its 2 untouched", got)
	}
}

// Ctrl-C stops `seqstore upload`; the same command run again sends the
// rest.
func TestTransferCLIResumesAfterInterrupt(t *testing.T) {
	d := lambdaData(t)
	in := start(t, backends[0], nil)
	c := in.goClient(in.rootKey())
	store := newStore(t, c, "")
	args := []string{"upload", "-store", store, "-subject", "s", "-sample", "s", "-part-size", "65536", "-concurrency", "1", "-wait", d.r1}
	cmd := exec.Command(seqstoreBinary(t), args...)
	cmd.Env = in.cliEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen bytes.Buffer
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "part 3 of") {
			cmd.Process.Signal(syscall.SIGINT)
			break
		}
	}
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(seen.String(), "run the same command again") {
		t.Fatalf("interrupted upload: %v\n%s", err, seen.String())
	}

	r := in.mustSeqstore(t, args...)
	m := regexp.MustCompile(`resuming upload \d+: (\d+) of (\d+) parts are there already`).FindStringSubmatch(r.stderr)
	if m == nil || m[1] == "0" || m[1] == m[2] {
		t.Fatalf("the second run did not resume:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "part 1 of") {
		t.Errorf("the second run sent part 1 again:\n%s", r.stderr)
	}
	if !strings.HasSuffix(strings.TrimSpace(r.stdout), "ACTIVE") {
		t.Errorf("stdout %q", r.stdout)
	}
}

// flipOnce turns one byte of a request body over, the first time it passes:
// a connection that damages data in flight.
type flipOnce struct {
	rs      io.ReadSeeker
	pos, at int64
	done    *atomic.Bool
}

func (f *flipOnce) Read(p []byte) (int, error) {
	n, err := f.rs.Read(p)
	if f.at >= f.pos && f.at < f.pos+int64(n) && f.done.CompareAndSwap(false, true) {
		p[f.at-f.pos] ^= 0xff
	}
	f.pos += int64(n)
	return n, err
}

func (f *flipOnce) Seek(off int64, whence int) (int64, error) {
	pos, err := f.rs.Seek(off, whence)
	f.pos = pos
	return pos, err
}

// A part damaged on its way is caught by its checksum and sent again, and
// the read set comes out whole.
func TestTransferResendsDamagedPart(t *testing.T) {
	d := lambdaData(t)
	in := start(t, backends[0], nil)
	c := in.goClient(in.rootKey())
	store := newStore(t, c, "")
	var flipped atomic.Bool
	damaging := omics.New(c.Options(), func(o *omics.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("Damage",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					if req, ok := in.Request.(*smithyhttp.Request); ok && awsmiddleware.GetOperationName(ctx) == "UploadReadSetPart" && strings.Contains(req.URL.RawQuery, "partNumber=2&") {
						if rs, ok := req.GetStream().(io.ReadSeeker); ok {
							r, err := req.SetStream(&flipOnce{rs: rs, at: 1000, done: &flipped})
							if err != nil {
								return middleware.FinalizeOutput{}, middleware.Metadata{}, err
							}
							in.Request = r
						}
					}
					return next.HandleFinalize(ctx, in)
				}), middleware.After)
		})
	})
	var steps []string
	tc := &transfer.Client{API: damaging, PartSize: 256 << 10, Progress: func(e transfer.Event) {
		if e.Kind == transfer.EventStep {
			steps = append(steps, e.Message)
		}
	}}
	res, err := tc.Upload(context.Background(), transfer.UploadInput{StoreID: store, FileType: types.FileTypeFastq, Name: "r", SubjectID: "s", SampleID: "s", Files: []string{d.r1}})
	if err != nil {
		t.Fatal(err)
	}
	if !flipped.Load() || !strings.Contains(strings.Join(steps, "\n"), "part 2 of source1 arrived damaged") {
		t.Fatalf("no part was damaged and sent again (flipped %v): %q", flipped.Load(), steps)
	}
	md := waitIngested(t, c, store, res.ReadSetID)
	if md.Status != types.ReadSetStatusActive || *md.Etag.Source1 != md5Hex(readFile(t, d.r1)) {
		t.Errorf("read set %s, etag %+v", md.Status, md.Etag)
	}
}
