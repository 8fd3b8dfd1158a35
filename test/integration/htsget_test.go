package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/format/bam/bamtest"
	"github.com/seqstore/seqstore/internal/testutil"
)

// htsgetTicket asks for an htsget ticket, signed with key for the omics
// service when key is not nil; body, when not empty, is POSTed.
func htsgetTicket(t *testing.T, url string, key *seqstore.AccessKey, body string) (int, map[string]any) {
	t.Helper()
	method := http.MethodGet
	if body != "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != nil {
		sum := sha256.Sum256([]byte(body))
		creds := aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "omics", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/vnd.ga4gh.htsget.v1.3.0+json") {
		t.Fatalf("%s: Content-Type %q", url, ct)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return resp.StatusCode, out["htsget"].(map[string]any)
}

// followTicket fetches a ticket's URLs, unsigned as htsget clients fetch
// them, and concatenates what they give.
func followTicket(t *testing.T, ticket map[string]any) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, u := range ticket["urls"].([]any) {
		url := u.(map[string]any)["url"].(string)
		if data, ok := strings.CutPrefix(url, "data:application/octet-stream;base64,"); ok {
			b, err := base64.StdEncoding.DecodeString(data)
			if err != nil {
				t.Fatal(err)
			}
			out.Write(b)
			continue
		}
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d: %s", url, resp.StatusCode, b)
		}
		out.Write(b)
	}
	return out.Bytes()
}

// htsgetBAM is the lambda alignments followed by unplaced reads, indexed
// by samtools beside it, and the same data cut into blocks by bgzip,
// whose blocks split records.
func htsgetBAM(t *testing.T, d *testData) (bam, split string) {
	dir := t.TempDir()
	bamtest.Shell(t, dir, `
samtools view -h `+d.bam+` > all.sam
samtools view `+d.bam+` | awk 'BEGIN{OFS="\t"} NR<=3000 {$1="u"$1; $2=4; $3="*"; $4=0; $5=0; $6="*"; $7="*"; $8=0; $9=0; print}' >> all.sam
samtools view -b -o with_unplaced.bam all.sam
samtools index with_unplaced.bam
bgzip -dc with_unplaced.bam | bgzip -c > split.bam`)
	return filepath.Join(dir, "with_unplaced.bam"), filepath.Join(dir, "split.bam")
}

// htsgetQuery is a ticket request's GET query and the samtools regions it
// asks for.
type htsgetQuery struct {
	params  string
	regions []string
}

