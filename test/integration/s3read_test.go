package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/testutil"
)

// serveS3 starts the instance's S3 read endpoint and returns its URL.
func serveS3(t *testing.T, in *instance) string {
	return serveOnLoopback(t, "S3 read endpoint", in.srv.ServeS3)
}

// splitS3URI splits s3://bucket/key.
func splitS3URI(t *testing.T, uri string) (bucket, key string) {
	t.Helper()
	rest, ok := strings.CutPrefix(uri, "s3://")
	bucket, key, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		t.Fatalf("%q is not an s3:// URI", uri)
	}
	return bucket, key
}

// s3Env is the environment of an S3 client run with key against endpoint.
func s3Env(endpoint string, key seqstore.AccessKey) []string {
	return append(testutil.EnvWithoutAWS(),
		"AWS_ACCESS_KEY_ID="+key.ID,
		"AWS_SECRET_ACCESS_KEY="+key.Secret,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"SEQSTORE_ENDPOINT="+endpoint,
	)
}

// awsS3 runs `aws s3 ARGS...` against endpoint with key.
func awsS3(t *testing.T, endpoint string, key seqstore.AccessKey, args ...string) (stdout []byte, stderr string, exit int) {
	t.Helper()
	cmd := exec.Command(testutil.RequireTool(t, "aws"), append([]string{"s3", "--endpoint-url", endpoint}, args...)...)
	cmd.Env = s3Env(endpoint, key)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		exit = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), errb.String(), exit
}

// goS3 is a Go SDK S3 client of the endpoint; virtual-host-style requests
// reach the endpoint whatever host they name.
func goS3(endpoint string, key seqstore.AccessKey, pathStyle bool) *s3.Client {
	addr := strings.TrimPrefix(endpoint, "http://")
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(strings.Replace(endpoint, "127.0.0.1", "localhost", 1)),
		UsePathStyle: pathStyle,
		Credentials:  credentials.NewStaticCredentialsProvider(key.ID, key.Secret, ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{DialContext: dial}},
	})
}

