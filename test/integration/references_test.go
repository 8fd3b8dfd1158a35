package integration

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore/internal/testutil"
)

// referenceFile is a FASTA file to import: the bytes to put at the source,
// and the plain FASTA they hold.
type referenceFile struct {
	name  string // file name at the source
	file  string // what to put there
	plain string // the plain FASTA it holds
	seqs  []string
}

// referenceFiles are the lambda phage reference of bowtie2-examples plain
// and gzip-compressed, and two slices of the chrX of smalt-examples, cut
// with samtools faidx (which wraps lines at 60), BGZF-compressed.
func referenceFiles(t *testing.T) []referenceFile {
	t.Helper()
	for _, tool := range []string{"samtools", "bgzip"} {
		testutil.RequireTool(t, tool)
	}
	lambda := filepath.Join(testutil.RequireDir(t, "/usr/share/doc/bowtie2/examples"), "reference/lambda_virus.fa.gz")
	chrX := filepath.Join(testutil.RequireDir(t, "/usr/share/doc/smalt/test/data"), "hs37chrXtrunc.fa.gz")
	dir := t.TempDir()
	sh := func(script string) {
		t.Helper()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
	}
	sh("gzip -dc " + lambda + " > lambda.fa && gzip -c lambda.fa > lambda.fa.gz")
	sh("gzip -dc " + chrX + " > chrX_full.fa && samtools faidx chrX_full.fa X:2700001-2760000 X:3000001-3030017 > chrX.fasta && rm chrX_full.fa* && bgzip -c chrX.fasta > chrX.fasta.bgz")
	p := func(name string) string { return filepath.Join(dir, name) }
	lambdaName := "gi|9626243|ref|NC_001416.1|"
	return []referenceFile{
		{name: "lambda.fa", file: p("lambda.fa"), plain: p("lambda.fa"), seqs: []string{lambdaName}},
		{name: "lambda.fa.gz", file: p("lambda.fa.gz"), plain: p("lambda.fa"), seqs: []string{lambdaName}},
		{name: "chrX.fasta.bgz", file: p("chrX.fasta.bgz"), plain: p("chrX.fasta"), seqs: []string{"X:2700001-2760000", "X:3000001-3030017"}},
	}
}

// brokenReferences are FASTA files each with one defect, and the message
// its import must fail with.
var brokenReferences = []struct{ name, text, want string }{
	{"duplicate.fa", ">a\nACGT\n>b\nAC\n>a\nGG\n", `sequence name "a" is used by an earlier sequence`},
	{"residue.fa", ">a\nACGT\n>b desc\nACGT\nACXT\n", `sequence "b", line 5: column 3: 'X' is not an IUPAC nucleotide code`},
	{"ragged.fa", ">a\nACGT\nAC\nACGT\n", `sequence "a", line 4: uneven lines: line 3 is shorter than those before it but is not the last`},
	{"empty.fa", ">a\nACGT\n>e\n>c\nAC\n", `sequence "e", line 3: empty sequence`},
}

