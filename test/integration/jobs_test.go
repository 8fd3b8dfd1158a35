package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seqstore/seqstore/internal/config"
	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/s3server"
)

const testRoleArn = "arn:aws:iam::123456789012:role/seqstore-import"

// jobPlace is where a job test keeps its source files and exports: a file
// root, or a bucket of a versitygw started for the test (apart from any
// bucket the server keeps its own objects in).
type jobPlace struct {
	name   string
	root   string           // the file root, for file://
	s3     *s3server.Server // the source server, for s3://
	bucket string
}

// jobPlaces are the two kinds of location jobs reach.
func jobPlaces(t *testing.T) []*jobPlace {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := s3server.StartServer(t)
	bucket := "sources-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	if len(bucket) > 40 {
		bucket = bucket[:40]
	}
	bucket = strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, bucket), "-")
	if err := srv.CreateBucket(context.Background(), bucket); err != nil {
		t.Fatal(err)
	}
	return []*jobPlace{{name: "file", root: root}, {name: "s3", s3: srv, bucket: bucket}}
}

// startWithFilePlace starts a server on b whose jobs may reach a file
// root, returned as the only place.
func startWithFilePlace(t *testing.T, b backend) (*instance, []*jobPlace) {
	t.Helper()
	places := jobPlaces(t)[:1]
	cfg := newConfig(t, b)
	allowJobs(t, cfg, places)
	return start(t, b, cfg), places
}

// allowJobs lets a server's jobs reach the places, through a -locations
// file as an operator writes it: the file root, and the bucket with the
// source server's endpoint and keys, for the accounts given (every account
// when none); other buckets are closed.
func allowJobs(t *testing.T, cfg *config.Config, places []*jobPlace, accounts ...string) {
	t.Helper()
	type root struct {
		Dir      string   `json:"dir"`
		Accounts []string `json:"accounts,omitempty"`
	}
	type bucket struct {
		Name            string   `json:"name"`
		Endpoint        string   `json:"endpoint"`
		Region          string   `json:"region"`
		AccessKeyID     string   `json:"accessKeyId"`
		SecretAccessKey string   `json:"secretAccessKey"`
		PathStyle       bool     `json:"pathStyle"`
		Accounts        []string `json:"accounts,omitempty"`
	}
	var file struct {
		FileRoots           []root   `json:"fileRoots"`
		Buckets             []bucket `json:"buckets"`
		DenyUnlistedBuckets bool     `json:"denyUnlistedBuckets"`
	}
	for _, p := range places {
		if p.s3 == nil {
			file.FileRoots = append(file.FileRoots, root{Dir: p.root, Accounts: accounts})
			continue
		}
		file.Buckets = append(file.Buckets, bucket{Name: p.bucket, Endpoint: p.s3.Endpoint, Region: s3server.Region,
			AccessKeyID: p.s3.AccessKey, SecretAccessKey: p.s3.SecretKey, PathStyle: true, Accounts: accounts})
	}
	file.DenyUnlistedBuckets = true
	b, err := json.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "locations.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Transfers.LocationsFile = path
}

// put places a local file in p under key and returns its URI.
func (p *jobPlace) put(t *testing.T, key, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return p.putBytes(t, key, b)
}

func (p *jobPlace) putBytes(t *testing.T, key string, b []byte) string {
	t.Helper()
	if p.s3 == nil {
		path := filepath.Join(p.root, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return "file://" + path
	}
	_, err := p.s3.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(p.bucket), Key: aws.String(key), Body: bytes.NewReader(b)})
	if err != nil {
		t.Fatal(err)
	}
	return "s3://" + p.bucket + "/" + key
}

// uri is where key is in p, whether or not it exists.
func (p *jobPlace) uri(key string) string {
	if p.s3 == nil {
		return "file://" + filepath.Join(p.root, filepath.FromSlash(key))
	}
	return "s3://" + p.bucket + "/" + key
}

