package integration

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore/internal/testutil"
)

// importLambdaReference imports the lambda phage reference from places[0]
// and returns its ARN.
func importLambdaReference(t *testing.T, c *omics.Client, place *jobPlace, ref string) string {
	t.Helper()
	return importLambdaReferenceWith(t, c, place, ref, nil)
}

// importLambdaReferenceWith is importLambdaReference into a reference store
// created with sse.
func importLambdaReferenceWith(t *testing.T, c *omics.Client, place *jobPlace, ref string, sse *types.SseConfig) string {
	t.Helper()
	ctx := context.Background()
	rst, err := c.CreateReferenceStore(ctx, &omics.CreateReferenceStoreInput{Name: aws.String("refs"), SseConfig: sse})
	if err != nil {
		t.Fatal(err)
	}
	started, err := c.StartReferenceImportJob(ctx, &omics.StartReferenceImportJobInput{ReferenceStoreId: rst.Id, RoleArn: aws.String(testRoleArn),
		Sources: []types.StartReferenceImportJobSourceItem{{SourceFile: aws.String(place.put(t, "ref/lambda.fa", ref)), Name: aws.String("lambda")}}})
	if err != nil {
		t.Fatal(err)
	}
	job := waitReferenceImport(t, c, *rst.Id, *started.Id)
	if job.Status != types.ReferenceImportJobStatusCompleted {
		t.Fatalf("reference import %s: %+v", job.Status, job.Sources)
	}
	md, err := c.GetReferenceMetadata(ctx, &omics.GetReferenceMetadataInput{ReferenceStoreId: rst.Id, Id: job.Sources[0].ReferenceId})
	if err != nil {
		t.Fatal(err)
	}
	return *md.Arn
}