// waitReferenceImport polls a reference import job until it ends.
func waitReferenceImport(t *testing.T, c *omics.Client, store, id string) *omics.GetReferenceImportJobOutput {
	t.Helper()
	var j *omics.GetReferenceImportJobOutput
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var err error
		if j, err = c.GetReferenceImportJob(context.Background(), &omics.GetReferenceImportJobInput{ReferenceStoreId: aws.String(store), Id: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
		if j.Status != types.ReferenceImportJobStatusSubmitted && j.Status != types.ReferenceImportJobStatusInProgress {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("reference import job %s still %s after 3 minutes", id, j.Status)
		}
	}
}

// downloadReference reads every part of a reference's file.
func downloadReference(t *testing.T, c *omics.Client, store, id string, file types.ReferenceFile, parts int32) []byte {
	t.Helper()
	var all []byte
	for n := int32(1); n <= parts; n++ {
		out, err := c.GetReference(context.Background(), &omics.GetReferenceInput{ReferenceStoreId: aws.String(store), Id: aws.String(id), File: file, PartNumber: aws.Int32(n)})
		if err != nil {
			t.Fatalf("GetReference %s part %d: %v", file, n, err)
		}
		b, err := io.ReadAll(out.Payload)
		out.Payload.Close()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// TestReferenceImportServeDelete imports references from file:// and s3://
// sources, plain, gzip and BGZF, among broken ones; checks what is served
// with samtools faidx against the originals; reads ranges; and deletes,
// refused while a read set uses the reference.
func TestReferenceImportServeDelete(t *testing.T) {
	files := referenceFiles(t)
	d := lambdaData(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			places := jobPlaces(t)
			cfg := newConfig(t, b)
			allowJobs(t, cfg, places)
			in := start(t, b, cfg)
			c := in.goClient(in.rootKey())
			ctx := context.Background()
			rst, err := c.CreateReferenceStore(ctx, &omics.CreateReferenceStoreInput{Name: aws.String("refs")})
			if err != nil {
				t.Fatal(err)
			}
			store := *rst.Id
			var lambdaArn, lambdaID string
			var all []string
			for _, p := range places {
				t.Run(p.name, func(t *testing.T) {
					var sources []types.StartReferenceImportJobSourceItem
					for _, f := range files {
						sources = append(sources, types.StartReferenceImportJobSourceItem{
							SourceFile: aws.String(p.put(t, "refs/"+f.name, f.file)), Name: aws.String(p.name + "-" + f.name),
							Tags: map[string]string{"origin": "import"},
						})
					}
					for _, br := range brokenReferences {
						sources = append(sources, types.StartReferenceImportJobSourceItem{
							SourceFile: aws.String(p.putBytes(t, "broken/"+br.name, []byte(br.text))), Name: aws.String(br.name)})
					}
					sources = append(sources, types.StartReferenceImportJobSourceItem{SourceFile: aws.String(p.uri("refs/no-such.fa")), Name: aws.String("missing")})
					started, err := c.StartReferenceImportJob(ctx, &omics.StartReferenceImportJobInput{
						ReferenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn), Sources: sources})
					if err != nil {
						t.Fatal(err)
					}
					job := waitReferenceImport(t, c, store, *started.Id)
					if job.Status != types.ReferenceImportJobStatusCompletedWithFailures || job.CompletionTime == nil || len(job.Sources) != len(sources) {
						t.Fatalf("job %s, completion %v, %d sources; want COMPLETED_WITH_FAILURES", job.Status, job.CompletionTime, len(job.Sources))
					}
					for i, br := range brokenReferences {
						src := job.Sources[len(files)+i]
						if src.Status != types.ReferenceImportJobItemStatusFailed || !strings.Contains(aws.ToString(src.StatusMessage), br.want) || src.ReferenceId != nil {
							t.Errorf("%s: %s %q (reference %v); want FAILED saying %q", br.name, src.Status, aws.ToString(src.StatusMessage), aws.ToString(src.ReferenceId), br.want)
						}
					}
					if last := job.Sources[len(sources)-1]; last.Status != types.ReferenceImportJobItemStatusFailed || !strings.Contains(aws.ToString(last.StatusMessage), "no-such.fa") {
						t.Errorf("missing source: %s %q", last.Status, aws.ToString(last.StatusMessage))
					}
					for i, f := range files {
						src := job.Sources[i]
						if src.Status != types.ReferenceImportJobItemStatusFinished || src.ReferenceId == nil {
							t.Fatalf("%s: %s %q", f.name, src.Status, aws.ToString(src.StatusMessage))
						}
						arn := checkServedReference(t, c, store, *src.ReferenceId, *started.Id, f)
						all = append(all, *src.ReferenceId)
						if f.name == "lambda.fa" && lambdaArn == "" {
							lambdaArn, lambdaID = arn, *src.ReferenceId
						}
					}
				})
			}
			if t.Failed() {
				return
			}
			list, err := c.ListReferences(ctx, &omics.ListReferencesInput{ReferenceStoreId: aws.String(store), MaxResults: aws.Int32(4)})
			if err != nil || len(list.References) != 4 || list.NextToken == nil {
				t.Fatalf("first page of references: %v, %v", list, err)
			}
			md, err := c.GetReferenceMetadata(ctx, &omics.GetReferenceMetadataInput{ReferenceStoreId: aws.String(store), Id: aws.String(lambdaID)})
			if err != nil {
				t.Fatal(err)
			}
			byMD5, err := c.ListReferences(ctx, &omics.ListReferencesInput{ReferenceStoreId: aws.String(store), Filter: &types.ReferenceFilter{Md5: md.Md5}})
			if err != nil || len(byMD5.References) != 4 { // lambda plain and gzip, from both places
				t.Errorf("references with lambda's md5: %v, %v", byMD5, err)
			}
			byName, err := c.ListReferences(ctx, &omics.ListReferencesInput{ReferenceStoreId: aws.String(store), Filter: &types.ReferenceFilter{Name: aws.String("s3-chrX.fasta.bgz")}})
			if err != nil || len(byName.References) != 1 {
				t.Errorf("references named s3-chrX.fasta.bgz: %v, %v", byName, err)
			}

			later := time.Now().Add(time.Hour)
			if none, err := c.ListReferences(ctx, &omics.ListReferencesInput{ReferenceStoreId: aws.String(store), Filter: &types.ReferenceFilter{CreatedAfter: &later}}); err != nil || len(none.References) != 0 {
				t.Errorf("references created after an hour from now: %v, %v", none, err)
			}
			// One import job per place, listed a page at a time.
			var jobIDs []string
			for token := (*string)(nil); ; {
				page, err := c.ListReferenceImportJobs(ctx, &omics.ListReferenceImportJobsInput{ReferenceStoreId: aws.String(store), MaxResults: aws.Int32(1), NextToken: token})
				if err != nil {
					t.Fatal(err)
				}
				for _, j := range page.ImportJobs {
					if j.Status != types.ReferenceImportJobStatusCompletedWithFailures || j.CompletionTime == nil {
						t.Errorf("listed job %s: %s", *j.Id, j.Status)
					}
					jobIDs = append(jobIDs, *j.Id)
				}
				if token = page.NextToken; token == nil {
					break
				}
			}
			if len(jobIDs) != len(places) {
				t.Errorf("listed reference import jobs %v, want %d", jobIDs, len(places))
			}

			// A read set aligned to lambda holds it until it is deleted.
			seqStore := newStore(t, c, "")
			rs := waitIngested(t, c, seqStore, uploadFiles(t, c, seqStore, types.FileTypeBam, lambdaArn, 1<<20, d.bam))
			if rs.Status != types.ReadSetStatusActive {
				t.Fatalf("read set %s: %s", *rs.Id, aws.ToString(rs.StatusMessage))
			}
			_, err = c.DeleteReference(ctx, &omics.DeleteReferenceInput{ReferenceStoreId: aws.String(store), Id: aws.String(lambdaID)})
			var conflict *types.ConflictException
			if !errors.As(err, &conflict) || !strings.Contains(err.Error(), "used by 1 read set") {
				t.Fatalf("delete of a reference in use: %v, want ConflictException", err)
			}
			_, err = c.DeleteReferenceStore(ctx, &omics.DeleteReferenceStoreInput{Id: aws.String(store)})
			if !errors.As(err, &conflict) {
				t.Fatalf("delete of a store with references: %v, want ConflictException", err)
			}
			if _, err := c.BatchDeleteReadSet(ctx, &omics.BatchDeleteReadSetInput{SequenceStoreId: aws.String(seqStore), Ids: []string{*rs.Id}}); err != nil {
				t.Fatal(err)
			}
			for _, id := range all {
				if _, err := c.DeleteReference(ctx, &omics.DeleteReferenceInput{ReferenceStoreId: aws.String(store), Id: aws.String(id)}); err != nil {
					t.Fatalf("delete %s: %v", id, err)
				}
			}
			gone, err := c.GetReferenceMetadata(ctx, &omics.GetReferenceMetadataInput{ReferenceStoreId: aws.String(store), Id: aws.String(lambdaID)})
			if err != nil || gone.Status != types.ReferenceStatusDeleted || gone.Files != nil {
				t.Errorf("after delete: %+v, %v; want DELETED without files", gone, err)
			}
			// A deleted reference, or one its store does not hold, aligns
			// no new read set.
			var invalid *types.ValidationException
			for _, arn := range []string{lambdaArn, strings.Replace(lambdaArn, "/reference/"+lambdaID, "/reference/1000000000", 1)} {
				_, err = c.CreateMultipartReadSetUpload(ctx, &omics.CreateMultipartReadSetUploadInput{
					SequenceStoreId: aws.String(seqStore), SourceFileType: types.FileTypeBam, SubjectId: aws.String("s"), SampleId: aws.String("s"),
					Name: aws.String("late"), ReferenceArn: aws.String(arn)})
				if !errors.As(err, &invalid) {
					t.Errorf("upload aligned to %s: %v, want ValidationException", arn, err)
				}
			}
			var notFound *types.ResourceNotFoundException
			if _, err := c.DeleteReference(ctx, &omics.DeleteReferenceInput{ReferenceStoreId: aws.String(store), Id: aws.String(lambdaID)}); !errors.As(err, &notFound) {
				t.Errorf("second delete: %v, want ResourceNotFoundException", err)
			}
			if _, err := c.GetReference(ctx, &omics.GetReferenceInput{ReferenceStoreId: aws.String(store), Id: aws.String(lambdaID), PartNumber: aws.Int32(1)}); !errors.As(err, &notFound) {
				t.Errorf("read of a deleted reference: %v, want ResourceNotFoundException", err)
			}
			if _, err := c.DeleteReferenceStore(ctx, &omics.DeleteReferenceStoreInput{Id: aws.String(store)}); err != nil {
				t.Errorf("delete of the emptied store: %v", err)
			}
		})
	}
}