// get reads key from p.
func (p *jobPlace) get(t *testing.T, key string) []byte {
	t.Helper()
	if p.s3 == nil {
		b, err := os.ReadFile(filepath.Join(p.root, filepath.FromSlash(key)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	out, err := p.s3.Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(p.bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// waitImport polls an import job until it ends.
func waitImport(t *testing.T, c *omics.Client, store, id string) *omics.GetReadSetImportJobOutput {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		j, err := c.GetReadSetImportJob(context.Background(), &omics.GetReadSetImportJobInput{SequenceStoreId: aws.String(store), Id: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		switch j.Status {
		case types.ReadSetImportJobStatusSubmitted, types.ReadSetImportJobStatusInProgress:
		default:
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("import job %s still %s after 3 minutes", id, j.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitExport polls an export job until it ends.
func waitExport(t *testing.T, c *omics.Client, store, id string) *omics.GetReadSetExportJobOutput {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		j, err := c.GetReadSetExportJob(context.Background(), &omics.GetReadSetExportJobInput{SequenceStoreId: aws.String(store), Id: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		switch j.Status {
		case types.ReadSetExportJobStatusSubmitted, types.ReadSetExportJobStatusInProgress:
		default:
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("export job %s still %s after 3 minutes", id, j.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func importSource(fileType types.FileType, name string, uris ...string) types.StartReadSetImportJobSourceItem {
	src := types.StartReadSetImportJobSourceItem{
		SourceFileType: fileType,
		SubjectId:      aws.String("subject-1"),
		SampleId:       aws.String("sample-1"),
		Name:           aws.String(name),
		GeneratedFrom:  aws.String("integration test"),
		SourceFiles:    &types.SourceFiles{Source1: aws.String(uris[0])},
		Tags:           map[string]string{"origin": "import", "name": name},
	}
	if len(uris) > 1 {
		src.SourceFiles.Source2 = aws.String(uris[1])
	}
	if fileType == types.FileTypeBam {
		src.ReferenceArn = aws.String(testReferenceArn)
	}
	return src
}

// TestImportExportRoundTrip imports FASTQ pairs, BAM and uBAM from file://
// and s3:// sources among broken ones, checks each read set against an
// upload of the same bytes, exports them, and imports the exports again.
func TestImportExportRoundTrip(t *testing.T) {
	d := lambdaData(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			places := jobPlaces(t)
			cfg := newConfig(t, b)
			allowJobs(t, cfg, places)
			in := start(t, b, cfg)
			c := in.goClient(in.rootKey())
			ctx := context.Background()
			// Exports carry the tags the store propagates, and no others.
			created, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("jobs"), PropagatedSetLevelTags: []string{"origin"}})
			if err != nil {
				t.Fatal(err)
			}
			store := *created.Id
			// What an upload of the same files gives, to compare with.
			uploaded := map[types.FileType]*omics.GetReadSetMetadataOutput{
				types.FileTypeFastq: waitIngested(t, c, store, uploadFiles(t, c, store, types.FileTypeFastq, "", 1<<20, d.r1gz, d.r2gz)),
				types.FileTypeBam:   waitIngested(t, c, store, uploadFiles(t, c, store, types.FileTypeBam, testReferenceArn, 1<<20, d.bam)),
				types.FileTypeUbam:  waitIngested(t, c, store, uploadFiles(t, c, store, types.FileTypeUbam, "", 1<<20, d.ubam)),
			}
			for _, p := range places {
				t.Run(p.name, func(t *testing.T) {
					truncated, _ := os.ReadFile(d.r1gz)
					sources := []types.StartReadSetImportJobSourceItem{
						importSource(types.FileTypeFastq, "pair", p.put(t, "in/reads_1.fq.gz", d.r1gz), p.put(t, "in/reads_2.fq.gz", d.r2gz)),
						importSource(types.FileTypeBam, "aligned", p.put(t, "in/aligned.bam", d.bam)),
						importSource(types.FileTypeUbam, "unaligned", p.put(t, "in/unaligned.bam", d.ubam)),
						importSource(types.FileTypeFastq, "missing", p.uri("in/no-such-file.fq.gz")),
						importSource(types.FileTypeFastq, "truncated", p.putBytes(t, "in/truncated.fq.gz", truncated[:len(truncated)/2])),
						importSource(types.FileTypeBam, "fastq-as-bam", p.uri("in/reads_1.fq.gz")),
					}
					started, err := c.StartReadSetImportJob(ctx, &omics.StartReadSetImportJobInput{
						SequenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn), Sources: sources,
					})
					if err != nil {
						t.Fatal(err)
					}
					job := waitImport(t, c, store, *started.Id)
					if job.Status != types.ReadSetImportJobStatusCompletedWithFailures || job.CompletionTime == nil {
						t.Fatalf("job %s, completion %v; want COMPLETED_WITH_FAILURES with a completion time", job.Status, job.CompletionTime)
					}
					if len(job.Sources) != len(sources) {
						t.Fatalf("%d sources reported, %d sent", len(job.Sources), len(sources))
					}
					imported := map[types.FileType]string{}
					for i, src := range job.Sources[:3] {
						if src.Status != types.ReadSetImportJobItemStatusFinished || src.ReadSetId == nil {
							t.Fatalf("source %d: %s %q", i, src.Status, aws.ToString(src.StatusMessage))
						}
						imported[src.SourceFileType] = *src.ReadSetId
					}
					for i, want := range []string{"no-such-file.fq.gz", "truncated", "fastq-as-bam"} {
						src := job.Sources[3+i]
						msg := aws.ToString(src.StatusMessage)
						if src.Status != types.ReadSetImportJobItemStatusFailed || msg == "" {
							t.Errorf("broken source %s: %s %q", want, src.Status, msg)
						}
						t.Logf("broken source %d: %s", 3+i, msg)
					}
					if msg := aws.ToString(job.Sources[3].StatusMessage); !strings.Contains(msg, "no-such-file.fq.gz") {
						t.Errorf("a missing source's message does not name it: %q", msg)
					}
					if job.Sources[3].ReadSetId != nil {
						t.Errorf("a missing source made read set %s", *job.Sources[3].ReadSetId)
					}
					for ft, id := range imported {
						md, err := c.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: aws.String(id)})
						if err != nil {
							t.Fatal(err)
						}
						up := uploaded[ft]
						if md.Status != types.ReadSetStatusActive || md.CreationType != types.CreationTypeImport || aws.ToString(md.CreationJobId) != *started.Id {
							t.Errorf("%s: status %s, creationType %s, creationJobId %v", ft, md.Status, md.CreationType, aws.ToString(md.CreationJobId))
						}
						if *md.SequenceInformation.TotalReadCount != *up.SequenceInformation.TotalReadCount ||
							*md.SequenceInformation.TotalBaseCount != *up.SequenceInformation.TotalBaseCount {
							t.Errorf("%s: import counted %d/%d, upload %d/%d", ft, *md.SequenceInformation.TotalReadCount, *md.SequenceInformation.TotalBaseCount,
								*up.SequenceInformation.TotalReadCount, *up.SequenceInformation.TotalBaseCount)
						}
						if aws.ToString(md.Etag.Source1) != aws.ToString(up.Etag.Source1) || aws.ToString(md.Etag.Source2) != aws.ToString(up.Etag.Source2) {
							t.Errorf("%s: import ETag %+v, upload %+v", ft, md.Etag, up.Etag)
						}
						if (md.Files.Index == nil) != (up.Files.Index == nil) {
							t.Errorf("%s: import has index %v, upload %v", ft, md.Files.Index != nil, up.Files.Index != nil)
						}
						tags, err := c.ListTagsForResource(ctx, &omics.ListTagsForResourceInput{ResourceArn: md.Arn})
						if err != nil || tags.Tags["origin"] != "import" {
							t.Errorf("%s: tags %v, %v", ft, tags, err)
						}
					}
					if md, err := c.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: job.Sources[4].ReadSetId}); err != nil ||
						md.Status != types.ReadSetStatusUploadFailed || aws.ToString(md.StatusMessage) == "" {
						t.Errorf("the truncated source's read set: %v %v", md, err)
					}

					// Export what was imported, and import the exports.
					var exportSources []types.ExportReadSet
					for _, id := range imported {
						exportSources = append(exportSources, types.ExportReadSet{ReadSetId: aws.String(id)})
					}
					dest := p.uri("out/")
					if !strings.HasSuffix(dest, "/") {
						dest += "/"
					}
					ex, err := c.StartReadSetExportJob(ctx, &omics.StartReadSetExportJobInput{
						SequenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn), Destination: aws.String(dest), Sources: exportSources,
					})
					if err != nil {
						t.Fatal(err)
					}
					exJob := waitExport(t, c, store, *ex.Id)
					if exJob.Status != types.ReadSetExportJobStatusCompleted || exJob.CompletionTime == nil {
						t.Fatalf("export %s: %+v", exJob.Status, exJob.ReadSets)
					}
					var again []types.StartReadSetImportJobSourceItem
					order := []types.FileType{}
					for ft, id := range imported {
						md, _ := c.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: aws.String(id)})
						var uris []string
						for _, f := range []struct {
							kind types.ReadSetFile
							info *types.FileInformation
						}{{types.ReadSetFileSource1, md.Files.Source1}, {types.ReadSetFileSource2, md.Files.Source2}, {types.ReadSetFileIndex, md.Files.Index}} {
							if f.info == nil {
								continue
							}
							name := filepath.Base(*f.info.S3Access.S3Uri)
							key := "out/" + id + "/" + name
							got := p.get(t, key)
							if want := download(t, c, store, id, f.kind, f.info); !bytes.Equal(got, want) {
								t.Errorf("%s %s: exported %d bytes differ from the %d GetReadSet serves", ft, f.kind, len(got), len(want))
							}
							// A gzip FASTQ is kept as the object it was
							// imported from, and exported so.
							if source := map[types.ReadSetFile]string{types.ReadSetFileSource1: d.r1gz, types.ReadSetFileSource2: d.r2gz}[f.kind]; ft == types.FileTypeFastq && source != "" {
								if original, _ := os.ReadFile(source); !bytes.Equal(got, original) {
									t.Errorf("FASTQ %s: exported %d bytes, not the %d imported", f.kind, len(got), len(original))
								}
							}
							if f.kind != types.ReadSetFileIndex {
								uris = append(uris, p.uri(key))
							}
							if p.s3 != nil {
								tagging, err := p.s3.Client().GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(p.bucket), Key: aws.String(key)})
								if err != nil {
									t.Fatal(err)
								}
								got := map[string]string{}
								for _, tag := range tagging.TagSet {
									got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
								}
								if len(got) != 1 || got["origin"] != "import" {
									t.Errorf("%s: object tags %v, want only the propagated origin=import", key, got)
								}
							}
						}
						again = append(again, importSource(ft, "again-"+string(ft), uris...))
						order = append(order, ft)
					}
					re, err := c.StartReadSetImportJob(ctx, &omics.StartReadSetImportJobInput{
						SequenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn), Sources: again,
					})
					if err != nil {
						t.Fatal(err)
					}
					reJob := waitImport(t, c, store, *re.Id)
					if reJob.Status != types.ReadSetImportJobStatusCompleted {
						t.Fatalf("re-import %s: %+v", reJob.Status, reJob.Sources)
					}
					for i, src := range reJob.Sources {
						md, err := c.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: src.ReadSetId})
						if err != nil {
							t.Fatal(err)
						}
						up := uploaded[order[i]]
						if aws.ToString(md.Etag.Source1) != aws.ToString(up.Etag.Source1) || aws.ToString(md.Etag.Source2) != aws.ToString(up.Etag.Source2) ||
							*md.SequenceInformation.TotalReadCount != *up.SequenceInformation.TotalReadCount {
							t.Errorf("%s re-imported: ETag %+v reads %d, upload %+v reads %d", order[i], md.Etag, *md.SequenceInformation.TotalReadCount, up.Etag, *up.SequenceInformation.TotalReadCount)
						}
					}

					// The lists and their filters.
					list, err := c.ListReadSetImportJobs(ctx, &omics.ListReadSetImportJobsInput{SequenceStoreId: aws.String(store),
						Filter: &types.ImportReadSetFilter{Status: types.ReadSetImportJobStatusCompletedWithFailures}})
					if err != nil || !containsImport(list.ImportJobs, *started.Id) || containsImport(list.ImportJobs, *re.Id) {
						t.Errorf("ListReadSetImportJobs COMPLETED_WITH_FAILURES: %+v %v", list, err)
					}
					// One page at a time, the same jobs.
					var paged []string
					for token := (*string)(nil); ; {
						page, err := c.ListReadSetImportJobs(ctx, &omics.ListReadSetImportJobsInput{SequenceStoreId: aws.String(store), MaxResults: aws.Int32(1), NextToken: token})
						if err != nil {
							t.Fatal(err)
						}
						for _, j := range page.ImportJobs {
							paged = append(paged, *j.Id)
						}
						if token = page.NextToken; token == nil {
							break
						}
					}
					if len(paged) < 2 || !slices.Contains(paged, *started.Id) || !slices.Contains(paged, *re.Id) {
						t.Errorf("ListReadSetImportJobs a page at a time: %v", paged)
					}

					// A read set that is not ACTIVE fails its item only.
					failed := job.Sources[4].ReadSetId
					mixed, err := c.StartReadSetExportJob(ctx, &omics.StartReadSetExportJobInput{
						SequenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn), Destination: aws.String(p.uri("mixed") + "/"),
						Sources: []types.ExportReadSet{{ReadSetId: failed}, {ReadSetId: aws.String(imported[types.FileTypeUbam])}},
					})
					if err != nil {
						t.Fatal(err)
					}
					mixedJob := waitExport(t, c, store, *mixed.Id)
					if mixedJob.Status != types.ReadSetExportJobStatusCompletedWithFailures || mixedJob.ReadSets[0].Status != types.ReadSetExportJobItemStatusFailed ||
						!strings.Contains(aws.ToString(mixedJob.ReadSets[0].StatusMessage), "UPLOAD_FAILED") || mixedJob.ReadSets[1].Status != types.ReadSetExportJobItemStatusFinished {
						t.Errorf("export of a failed and an active read set: %s %+v", mixedJob.Status, mixedJob.ReadSets)
					}
					exList, err := c.ListReadSetExportJobs(ctx, &omics.ListReadSetExportJobsInput{SequenceStoreId: aws.String(store),
						Filter: &types.ExportReadSetFilter{Status: types.ReadSetExportJobStatusCompletedWithFailures}})
					if err != nil {
						t.Fatal(err)
					}
					listed := false
					for _, j := range exList.ExportJobs {
						listed = listed || *j.Id == *mixed.Id
						if j.Status != types.ReadSetExportJobStatusCompletedWithFailures {
							t.Errorf("ListReadSetExportJobs COMPLETED_WITH_FAILURES lists job %s, %s", *j.Id, j.Status)
						}
					}
					if !listed {
						t.Errorf("ListReadSetExportJobs COMPLETED_WITH_FAILURES leaves out job %s", *mixed.Id)
					}
				})
			}
		})
	}
}