// htsgetQueries are the regions the htsget tests ask for of the lambda
// reference, length long: the whole reference, the edges of the first
// bins and linear-index windows, its end, a stretch past it with no
// reads, the unplaced reads and random stretches.
func htsgetQueries(ref string, length int) []htsgetQuery {
	queries := []htsgetQuery{
		{"referenceName=" + ref, []string{ref}},
		{"referenceName=" + ref + "&start=0&end=1", []string{ref + ":1-1"}},
		{"referenceName=" + ref + "&start=16383&end=16384", []string{ref + ":16384-16384"}},
		{"referenceName=" + ref + "&start=16384&end=16385", []string{ref + ":16385-16385"}},
		{"referenceName=" + ref + "&start=0&end=16384", []string{ref + ":1-16384"}},
		{"referenceName=" + ref + "&start=16383", []string{ref + ":16384"}},
		{fmt.Sprintf("referenceName=%s&start=%d&end=%d", ref, length-100, length), []string{fmt.Sprintf("%s:%d-%d", ref, length-99, length)}},
		{"referenceName=" + ref + "&start=60000&end=70000", []string{ref + ":60001-70000"}},
		{"referenceName=*", []string{"*"}},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 15 {
		beg := rng.IntN(length)
		end := beg + 1 + rng.IntN(1+rng.IntN(3)*10000)
		queries = append(queries, htsgetQuery{fmt.Sprintf("referenceName=%s&start=%d&end=%d", ref, beg, end), []string{fmt.Sprintf("%s:%d-%d", ref, beg+1, end)}})
	}
	return queries
}

// TestHtsget: a BAM read set uploaded through the API is served by htsget:
// for many regions — whole reference, edges of the first bins and linear
// index windows, the unplaced reads, stretches with no reads, random ones,
// several at once by POST — the ticket's URLs, fetched and concatenated,
// make a BAM in which samtools view finds exactly the records it finds in
// the same region of the original, and so does the file htslib's own
// htsget client makes following the ticket; the whole file and the header
// alone too. A second read set holds the same records in bgzip's blocks,
// which split records. Bad requests get the spec's errors, and another account's read
// set is not found.
func TestHtsget(t *testing.T) {
	d := lambdaData(t)
	original, split := htsgetBAM(t, d)
	forEachBackend(t, func(t *testing.T, b backend, in *instance) {
		ctx := context.Background()
		root := in.rootKey()
		c := in.goClient(root)
		st, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("htsget")})
		if err != nil {
			t.Fatal(err)
		}
		id := uploadFiles(t, c, *st.Id, types.FileTypeBam, testReferenceArn, 200_000, original)
		if md := waitIngested(t, c, *st.Id, id); md.Status != types.ReadSetStatusActive {
			t.Fatalf("status %s: %s", md.Status, aws.ToString(md.StatusMessage))
		}
		// The same records in blocks that split them: the ticket's
		// data must cut them at the index's virtual offsets.
		splitID := uploadFiles(t, c, *st.Id, types.FileTypeBam, testReferenceArn, 200_000, split)
		if md := waitIngested(t, c, *st.Id, splitID); md.Status != types.ReadSetStatusActive {
			t.Fatalf("status %s: %s", md.Status, aws.ToString(md.StatusMessage))
		}
		base := in.endpoint + "/htsget/reads/" + id
		dir := t.TempDir()
		ref := "gi|9626243|ref|NC_001416.1|"
		const length = 48502

		queries := htsgetQueries(ref, length)
		records := map[string]int{}
		check := func(name string, ticket map[string]any, regions []string) {
			t.Helper()
			if ticket["format"] != "BAM" {
				t.Fatalf("%s: format %v", name, ticket["format"])
			}
			slice := filepath.Join(dir, "slice.bam")
			os.WriteFile(slice, followTicket(t, ticket), 0o644)
			testutil.Run(t, "samtools", "index", slice)
			got := testutil.Run(t, "samtools", append([]string{"view", slice}, regions...)...)
			want := testutil.Run(t, "samtools", append([]string{"view", original}, regions...)...)
			records[name] = bytes.Count(want, []byte("\n"))
			if !bytes.Equal(got, want) {
				t.Errorf("%s: %d records from the ticket, %d from samtools view of the original", name, bytes.Count(got, []byte("\n")), bytes.Count(want, []byte("\n")))
			}
			// htslib's own htsget client follows a ticket it reads.
			doc, _ := json.Marshal(map[string]any{"htsget": ticket})
			os.WriteFile(filepath.Join(dir, "ticket.json"), doc, 0o644)
			testutil.Run(t, "samtools", "view", "-b", "-o", filepath.Join(dir, "followed.bam"), filepath.Join(dir, "ticket.json"))
			testutil.Run(t, "samtools", "index", filepath.Join(dir, "followed.bam"))
			if got := testutil.Run(t, "samtools", append([]string{"view", filepath.Join(dir, "followed.bam")}, regions...)...); !bytes.Equal(got, want) {
				t.Errorf("%s: %d records through htslib's htsget client, %d from samtools view of the original", name, bytes.Count(got, []byte("\n")), bytes.Count(want, []byte("\n")))
			}
		}
		for _, rs := range []string{id, splitID} {
			for _, q := range queries {
				status, ticket := htsgetTicket(t, in.endpoint+"/htsget/reads/"+rs+"?"+q.params, &root, "")
				if status != 200 {
					t.Fatalf("%s: status %d: %v", q.params, status, ticket)
				}
				check(q.params, ticket, q.regions)
			}
		}
		if records["referenceName=*"] < 3000 || records["referenceName="+ref] < 10000 {
			t.Fatalf("the original has %d unplaced reads and %d placed: the comparison proves little", records["referenceName=*"], records["referenceName="+ref])
		}
		// Several regions at once, by POST.
		status, ticket := htsgetTicket(t, base, &root, `{"format":"BAM","regions":[{"referenceName":"`+ref+`","start":100,"end":2000},{"referenceName":"`+ref+`","start":30000,"end":30500},{"referenceName":"*"}]}`)
		if status != 200 {
			t.Fatalf("POST: status %d: %v", status, ticket)
		}
		check("POST", ticket, []string{ref + ":101-2000", ref + ":30001-30500", "*"})

		// The whole file, and the header alone.
		status, ticket = htsgetTicket(t, base, &root, "")
		whole := followTicket(t, ticket)
		os.WriteFile(filepath.Join(dir, "whole.bam"), whole, 0o644)
		if got, want := testutil.Run(t, "samtools", "view", "--no-PG", "-h", filepath.Join(dir, "whole.bam")), testutil.Run(t, "samtools", "view", "--no-PG", "-h", original); status != 200 || !bytes.Equal(got, want) {
			t.Errorf("whole file: status %d, %d bytes of SAM, the original %d", status, len(got), len(want))
		}
		status, ticket = htsgetTicket(t, base+"?class=header&referenceName="+ref, &root, "")
		os.WriteFile(filepath.Join(dir, "header.bam"), followTicket(t, ticket), 0o644)
		if got, want := testutil.Run(t, "samtools", "view", "--no-PG", "-h", filepath.Join(dir, "header.bam")), testutil.Run(t, "samtools", "view", "--no-PG", "-H", original); status != 200 || !bytes.Equal(got, want) {
			t.Errorf("class=header: status %d, SAM %q, want the header alone", status, clip(string(got)))
		}

		// A tampered data URL is refused.
		_, ticket = htsgetTicket(t, base+"?referenceName="+ref, &root, "")
		for _, u := range ticket["urls"].([]any) {
			url := u.(map[string]any)["url"].(string)
			if strings.HasPrefix(url, "http") {
				resp, err := http.Get(strings.Replace(url, "start=", "start=1", 1))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 401 {
					t.Errorf("a tampered data URL: status %d, want 401", resp.StatusCode)
				}
				break
			}
		}

		other := in.newAccount(t, "210987654321")
		for _, c := range []struct {
			name   string
			url    string
			key    *seqstore.AccessKey
			status int
			kind   string
		}{
			{"unknown read set", in.endpoint + "/htsget/reads/9999999999", &root, 404, "NotFound"},
			{"another account's read set", base, &other, 404, "NotFound"},
			{"unsigned", base, nil, 403, "PermissionDenied"},
			{"start after end", base + "?referenceName=" + ref + "&start=500&end=100", &root, 400, "InvalidRange"},
			{"bad start", base + "?referenceName=" + ref + "&start=x", &root, 400, "InvalidInput"},
			{"start without a reference", base + "?start=5", &root, 400, "InvalidInput"},
			{"unknown reference", base + "?referenceName=chrZ", &root, 404, "NotFound"},
			{"VCF", base + "?format=VCF", &root, 400, "UnsupportedFormat"},
			{"CRAM of a BAM", base + "?format=CRAM", &root, 400, "UnsupportedFormat"},
			{"bad class", base + "?class=body", &root, 400, "InvalidInput"},
		} {
			status, body := htsgetTicket(t, c.url, c.key, "")
			if status != c.status || body["error"] != c.kind || body["message"] == "" {
				t.Errorf("%s: status %d, %v; want %d %s", c.name, status, body, c.status, c.kind)
			}
		}
	})
}