// checkServedReference checks one imported reference's metadata and files
// against the original, and returns its ARN.
func checkServedReference(t *testing.T, c *omics.Client, store, id, jobID string, f referenceFile) string {
	t.Helper()
	ctx := context.Background()
	md, err := c.GetReferenceMetadata(ctx, &omics.GetReferenceMetadataInput{ReferenceStoreId: aws.String(store), Id: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := os.ReadFile(f.plain)
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(plain)
	if md.Status != types.ReferenceStatusActive || md.CreationType != types.ReferenceCreationTypeImport || aws.ToString(md.CreationJobId) != jobID ||
		aws.ToString(md.Md5) != hex.EncodeToString(sum[:]) || md.Files == nil || md.Files.Source == nil || md.Files.Index == nil {
		t.Fatalf("%s: metadata %+v; want ACTIVE, IMPORT by %s, md5 %x, with source and index", f.name, md, jobID, sum)
	}
	src, idx := md.Files.Source, md.Files.Index
	if *src.ContentLength != int64(len(plain)) || *src.TotalParts != 1 || *src.PartSize <= 0 {
		t.Errorf("%s: source %d bytes in %d parts of %d; want the plain FASTA's %d", f.name, *src.ContentLength, *src.TotalParts, *src.PartSize, len(plain))
	}
	dir := t.TempDir()
	got := filepath.Join(dir, "served.fa")
	if err := os.WriteFile(got, downloadReference(t, c, store, id, types.ReferenceFileSource, *src.TotalParts), 0o644); err != nil {
		t.Fatal(err)
	}
	servedIndex := downloadReference(t, c, store, id, types.ReferenceFileIndex, *idx.TotalParts)
	if int64(len(servedIndex)) != *idx.ContentLength {
		t.Errorf("%s: index of %d bytes, metadata says %d", f.name, len(servedIndex), *idx.ContentLength)
	}
	if err := os.WriteFile(got+".fai", servedIndex, 0o644); err != nil {
		t.Fatal(err)
	}
	// The served index is the one samtools builds from the original.
	orig := filepath.Join(dir, "original.fa")
	if err := os.WriteFile(orig, plain, 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.Run(t, "samtools", "faidx", orig)
	if want, _ := os.ReadFile(orig + ".fai"); !bytes.Equal(servedIndex, want) {
		t.Errorf("%s: served index\n%s\nsamtools builds\n%s", f.name, servedIndex, want)
	}
	for _, name := range f.seqs {
		region := name
		if strings.Contains(name, ":") {
			region = "{" + name + "}" // a name that looks like a region
		}
		want := testutil.Run(t, "samtools", "faidx", orig, region)
		if served := testutil.Run(t, "samtools", "faidx", got, region); !bytes.Equal(served, want) || len(want) < 100 {
			t.Errorf("%s: samtools faidx %s differs on the served reference", f.name, region)
		}
		sub := region + ":101-160"
		if strings.Contains(name, ":") {
			sub = "{" + name + "}:101-160"
		}
		if served, want := testutil.Run(t, "samtools", "faidx", got, sub), testutil.Run(t, "samtools", "faidx", orig, sub); !bytes.Equal(served, want) {
			t.Errorf("%s: samtools faidx %s: %q, want %q", f.name, sub, served, want)
		}
	}
	// Ranges of the part.
	for _, r := range []struct {
		header string
		want   []byte
	}{
		{"0-9", plain[:10]},
		{"100-", plain[100:]},
		{"-7", plain[len(plain)-7:]},
		{fmt.Sprintf("%d-%d", len(plain)-3, len(plain)+100), plain[len(plain)-3:]},
	} {
		out, err := c.GetReference(ctx, &omics.GetReferenceInput{ReferenceStoreId: aws.String(store), Id: aws.String(id), PartNumber: aws.Int32(1), Range: aws.String(r.header)})
		if err != nil {
			t.Fatalf("%s: %s: %v", f.name, r.header, err)
		}
		b, err := io.ReadAll(out.Payload)
		out.Payload.Close()
		if err != nil || !bytes.Equal(b, r.want) {
			t.Errorf("%s: %s gave %d bytes (%v), want %d", f.name, r.header, len(b), err, len(r.want))
		}
	}
	_, err = c.GetReference(ctx, &omics.GetReferenceInput{ReferenceStoreId: aws.String(store), Id: aws.String(id), PartNumber: aws.Int32(1),
		Range: aws.String(fmt.Sprintf("%d-", len(plain)))})
	var unsatisfiable *types.RangeNotSatisfiableException
	if !errors.As(err, &unsatisfiable) {
		t.Errorf("%s: range past the end: %v, want RangeNotSatisfiableException", f.name, err)
	}
	tags, err := c.ListTagsForResource(ctx, &omics.ListTagsForResourceInput{ResourceArn: md.Arn})
	if err != nil || tags.Tags["origin"] != "import" {
		t.Errorf("%s: tags %v, %v", f.name, tags, err)
	}
	return *md.Arn
}

// TestReferenceImportWaiterOfTheAWSCLI: `aws omics wait
// reference-import-job-completed` finishes on seqstore's reference import.
func TestReferenceImportWaiterOfTheAWSCLI(t *testing.T) {
	files := referenceFiles(t)
	b := backends[0]
	in, places := startWithFilePlace(t, b)
	key := in.rootKey()
	var st struct{ ID string }
	in.mustCLI(t, key, "create-reference-store", "--name", "refs").json(t, &st)
	src := places[0].put(t, "cli/lambda.fa.gz", files[1].file)
	var started struct{ ID string }
	in.mustCLI(t, key, "start-reference-import-job", "--reference-store-id", st.ID, "--role-arn", testRoleArn,
		"--sources", fmt.Sprintf(`[{"sourceFile":%q,"name":"lambda"}]`, src)).json(t, &started)
	in.mustCLI(t, key, "wait", "reference-import-job-completed", "--reference-store-id", st.ID, "--id", started.ID)
	var job struct {
		Status  string
		Sources []struct{ ReferenceID string }
	}
	in.mustCLI(t, key, "get-reference-import-job", "--reference-store-id", st.ID, "--id", started.ID).json(t, &job)
	if job.Status != "COMPLETED" || len(job.Sources) != 1 || job.Sources[0].ReferenceID == "" {
		t.Fatalf("reference import job after the waiter: %+v", job)
	}
	var jobs struct{ ImportJobs []struct{ ID, Status string } }
	in.mustCLI(t, key, "list-reference-import-jobs", "--reference-store-id", st.ID, "--filter", "status=COMPLETED").json(t, &jobs)
	if len(jobs.ImportJobs) != 1 || jobs.ImportJobs[0].ID != started.ID {
		t.Errorf("completed reference import jobs: %+v", jobs)
	}
}