func containsImport(jobs []types.ImportReadSetJobItem, id string) bool {
	for _, j := range jobs {
		if *j.Id == id {
			return true
		}
	}
	return false
}

// TestJobsRefuseWhatTheyMayNotReach: paths outside the file roots, by name,
// by '..' or by a symlink, buckets scoped to another account, and exports of
// what is not there are refused when the job starts.
func TestJobsRefuseWhatTheyMayNotReach(t *testing.T) {
	d := lambdaData(t)
	places := jobPlaces(t)
	b := backends[0]
	cfg := newConfig(t, b)
	allowJobs(t, cfg, places, "123456789012")
	in := start(t, b, cfg)
	ctx := context.Background()
	c := in.goClient(in.rootKey())
	store := newStore(t, c, "")
	fileRoot, bucket := places[0], places[1]
	inside := fileRoot.put(t, "ok/reads_1.fq.gz", d.r1gz)
	bucketURI := bucket.put(t, "ok/reads_1.fq.gz", d.r1gz)

	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.fq.gz"), []byte("x"), 0o644)
	os.Symlink(outside, filepath.Join(fileRoot.root, "link-out"))
	for name, uri := range map[string]string{
		"outside":    "file://" + filepath.Join(outside, "secret.fq.gz"),
		"dot-dot":    "file://" + fileRoot.root + "/ok/../../" + filepath.Base(outside) + "/secret.fq.gz",
		"symlink":    "file://" + filepath.Join(fileRoot.root, "link-out", "secret.fq.gz"),
		"etc-passwd": "file:///etc/passwd",
		"unlisted":   "s3://some-other-bucket/reads.fq.gz",
	} {
		_, err := c.StartReadSetImportJob(ctx, &omics.StartReadSetImportJobInput{SequenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn),
			Sources: []types.StartReadSetImportJobSourceItem{importSource(types.FileTypeFastq, "ok", inside), importSource(types.FileTypeFastq, name, uri)}})
		if code := apiErrorCode(t, err); code != "AccessDeniedException" {
			t.Errorf("%s (%s): %s, want AccessDeniedException", name, uri, code)
		}
	}
	// Another account reaches neither the root nor the bucket scoped to
	// the first.
	other := in.goClient(in.newAccount(t, "210987654321"))
	otherStore := newStore(t, other, "")
	for _, uri := range []string{inside, bucketURI} {
		_, err := other.StartReadSetImportJob(ctx, &omics.StartReadSetImportJobInput{SequenceStoreId: aws.String(otherStore), RoleArn: aws.String(testRoleArn),
			Sources: []types.StartReadSetImportJobSourceItem{importSource(types.FileTypeFastq, "theirs", uri)}})
		if code := apiErrorCode(t, err); code != "AccessDeniedException" {
			t.Errorf("another account importing %s: %s, want AccessDeniedException", uri, code)
		}
	}
	// Requests the model refuses, and ones seqstore does.
	for name, in := range map[string]*omics.StartReadSetImportJobInput{
		"no sources":   {SequenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn), Sources: []types.StartReadSetImportJobSourceItem{}},
		"short role":   {SequenceStoreId: aws.String(store), RoleArn: aws.String("arn:x"), Sources: []types.StartReadSetImportJobSourceItem{importSource(types.FileTypeFastq, "ok", inside)}},
		"bam, no ref":  {SequenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn), Sources: []types.StartReadSetImportJobSourceItem{{SourceFileType: types.FileTypeBam, SubjectId: aws.String("s"), SampleId: aws.String("s"), SourceFiles: &types.SourceFiles{Source1: aws.String(inside)}}}},
		"relative":     {SequenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn), Sources: []types.StartReadSetImportJobSourceItem{importSource(types.FileTypeFastq, "rel", "file://ok/reads_1.fq.gz")}},
		"pair for bam": {SequenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn), Sources: []types.StartReadSetImportJobSourceItem{importSource(types.FileTypeUbam, "pair", inside, inside)}},
	} {
		_, err := c.StartReadSetImportJob(ctx, in)
		if code := apiErrorCode(t, err); code != "ValidationException" {
			t.Errorf("%s: %s, want ValidationException", name, code)
		}
	}
	_, err := c.StartReadSetImportJob(ctx, &omics.StartReadSetImportJobInput{SequenceStoreId: aws.String("9999999999"), RoleArn: aws.String(testRoleArn),
		Sources: []types.StartReadSetImportJobSourceItem{importSource(types.FileTypeFastq, "ok", inside)}})
	if code := apiErrorCode(t, err); code != "ResourceNotFoundException" {
		t.Errorf("import into a missing store: %s", code)
	}
	_, err = c.GetReadSetImportJob(ctx, &omics.GetReadSetImportJobInput{SequenceStoreId: aws.String(store), Id: aws.String("1234567890")})
	if code := apiErrorCode(t, err); code != "ResourceNotFoundException" {
		t.Errorf("a missing import job: %s", code)
	}
	// Exports: to a destination outside the roots, of a read set that
	// does not exist.
	id := uploadFiles(t, c, store, types.FileTypeFastq, "", 1<<20, d.r1gz)
	waitIngested(t, c, store, id)
	for name, tc := range map[string]struct{ dest, id, code string }{
		"outside root":  {"file://" + outside + "/", id, "AccessDeniedException"},
		"symlink out":   {"file://" + filepath.Join(fileRoot.root, "link-out") + "/", id, "AccessDeniedException"},
		"missing":       {fileRoot.uri("out/"), "9999999999", "ResourceNotFoundException"},
		"other account": {"s3://some-other-bucket/", id, "AccessDeniedException"},
	} {
		_, err := c.StartReadSetExportJob(ctx, &omics.StartReadSetExportJobInput{SequenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn),
			Destination: aws.String(tc.dest), Sources: []types.ExportReadSet{{ReadSetId: aws.String(tc.id)}}})
		if code := apiErrorCode(t, err); code != tc.code {
			t.Errorf("export %s: %s, want %s", name, code, tc.code)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Errorf("something was written outside the roots: %v", entries)
	}
}