func s3ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestS3ReadEndpoint reads a stored BAM in place, under the s3Uri the API
// reports, with the AWS CLI, boto3, the Go SDK and samtools.
func TestS3ReadEndpoint(t *testing.T) {
	d := lambdaData(t)
	forEachBackend(t, func(t *testing.T, b backend, in *instance) {
		ctx := context.Background()
		endpoint := serveS3(t, in)
		key := in.rootKey()
		c := in.goClient(key)
		st, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("s3read")})
		if err != nil {
			t.Fatal(err)
		}
		id := uploadFiles(t, c, *st.Id, types.FileTypeBam, testReferenceArn, 200_000, d.bam)
		md := waitIngested(t, c, *st.Id, id)
		if md.Status != types.ReadSetStatusActive {
			t.Fatalf("status %s: %s", md.Status, aws.ToString(md.StatusMessage))
		}
		bucket, bamKey := splitS3URI(t, *md.Files.Source1.S3Access.S3Uri)
		_, baiKey := splitS3URI(t, *md.Files.Index.S3Access.S3Uri)
		storeBucket, storePrefix := splitS3URI(t, *st.S3Access.S3Uri)
		if storeBucket != bucket || !strings.HasPrefix(bamKey, storePrefix) || baiKey != bamKey+".bai" {
			t.Fatalf("store s3Uri %s, BAM %s, index %s do not line up", *st.S3Access.S3Uri, bamKey, baiKey)
		}
		original, err := os.ReadFile(d.bam)
		if err != nil {
			t.Fatal(err)
		}

		t.Run("aws s3 cp and ls", func(t *testing.T) {
			out, stderr, exit := awsS3(t, endpoint, key, "cp", *md.Files.Source1.S3Access.S3Uri, "-")
			if exit != 0 || !bytes.Equal(out, original) {
				t.Fatalf("aws s3 cp: exit %d, %d bytes (want %d): %s", exit, len(out), len(original), stderr)
			}
			out, stderr, exit = awsS3(t, endpoint, key, "ls", "--recursive", *st.S3Access.S3Uri)
			if exit != 0 || !strings.Contains(string(out), fmt.Sprintf("%d %s\n", len(original), bamKey)) || !strings.Contains(string(out), baiKey) {
				t.Fatalf("aws s3 ls: exit %d: %s%s", exit, out, stderr)
			}
			_, stderr, exit = awsS3(t, endpoint, key, "cp", d.bam, "s3://"+bucket+"/"+storePrefix+"new.bam")
			if exit == 0 || !strings.Contains(stderr, "AccessDenied") {
				t.Fatalf("aws s3 cp upload: exit %d: %s", exit, stderr)
			}
		})

		t.Run("boto3", func(t *testing.T) {
			cmd := exec.Command(testutil.RequireTool(t, "python3"), "testdata/boto3_s3read.py", bucket, storePrefix, bamKey)
			cmd.Env = s3Env(endpoint, key)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("boto3_s3read.py: %v\n%s", err, stderr.String())
			}
			var got struct {
				Size                       int64
				RangeMD5, ContentRange     string
				RangeStatus                int
				WholeMD5, PresignedMD5     string
				IfNoneMatch                int
				IfMatch, PastEnd, Missing  string
				ReadSetPrefixes, Keys      []string
				Pages                      int
				Location                   *string
				Put, Delete, Expired, ETag string
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			want := md5Hex(original)
			if got.Size != int64(len(original)) || got.WholeMD5 != want || got.PresignedMD5 != want {
				t.Errorf("size %d, whole %s, presigned %s; want %d bytes of MD5 %s", got.Size, got.WholeMD5, got.PresignedMD5, len(original), want)
			}
			if got.RangeStatus != 206 || got.RangeMD5 != md5Hex(original[100:1100]) || got.ContentRange != fmt.Sprintf("bytes 100-1099/%d", len(original)) {
				t.Errorf("range: status %d, %s, MD5 %s", got.RangeStatus, got.ContentRange, got.RangeMD5)
			}
			if got.IfNoneMatch != 304 || got.IfMatch != "PreconditionFailed" || got.PastEnd != "InvalidRange" || got.Missing != "NoSuchKey" {
				t.Errorf("If-None-Match %d, If-Match %s, past the end %s, missing key %s", got.IfNoneMatch, got.IfMatch, got.PastEnd, got.Missing)
			}
			if want := []string{storePrefix + "readSet/" + id + "/"}; fmt.Sprint(got.ReadSetPrefixes) != fmt.Sprint(want) {
				t.Errorf("common prefixes %v, want %v", got.ReadSetPrefixes, want)
			}
			if fmt.Sprint(got.Keys) != fmt.Sprint([]string{bamKey, baiKey}) || got.Pages != 2 {
				t.Errorf("listed %v in %d pages; want the BAM and its index one a page", got.Keys, got.Pages)
			}
			if got.Location != nil && *got.Location != "" {
				t.Errorf("location %q, want us-east-1's empty constraint", *got.Location)
			}
			if got.Put != "AccessDenied" || got.Delete != "AccessDenied" {
				t.Errorf("put %s, delete %s; want AccessDenied", got.Put, got.Delete)
			}
			if !strings.HasPrefix(got.Expired, "403 ") || !strings.Contains(got.Expired, "<Code>AccessDenied</Code>") {
				t.Errorf("expired presigned URL: %s", got.Expired)
			}
		})

		t.Run("samtools view of a region through s3+http", func(t *testing.T) {
			samtools := testutil.RequireTool(t, "samtools")
			region := "gi|9626243|ref|NC_001416.1|:20000-20500"
			cmd := exec.Command(samtools, "view", "s3+http://"+bucket+"/"+bamKey, region)
			cmd.Dir = t.TempDir() // htslib keeps a copy of a remote index in the working directory
			cmd.Env = append(s3Env(endpoint, key), "HTS_S3_HOST="+strings.TrimPrefix(endpoint, "http://"), "HTS_S3_ADDRESS_STYLE=path")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			got, err := cmd.Output()
			if err != nil {
				t.Fatalf("samtools view: %v\n%s", err, stderr.String())
			}
			local := t.TempDir() + "/local.bam"
			if err := os.WriteFile(local, original, 0o644); err != nil {
				t.Fatal(err)
			}
			testutil.Run(t, "samtools", "index", local)
			want := testutil.Run(t, "samtools", "view", local, region)
			if len(want) == 0 || !bytes.Equal(got, want) {
				t.Fatalf("samtools view through S3 gave %d bytes, of the file %d", len(got), len(want))
			}
		})

		t.Run("Go SDK, virtual-host style", func(t *testing.T) {
			for _, pathStyle := range []bool{false, true} {
				cl := goS3(endpoint, key, pathStyle)
				out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(bamKey), Range: aws.String("bytes=-500")})
				if err != nil {
					t.Fatalf("path style %v: %v", pathStyle, err)
				}
				body, _ := io.ReadAll(out.Body)
				out.Body.Close()
				if !bytes.Equal(body, original[len(original)-500:]) {
					t.Errorf("path style %v: the last 500 bytes differ", pathStyle)
				}
				list, err := cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(storePrefix + "readSet/" + id + "/")})
				if err != nil || len(list.Contents) != 2 {
					t.Fatalf("path style %v: list %v, %v", pathStyle, list, err)
				}
			}
			if _, err := goS3(endpoint, key, true).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("123456789012-9999999999-seqstore-s3alias"), Key: aws.String("x")}); err == nil {
				t.Error("HeadObject in a store that does not exist succeeded")
			}
			_, err := goS3(endpoint, key, true).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("123456789012-9999999999-seqstore-s3alias"), Key: aws.String("x")})
			if code := s3ErrorCode(err); code != "NoSuchBucket" {
				t.Errorf("a store that does not exist: %s, want NoSuchBucket", code)
			}
			// ListObjects (version 1) pages with markers: the last key, or
			// NextMarker, a common prefix, under a delimiter.
			cl := goS3(endpoint, key, true)
			var v1 []string
			for marker := ""; ; {
				page, err := cl.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(bucket), Prefix: aws.String(storePrefix), MaxKeys: aws.Int32(1), Marker: aws.String(marker)})
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range page.Contents {
					v1 = append(v1, *o.Key)
					marker = *o.Key
				}
				if !aws.ToBool(page.IsTruncated) {
					break
				}
			}
			if fmt.Sprint(v1) != fmt.Sprint([]string{bamKey, baiKey}) {
				t.Errorf("ListObjects pages: %v", v1)
			}
			page, err := cl.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(bucket), Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)})
			if err != nil || len(page.CommonPrefixes) != 1 || *page.CommonPrefixes[0].Prefix != in.cfg.AccountID+"/" || aws.ToBool(page.IsTruncated) {
				t.Errorf("ListObjects of the bucket's top level: %+v, %v", page, err)
			}

			_, err = goS3(endpoint, key, true).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(bamKey), ExpectedBucketOwner: aws.String("210987654321")})
			if err == nil {
				t.Error("HeadObject expecting another owner succeeded")
			}
			if _, err := goS3(endpoint, key, true).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(bamKey), ExpectedBucketOwner: aws.String(in.cfg.AccountID)}); err != nil {
				t.Errorf("HeadObject expecting the right owner: %v", err)
			}
			bad := key
			bad.Secret = "wrong" + key.Secret
			_, err = goS3(endpoint, bad, true).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(bamKey)})
			if code := s3ErrorCode(err); code != "SignatureDoesNotMatch" {
				t.Errorf("a wrong secret: %s, want SignatureDoesNotMatch", code)
			}
		})

		t.Run("another account needs the store's policy", func(t *testing.T) {
			other := in.newAccount(t, "210987654321")
			cl := goS3(endpoint, other, true)
			get := func() error {
				out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(baiKey)})
				if err == nil {
					out.Body.Close()
				}
				return err
			}
			list := func() error {
				_, err := cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
				return err
			}
			if code := s3ErrorCode(get()); code != "AccessDenied" {
				t.Fatalf("without a policy: %s, want AccessDenied", code)
			}
			ap := *st.S3Access.S3AccessPointArn
			policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"s3:GetObject","Resource":"` + ap + `/object/*"}]}`
			if _, err := c.PutS3AccessPolicy(ctx, &omics.PutS3AccessPolicyInput{S3AccessPointArn: aws.String(ap), S3AccessPolicy: aws.String(policy)}); err != nil {
				t.Fatal(err)
			}
			if err := get(); err != nil {
				t.Fatalf("with a policy that grants s3:GetObject: %v", err)
			}
			if code := s3ErrorCode(list()); code != "AccessDenied" {
				t.Errorf("listing, which the policy does not grant: %s, want AccessDenied", code)
			}
			// A Deny for the index keeps it from the owner too.
			policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"210987654321"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["` + ap + `","` + ap + `/object/*"]},` +
				`{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"` + ap + `/object/*.bai"}]}`
			if _, err := c.PutS3AccessPolicy(ctx, &omics.PutS3AccessPolicyInput{S3AccessPointArn: aws.String(ap), S3AccessPolicy: aws.String(policy)}); err != nil {
				t.Fatal(err)
			}
			if err := list(); err != nil {
				t.Errorf("listing, granted now: %v", err)
			}
			if code := s3ErrorCode(get()); code != "AccessDenied" {
				t.Errorf("the denied index: %s, want AccessDenied", code)
			}
			out, err := goS3(endpoint, key, true).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(baiKey)})
			if code := s3ErrorCode(err); code != "AccessDenied" {
				if err == nil {
					out.Body.Close()
				}
				t.Errorf("the owner reading the denied index: %s, want AccessDenied", code)
			}
			if _, err := c.DeleteS3AccessPolicy(ctx, &omics.DeleteS3AccessPolicyInput{S3AccessPointArn: aws.String(ap)}); err != nil {
				t.Fatal(err)
			}
			if code := s3ErrorCode(get()); code != "AccessDenied" {
				t.Errorf("after the policy is deleted: %s, want AccessDenied", code)
			}
		})
	})
}