// TestHtsgetCRAM: a CRAM read set is served by htsget through its CRAI:
// for the same regions, the ticket's containers, fetched and
// concatenated (by the test and by htslib's own client), hold exactly the
// records samtools view finds in the region of the original.
func TestHtsgetCRAM(t *testing.T) {
	d := lambdaData(t)
	original, _ := htsgetBAM(t, d)
	b := backends[0]
	in, places := startWithFilePlace(t, b)
	root := in.rootKey()
	c := in.goClient(root)
	refArn := importLambdaReference(t, c, places[0], d.ref)
	store := newStore(t, c, "")
	dir := t.TempDir()
	file := filepath.Join(dir, "original.cram")
	// Small containers, so that regions pick some of them.
	testutil.Run(t, "samtools", "view", "-C", "-T", d.ref, "--output-fmt-option", "seqs_per_slice=500", "-o", file, original)
	testutil.Run(t, "samtools", "index", file)
	md := waitIngested(t, c, store, uploadFiles(t, c, store, types.FileTypeCram, refArn, 1<<20, file))
	if md.Status != types.ReadSetStatusActive {
		t.Fatalf("status %s: %s", md.Status, aws.ToString(md.StatusMessage))
	}
	base := in.endpoint + "/htsget/reads/" + *md.Id
	ref := "gi|9626243|ref|NC_001416.1|"
	view := func(file string, regions []string) []byte {
		return testutil.Run(t, "samtools", append([]string{"view", "-T", d.ref, file}, regions...)...)
	}
	records := 0
	smaller := false
	info, _ := os.Stat(file)
	for _, q := range append(htsgetQueries(ref, 48502), htsgetQuery{"", nil}) {
		status, ticket := htsgetTicket(t, base+"?format=CRAM&"+q.params, &root, "")
		if status != 200 || ticket["format"] != "CRAM" {
			t.Fatalf("%s: status %d: %v", q.params, status, ticket)
		}
		data := followTicket(t, ticket)
		smaller = smaller || int64(len(data))*2 < info.Size()
		slice := filepath.Join(dir, "slice.cram")
		os.WriteFile(slice, data, 0o644)
		testutil.Run(t, "samtools", "index", slice)
		want := view(file, q.regions)
		records += bytes.Count(want, []byte("\n"))
		if got := view(slice, q.regions); !bytes.Equal(got, want) {
			t.Errorf("%s: %d records from the ticket, %d from samtools view of the original", q.params, bytes.Count(got, []byte("\n")), bytes.Count(want, []byte("\n")))
		}
		doc, _ := json.Marshal(map[string]any{"htsget": ticket})
		os.WriteFile(filepath.Join(dir, "ticket.json"), doc, 0o644)
		followed := filepath.Join(dir, "followed.cram")
		testutil.Run(t, "samtools", "view", "-C", "-T", d.ref, "-o", followed, filepath.Join(dir, "ticket.json"))
		testutil.Run(t, "samtools", "index", followed)
		if got := view(followed, q.regions); !bytes.Equal(got, want) {
			t.Errorf("%s: %d records through htslib's htsget client, %d from samtools view of the original", q.params, bytes.Count(got, []byte("\n")), bytes.Count(want, []byte("\n")))
		}
	}
	if records < 20000 || !smaller {
		t.Errorf("%d records in all, some ticket smaller than half the file: %v; the comparison proves little", records, smaller)
	}
	if status, body := htsgetTicket(t, base+"?format=BAM", &root, ""); status != 400 || body["error"] != "UnsupportedFormat" {
		t.Errorf("BAM of a CRAM: %d %v", status, body)
	}
}