// TestJobWaitersOfTheAWSCLI: `aws omics wait` finishes on seqstore's jobs,
// started with the CLI from file:// sources.
func TestJobWaitersOfTheAWSCLI(t *testing.T) {
	d := lambdaData(t)
	b := backends[0]
	in, places := startWithFilePlace(t, b)
	key := in.rootKey()
	store := newStore(t, in.goClient(key), "")
	src := places[0].put(t, "cli/reads_1.fq.gz", d.r1gz)
	var started struct{ ID string }
	in.mustCLI(t, key, "start-read-set-import-job", "--sequence-store-id", store, "--role-arn", testRoleArn,
		"--sources", fmt.Sprintf(`[{"sourceFiles":{"source1":%q},"sourceFileType":"FASTQ","subjectId":"s","sampleId":"s","name":"cli"}]`, src)).json(t, &started)
	in.mustCLI(t, key, "wait", "read-set-import-job-completed", "--sequence-store-id", store, "--id", started.ID)
	var job struct {
		Status  string
		Sources []struct{ ReadSetID string }
	}
	in.mustCLI(t, key, "get-read-set-import-job", "--sequence-store-id", store, "--id", started.ID).json(t, &job)
	if job.Status != "COMPLETED" || len(job.Sources) != 1 || job.Sources[0].ReadSetID == "" {
		t.Fatalf("import job after the waiter: %+v", job)
	}
	var ex struct{ ID string }
	// The CLI reads a flag's value that starts with file:// as a parameter
	// file, so a file:// destination goes in --cli-input-json.
	in.mustCLI(t, key, "start-read-set-export-job", "--sequence-store-id", store, "--role-arn", testRoleArn,
		"--cli-input-json", fmt.Sprintf(`{"destination":%q}`, places[0].uri("cli-out")+"/"), "--sources", "readSetId="+job.Sources[0].ReadSetID).json(t, &ex)
	in.mustCLI(t, key, "wait", "read-set-export-job-completed", "--sequence-store-id", store, "--id", ex.ID)
	got := places[0].get(t, "cli-out/"+job.Sources[0].ReadSetID+"/reads_1.fq.gz")
	if len(got) == 0 {
		t.Fatal("the export wrote nothing")
	}
	// The jobs show in the metrics: started, their items ended, none open.
	fams := scrape(t, in.startAdmin(t))
	for _, kind := range []string{"READ_SET_IMPORT", "READ_SET_EXPORT"} {
		if n, _ := sample(fams, "seqstore_jobs_started_total", "kind", kind); n != 1 {
			t.Errorf("seqstore_jobs_started_total{kind=%s} = %v, want 1", kind, n)
		}
		if n, _ := sample(fams, "seqstore_job_items_total", "kind", kind, "status", "FINISHED"); n != 1 {
			t.Errorf("seqstore_job_items_total{kind=%s,status=FINISHED} = %v, want 1", kind, n)
		}
	}
	if _, ok := fams["seqstore_job_items_count_errors_total"]; !ok {
		t.Error("no seqstore_job_items_open collector")
	}
	if n, ok := sample(fams, "seqstore_job_items_open"); ok && n != 0 {
		t.Errorf("job items still open after both jobs ended: %v", n)
	}
}