// TestS3ReadEndpointLifecycle reads an encrypted store's read set through
// the S3 endpoint: the bytes come decrypted, the read counts for the
// archive clock as GetReadSet's do, and once archived the object is
// listed and described as archived but not served.
func TestS3ReadEndpointLifecycle(t *testing.T) {
	ctx := context.Background()
	in, clock, c, store, id := lifecycleServerOf(t, backends[0], lifecycleOptions{encrypted: true, reads: 500})
	before := fetchReadSet(t, c, store, id) // a read by GetReadSet, now
	endpoint := serveS3(t, in)
	cl := goS3(endpoint, in.rootKey(), true)
	md, err := c.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	bucket, key := splitS3URI(t, *md.Files.Source2.S3Access.S3Uri)
	read := func() ([]byte, error) {
		out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return nil, err
		}
		defer out.Body.Close()
		return io.ReadAll(out.Body)
	}

	// Near the end of the period an S3 read restarts it.
	clock.Advance(archiveAfter - time.Hour)
	got, err := read()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, before.contents[types.ReadSetFileSource2]) {
		t.Fatalf("the S3 endpoint served %d bytes that differ from GetReadSet's %d", len(got), len(before.contents[types.ReadSetFileSource2]))
	}
	clock.Advance(2 * time.Hour)
	if n := sweep(t, in); n != 0 {
		t.Fatalf("a sweep just after an S3 read queued %d read sets, want 0", n)
	}
	clock.Advance(archiveAfter)
	if n := sweep(t, in); n != 1 {
		t.Fatalf("a sweep a period after the S3 read queued %d read sets, want 1", n)
	}
	waitStatus(t, c, store, id, types.ReadSetStatusArchived)

	if _, err := read(); s3ErrorCode(err) != "InvalidObjectState" {
		t.Errorf("GetObject of an archived read set: %v, want InvalidObjectState", err)
	}
	head, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil || head.StorageClass != "GLACIER" || aws.ToInt64(head.ContentLength) != int64(len(before.contents[types.ReadSetFileSource2])) {
		t.Errorf("HeadObject of an archived read set: %+v, %v; want its length and storage class GLACIER", head, err)
	}
	list, err := cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil || len(list.Contents) != 2 || list.Contents[0].StorageClass != "GLACIER" {
		t.Errorf("listing an archived read set: %+v, %v", list, err)
	}
}