// TestCRAMReadSets: CRAM 3.0 and 3.1 (normal and archive profiles) made by
// samtools from the lambda alignments arrive through upload and through
// import, decoded against a reference imported into seqstore: the counts
// of the same reads as BAM, the ETag of what `samtools view -T` prints, a
// CRAI samtools accepts for region queries, and the stored bytes as sent.
func TestCRAMReadSets(t *testing.T) {
	d := lambdaData(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			places := jobPlaces(t)[:1]
			cfg := newConfig(t, b)
			allowJobs(t, cfg, places)
			in := start(t, b, cfg)
			c := in.goClient(in.rootKey())
			ctx := context.Background()
			refArn := importLambdaReference(t, c, places[0], d.ref)
			store := newStore(t, c, "")
			dir := t.TempDir()
			primary := strings.TrimSpace(string(testutil.Run(t, "samtools", "view", "-c", "-F", "0x900", d.bam)))
			for _, v := range []struct{ name, opts string }{
				{"v30", "version=3.0"},
				{"v31-normal", "version=3.1"},
				{"v31-archive", "version=3.1,archive"},
			} {
				if b.scaleOut && v.name != "v31-normal" {
					continue // the codecs are the same on either backend
				}
				t.Run(v.name, func(t *testing.T) {
					file := filepath.Join(dir, v.name+".cram")
					args := append([]string{"view", "-C", "-T", d.ref, "--output-fmt-option", strings.Split(v.opts, ",")[0]}, profileArgs(v.opts)...)
					testutil.Run(t, "samtools", append(args, "-o", file, d.bam)...)
					want := md5Hex(testutil.Run(t, "samtools", "view", "-T", d.ref, file))
					// samtools' own index of a copy, to compare regions with.
					theirs := filepath.Join(dir, v.name+".theirs.cram")
					testutil.Run(t, "cp", file, theirs)
					testutil.Run(t, "samtools", "index", theirs)
					uploaded := waitIngested(t, c, store, uploadFiles(t, c, store, types.FileTypeCram, refArn, 1<<20, file))
					src := importSource(types.FileTypeCram, "imported-"+v.name, places[0].put(t, "cram/"+v.name+".cram", file))
					src.ReferenceArn = aws.String(refArn)
					started, err := c.StartReadSetImportJob(ctx, &omics.StartReadSetImportJobInput{SequenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn),
						Sources: []types.StartReadSetImportJobSourceItem{src}})
					if err != nil {
						t.Fatal(err)
					}
					job := waitImport(t, c, store, *started.Id)
					if job.Status != types.ReadSetImportJobStatusCompleted {
						t.Fatalf("import %s: %+v", job.Status, job.Sources)
					}
					imported, err := c.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: job.Sources[0].ReadSetId})
					if err != nil {
						t.Fatal(err)
					}
					for how, md := range map[string]*omics.GetReadSetMetadataOutput{"upload": uploaded, "import": imported} {
						if md.Status != types.ReadSetStatusActive {
							t.Fatalf("%s: %s %q", how, md.Status, aws.ToString(md.StatusMessage))
						}
						if got := strconv.FormatInt(*md.SequenceInformation.TotalReadCount, 10); got != primary {
							t.Errorf("%s: totalReadCount %s, samtools counts %s primary records", how, got, primary)
						}
						if md.Etag.Algorithm != types.ETagAlgorithmCramMd5up || aws.ToString(md.Etag.Source1) != want {
							t.Errorf("%s: etag %s %s, want CRAM_MD5up %s", how, md.Etag.Algorithm, aws.ToString(md.Etag.Source1), want)
						}
						if aws.ToString(md.ReferenceArn) != refArn {
							t.Errorf("%s: referenceArn %s", how, aws.ToString(md.ReferenceArn))
						}
						if md.Files.Index == nil {
							t.Fatalf("%s: a coordinate-sorted CRAM got no index", how)
						}
						original, _ := os.ReadFile(file)
						stored := download(t, c, store, *md.Id, types.ReadSetFileSource1, md.Files.Source1)
						if !bytes.Equal(stored, original) {
							t.Fatalf("%s: the stored CRAM differs from the one sent", how)
						}
						crai := filepath.Join(t.TempDir(), "ours.crai")
						os.WriteFile(crai, download(t, c, store, *md.Id, types.ReadSetFileIndex, md.Files.Index), 0o644)
						for _, region := range []string{"gi|9626243|ref|NC_001416.1|:1-1000", "gi|9626243|ref|NC_001416.1|:20000-20500"} {
							got := testutil.Run(t, "samtools", "view", "-T", d.ref, "-X", file, crai, region)
							wantRegion := testutil.Run(t, "samtools", "view", "-T", d.ref, theirs, region)
							if !bytes.Equal(got, wantRegion) || len(got) == 0 {
								t.Errorf("%s: region %s through seqstore's CRAI gives %d bytes, samtools' own %d", how, region, len(got), len(wantRegion))
							}
						}
					}
				})
			}
			// BAMs are checked against a reference kept here: the same
			// BAM passes, one whose @SQ line says another length fails,
			// naming the sequence.
			good := waitIngested(t, c, store, uploadFiles(t, c, store, types.FileTypeBam, refArn, 1<<20, d.bam))
			if good.Status != types.ReadSetStatusActive {
				t.Fatalf("a BAM that agrees with its reference: %s %q", good.Status, aws.ToString(good.StatusMessage))
			}
			header := string(testutil.Run(t, "samtools", "view", "-H", d.bam))
			wrong := filepath.Join(dir, "header.sam")
			os.WriteFile(wrong, []byte(strings.Replace(header, "LN:48502", "LN:48503", 1)), 0o644)
			reheadered := filepath.Join(dir, "wrong-length.bam")
			os.WriteFile(reheadered, testutil.Run(t, "samtools", "reheader", wrong, d.bam), 0o644)
			bad := waitIngested(t, c, store, uploadFiles(t, c, store, types.FileTypeBam, refArn, 1<<20, reheadered))
			if msg := aws.ToString(bad.StatusMessage); bad.Status != types.ReadSetStatusUploadFailed || !strings.Contains(msg, "gi|9626243|ref|NC_001416.1|") || !strings.Contains(msg, "48503") {
				t.Errorf("a BAM whose @SQ disagrees with its reference: %s %q", bad.Status, msg)
			}

			// A CRAM needs its reference here: an ARN of the right form
			// that names nothing stored is refused.
			_, err := c.CreateMultipartReadSetUpload(ctx, &omics.CreateMultipartReadSetUploadInput{SequenceStoreId: aws.String(store), SourceFileType: types.FileTypeCram,
				SubjectId: aws.String("s"), SampleId: aws.String("s"), Name: aws.String("no-ref"), ReferenceArn: aws.String(testReferenceArn)})
			if code := apiErrorCode(t, err); code != "ResourceNotFoundException" {
				t.Errorf("CRAM upload against a reference seqstore does not hold: %s", code)
			}
		})
	}
}

// profileArgs turns "version=3.1,archive" into samtools' options.
func profileArgs(opts string) []string {
	parts := strings.Split(opts, ",")
	var args []string
	for _, p := range parts[1:] {
		args = append(args, "--output-fmt-option", p)
	}
	return args
}