// TestTwoNodesShareOneImport: two nodes over one PostgreSQL database and
// one bucket take the items of one import between them, each item once.
func TestTwoNodesShareOneImport(t *testing.T) {
	d := lambdaData(t)
	b := backends[1]
	places := jobPlaces(t)[1:]
	cfg := newConfig(t, b)
	allowJobs(t, cfg, places)
	cfg.JobWorkers = 1
	cfg.JobPoll = 20 * time.Millisecond
	var logs [2]testutil.SyncBuffer
	nodeLog := func(i int) *slog.Logger {
		return slog.New(slog.NewTextHandler(io.MultiWriter(&logs[i], &testWriter{t: t}), &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	first := startLogged(t, b, cfg, nodeLog(0))
	second := *cfg
	second.DataDir = t.TempDir()
	second.AccessKeyID, second.SecretAccessKey = first.rootKey().ID, first.rootKey().Secret
	other := startLogged(t, b, &second, nodeLog(1))

	c0, c1 := first.goClient(first.rootKey()), other.goClient(other.rootKey())
	store := newStore(t, c0, "")
	r1, r2 := places[0].put(t, "two/r1.fq.gz", d.r1gz), places[0].put(t, "two/r2.fq.gz", d.r2gz)
	var sources []types.StartReadSetImportJobSourceItem
	for i := range 8 {
		sources = append(sources, importSource(types.FileTypeFastq, fmt.Sprintf("pair-%d", i), r1, r2))
	}
	started, err := c0.StartReadSetImportJob(context.Background(), &omics.StartReadSetImportJobInput{
		SequenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn), Sources: sources, ClientToken: aws.String("two-nodes"),
	})
	if err != nil {
		t.Fatal(err)
	}
	// The same clientToken through the other node names the same job.
	again, err := c1.StartReadSetImportJob(context.Background(), &omics.StartReadSetImportJobInput{
		SequenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn), Sources: sources, ClientToken: aws.String("two-nodes"),
	})
	if err != nil || *again.Id != *started.Id {
		t.Fatalf("the repeated start through the other node: %v %v, want job %s", again, err, *started.Id)
	}
	job := waitImport(t, c1, store, *started.Id)
	if job.Status != types.ReadSetImportJobStatusCompleted {
		t.Fatalf("job %s: %+v", job.Status, job.Sources)
	}
	etag := ""
	for i, src := range job.Sources {
		md, err := c1.GetReadSetMetadata(context.Background(), &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: src.ReadSetId})
		if err != nil {
			t.Fatal(err)
		}
		if etag == "" {
			etag = *md.Etag.Source1
		}
		if md.Status != types.ReadSetStatusActive || *md.Etag.Source1 != etag {
			t.Errorf("source %d: %s, etag %s", i, md.Status, *md.Etag.Source1)
		}
	}
	var done [2]int
	for n := range logs {
		done[n] = strings.Count(logs[n].String(), "msg=\"read set active\"")
	}
	if done[0]+done[1] != len(sources) || done[0] == 0 || done[1] == 0 {
		t.Errorf("the nodes ingested %d and %d read sets; want %d between them, some on each", done[0], done[1], len(sources))
	}
	list, err := c0.ListReadSets(context.Background(), &omics.ListReadSetsInput{SequenceStoreId: aws.String(store)})
	if err != nil || len(list.ReadSets) != len(sources) {
		t.Errorf("the store holds %d read sets, want %d: %v", len(list.ReadSets), len(sources), err)
	}
}