// TestS3ReadEndpointReferences reads an imported reference in place:
// samtools faidx finds the FASTA index beside it under the s3Uri that
// GetReferenceMetadata reports.
func TestS3ReadEndpointReferences(t *testing.T) {
	files := referenceFiles(t)
	ctx := context.Background()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := newConfig(t, backends[0])
	cfg.Transfers.FileRoots = []string{root}
	in := start(t, backends[0], cfg)
	endpoint := serveS3(t, in)
	c := in.goClient(in.rootKey())
	rst, err := c.CreateReferenceStore(ctx, &omics.CreateReferenceStoreInput{Name: aws.String("refs")})
	if err != nil {
		t.Fatal(err)
	}
	lambda := files[0]
	raw, err := os.ReadFile(lambda.file)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(root, "lambda.fa")
	if err := os.WriteFile(src, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	started, err := c.StartReferenceImportJob(ctx, &omics.StartReferenceImportJobInput{ReferenceStoreId: rst.Id, RoleArn: aws.String(testRoleArn),
		Sources: []types.StartReferenceImportJobSourceItem{{SourceFile: aws.String("file://" + src), Name: aws.String("lambda")}}})
	if err != nil {
		t.Fatal(err)
	}
	job := waitReferenceImport(t, c, *rst.Id, *started.Id)
	if job.Sources[0].Status != types.ReferenceImportJobItemStatusFinished {
		t.Fatalf("import: %s %s", job.Sources[0].Status, aws.ToString(job.Sources[0].StatusMessage))
	}
	md, err := c.GetReferenceMetadata(ctx, &omics.GetReferenceMetadataInput{ReferenceStoreId: rst.Id, Id: job.Sources[0].ReferenceId})
	if err != nil {
		t.Fatal(err)
	}
	if md.Files.Source.S3Access == nil || md.Files.Index.S3Access == nil {
		t.Fatalf("the reference's files report no s3Uri: %+v", md.Files)
	}
	bucket, key := splitS3URI(t, *md.Files.Source.S3Access.S3Uri)
	_, faiKey := splitS3URI(t, *md.Files.Index.S3Access.S3Uri)
	if faiKey != key+".fai" {
		t.Fatalf("index %s does not lie beside %s", faiKey, key)
	}

	region := lambda.seqs[0] + ":1000-1300"
	cmd := exec.Command(testutil.RequireTool(t, "samtools"), "faidx", "s3+http://"+bucket+"/"+key, region)
	cmd.Dir = t.TempDir() // htslib keeps a copy of a remote index in the working directory
	cmd.Env = append(s3Env(endpoint, in.rootKey()), "HTS_S3_HOST="+strings.TrimPrefix(endpoint, "http://"), "HTS_S3_ADDRESS_STYLE=path")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("samtools faidx through S3: %v\n%s", err, stderr.String())
	}
	local := filepath.Join(t.TempDir(), "lambda.fa")
	if err := os.WriteFile(local, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if want := testutil.Run(t, "samtools", "faidx", local, region); len(want) < 300 || !bytes.Equal(got, want) {
		t.Fatalf("samtools faidx through S3 gave %q, of the file %q", got, want)
	}

	// Another account may read only once the reference store's access
	// point (named as a sequence store's is) has a policy that grants it.
	other := in.newAccount(t, "210987654321")
	get := func() error {
		out, err := goS3(endpoint, other, true).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err == nil {
			out.Body.Close()
		}
		return err
	}
	if code := s3ErrorCode(get()); code != "AccessDenied" {
		t.Errorf("another account reading a reference: %s, want AccessDenied", code)
	}
	ap := "arn:aws:s3:us-east-1:" + in.cfg.AccountID + ":accesspoint/" + in.cfg.AccountID + "-" + *rst.Id
	put, err := c.PutS3AccessPolicy(ctx, &omics.PutS3AccessPolicyInput{S3AccessPointArn: aws.String(ap), S3AccessPolicy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"210987654321"},"Action":"s3:GetObject","Resource":"` + ap + `/object/*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if put.StoreType != types.StoreTypeReferenceStore || *put.StoreId != *rst.Id {
		t.Errorf("PutS3AccessPolicy on a reference store: %s %s", put.StoreType, aws.ToString(put.StoreId))
	}
	if err := get(); err != nil {
		t.Errorf("another account reading a reference under a granting policy: %v", err)
	}

	// A file gone from the object store underneath is the server's fault,
	// answered as S3 answers it, in a well-formed error.
	for _, k := range keysUnder(t, in.srv.Blobs, "") {
		if strings.HasSuffix(k, ".fai") {
			if err := in.srv.Blobs.Delete(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
	}
	resp, err := goS3(endpoint, in.rootKey(), true).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(faiKey)},
		func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	if code := s3ErrorCode(err); code != "InternalError" {
		if err == nil {
			resp.Body.Close()
		}
		t.Errorf("a file missing underneath: %v, want InternalError", err)
	}
}

// TestS3ReadEndpointCRAM: samtools views a region of a stored CRAM in
// place, its CRAI and the reference it was written against (with its .fai)
// read through the S3 endpoint too.
func TestS3ReadEndpointCRAM(t *testing.T) {
	d := lambdaData(t)
	ctx := context.Background()
	in, places := startWithFilePlace(t, backends[0])
	endpoint := serveS3(t, in)
	c := in.goClient(in.rootKey())
	refArn := importLambdaReference(t, c, places[0], d.ref)
	store := newStore(t, c, "")
	dir := t.TempDir()
	file := filepath.Join(dir, "lambda.cram")
	testutil.Run(t, "samtools", "view", "-C", "-T", d.ref, "-o", file, d.bam)
	md := waitIngested(t, c, store, uploadFiles(t, c, store, types.FileTypeCram, refArn, 1<<20, file))
	if md.Status != types.ReadSetStatusActive || md.Files.Index == nil {
		t.Fatalf("CRAM read set: %s %q, index %v", md.Status, aws.ToString(md.StatusMessage), md.Files.Index)
	}
	parts := strings.Split(refArn, "/") // arn:…:referenceStore/STORE/reference/ID
	ref, err := c.GetReferenceMetadata(ctx, &omics.GetReferenceMetadataInput{ReferenceStoreId: aws.String(parts[1]), Id: aws.String(parts[3])})
	if err != nil {
		t.Fatal(err)
	}
	_, cramKey := splitS3URI(t, *md.Files.Source1.S3Access.S3Uri)
	_, craiKey := splitS3URI(t, *md.Files.Index.S3Access.S3Uri)
	if craiKey != cramKey+".crai" {
		t.Fatalf("index %s does not lie beside %s", craiKey, cramKey)
	}
	cramURL := "s3+http://" + strings.TrimPrefix(*md.Files.Source1.S3Access.S3Uri, "s3://")
	refURL := "s3+http://" + strings.TrimPrefix(*ref.Files.Source.S3Access.S3Uri, "s3://")

	region := "gi|9626243|ref|NC_001416.1|:30000-30400"
	cmd := exec.Command(testutil.RequireTool(t, "samtools"), "view", "-T", refURL, cramURL, region)
	cmd.Dir = t.TempDir() // htslib keeps a copy of a remote index in the working directory
	cmd.Env = append(s3Env(endpoint, in.rootKey()), "HTS_S3_HOST="+strings.TrimPrefix(endpoint, "http://"), "HTS_S3_ADDRESS_STYLE=path",
		"REF_PATH=:", "REF_CACHE="+filepath.Join(dir, "no-cache")) // the reference comes from -T alone
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("samtools view of a CRAM through S3: %v\n%s", err, stderr.String())
	}
	local := filepath.Join(dir, "local.cram")
	testutil.Run(t, "cp", file, local)
	testutil.Run(t, "samtools", "index", local)
	if want := testutil.Run(t, "samtools", "view", "-T", d.ref, local, region); len(want) == 0 || !bytes.Equal(got, want) {
		t.Fatalf("samtools view of a CRAM through S3 gave %d bytes, of the local file %d", len(got), len(want))
	}
}
