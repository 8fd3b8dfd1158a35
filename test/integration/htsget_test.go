package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/bearer"
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

// uploadActiveBAM uploads a BAM into store and waits for it to be ACTIVE.
func uploadActiveBAM(t *testing.T, c *omics.Client, store, file string) string {
	t.Helper()
	id := uploadFiles(t, c, store, types.FileTypeBam, testReferenceArn, 200_000, file)
	if md := waitIngested(t, c, store, id); md.Status != types.ReadSetStatusActive {
		t.Fatalf("status %s: %s", md.Status, aws.ToString(md.StatusMessage))
	}
	return id
}

// htsgetQuery is a ticket request's GET query and the samtools regions it
// asks for.
type htsgetQuery struct {
	params  string
	regions []string
}

// htsgetQueries are the regions the htsget tests ask for of the lambda
// reference, length long: the whole reference, the edges of the first
// bins and linear-index windows, its end, the unplaced reads and random
// stretches.
func htsgetQueries(ref string, length int) []htsgetQuery {
	queries := []htsgetQuery{
		{"referenceName=" + ref, []string{ref}},
		{"referenceName=" + ref + "&start=0&end=1", []string{ref + ":1-1"}},
		{"referenceName=" + ref + "&start=16383&end=16384", []string{ref + ":16384-16384"}},
		{"referenceName=" + ref + "&start=16384&end=16385", []string{ref + ":16385-16385"}},
		{"referenceName=" + ref + "&start=0&end=16384", []string{ref + ":1-16384"}},
		{"referenceName=" + ref + "&start=16383", []string{ref + ":16384"}},
		{fmt.Sprintf("referenceName=%s&start=%d&end=%d", ref, length-100, length), []string{fmt.Sprintf("%s:%d-%d", ref, length-99, length)}},
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
		root := in.rootKey()
		c := in.goClient(root)
		store := newStore(t, c, "")
		id := uploadActiveBAM(t, c, store, original)
		// The same records in blocks that split them: the ticket's
		// data must cut them at the index's virtual offsets.
		splitID := uploadActiveBAM(t, c, store, split)
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
			{"start past the reference's end", base + "?referenceName=" + ref + "&start=60000&end=70000", &root, 400, "InvalidRange"},
			{"start past the end, to the end", base + "?referenceName=" + ref + "&start=48503", &root, 400, "InvalidRange"},
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

// newBearerToken stores a bearer token for account, as `seqstore admin
// token create` does, that expires ttl from the server's clock (never for
// 0), and returns it with its ID.
func (in *instance) newBearerToken(t *testing.T, account string, ttl time.Duration) (token, id string) {
	t.Helper()
	now := time.Now()
	if in.cfg.Now != nil {
		now = in.cfg.Now()
	}
	token, rec := bearer.New(account, "test", ttl, now)
	if err := in.srv.Meta.BearerTokenPut(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return token, rec.ID
}

// bearerTicket asks for an htsget ticket with a bearer token.
func bearerTicket(t *testing.T, url, token string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return resp.StatusCode, resp.Header, out["htsget"]
}

// tokenFile writes a token to a file for HTS_AUTH_LOCATION.
func tokenFile(t *testing.T, token string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// htslibWithToken runs samtools with token in the file HTS_AUTH_LOCATION
// names, which htslib sends as a bearer token, over plain HTTP as the
// test server speaks it.
func htslibWithToken(t *testing.T, token string, args ...string) ([]byte, error) {
	t.Helper()
	return htslibWithEnv(t, []string{"HTS_AUTH_LOCATION=" + tokenFile(t, token), "HTS_ALLOW_UNENCRYPTED_AUTHORIZATION_HEADER=I understand the risks"}, args...)
}

// htslibWithEnv runs samtools with env added to the test's environment.
func htslibWithEnv(t *testing.T, env []string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(testutil.RequireTool(t, "samtools"), args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%v: %s", err, stderr.Bytes())
	}
	return out, nil
}

// TestHtsgetBearer: a bearer token an operator issues acts for its
// account at htsget as a signature does. samtools, given the token through
// HTS_AUTH_LOCATION, reads regions through the ticket URL itself and finds
// the records samtools view finds in the original; curl and Go's client
// get tickets with it. Another account's token does not see the read set;
// a revoked, expired, unknown or damaged token gets InvalidAuthentication,
// and samtools fails.
func TestHtsgetBearer(t *testing.T) {
	d := lambdaData(t)
	original, _ := htsgetBAM(t, d)
	clock := testutil.NewClock(time.Now().UTC())
	cfg := newConfig(t, backends[0])
	cfg.Now = clock.Now
	in := start(t, backends[0], cfg)
	ctx := context.Background()
	root := in.rootKey()
	c := in.goClient(root)
	id := uploadActiveBAM(t, c, newStore(t, c, ""), original)
	base := in.endpoint + "/htsget/reads/" + id
	ref := "gi|9626243|ref|NC_001416.1|"
	token, tokenID := in.newBearerToken(t, root.AccountID, 0)

	// samtools reads the ticket URL as a file: htslib asks for the ticket
	// with the token, follows its URLs and hands over the records.
	for _, q := range []struct{ params, region string }{
		{"referenceName=" + url.QueryEscape(ref) + "&start=100&end=2000", ref + ":101-2000"},
		{"referenceName=" + url.QueryEscape(ref) + "&start=30000", ref + ":30001"},
		{"referenceName=*", "*"},
	} {
		// A ticket may hold more records than the region's: the test
		// picks the region's out of what htslib fetched.
		slice := filepath.Join(t.TempDir(), "slice.bam")
		if _, err := htslibWithToken(t, token, "view", "-b", "-o", slice, base+"?"+q.params); err != nil {
			t.Fatalf("samtools view of the ticket URL with a bearer token: %v", err)
		}
		testutil.Run(t, "samtools", "index", slice)
		got := testutil.Run(t, "samtools", "view", slice, q.region)
		want := testutil.Run(t, "samtools", "view", original, q.region)
		if !bytes.Equal(got, want) || len(want) == 0 {
			t.Errorf("%s: %d records through htslib with a bearer token, %d from samtools view of the original", q.params, bytes.Count(got, []byte("\n")), bytes.Count(want, []byte("\n")))
		}
	}
	// curl too, as a user tries it first.
	out := testutil.Run(t, testutil.RequireTool(t, "curl"), "-sS", "-H", "Authorization: Bearer "+token, base+"?class=header")
	if !bytes.Contains(out, []byte(`"class":"header"`)) {
		t.Errorf("curl with a bearer token: %s", out)
	}

	// Another account's token sees its own account alone.
	in.newAccount(t, "210987654321")
	otherToken, _ := in.newBearerToken(t, "210987654321", 0)
	if status, _, body := bearerTicket(t, base, otherToken); status != 404 || body["error"] != "NotFound" {
		t.Errorf("another account's token: status %d, %v; want 404 NotFound", status, body)
	}
	if _, err := htslibWithToken(t, otherToken, "view", "-c", base); err == nil {
		t.Error("samtools read another account's read set with its token")
	}

	hour, _ := in.newBearerToken(t, root.AccountID, time.Hour)
	if status, _, body := bearerTicket(t, base, hour); status != 200 {
		t.Fatalf("a token within its hour: status %d, %v", status, body)
	}
	clock.Advance(time.Hour + time.Second)
	if err := in.srv.Meta.BearerTokenRevoke(ctx, tokenID, clock.Now()); err != nil {
		t.Fatal(err)
	}
	damaged := []byte(token)
	damaged[len(damaged)-1] ^= 1
	unknown, _ := bearer.New(root.AccountID, "", 0, clock.Now())
	for _, c := range []struct {
		name, token, says string
	}{
		{"a revoked token", token, "was revoked"},
		{"an expired token", hour, "expired"},
		{"a token with one digit changed", string(damaged), "unknown"},
		{"a token never issued", unknown, "unknown"},
		{"an access key secret", root.Secret, "not one seqstore issued"},
	} {
		status, header, body := bearerTicket(t, base, c.token)
		msg, _ := body["message"].(string)
		if status != 401 || body["error"] != "InvalidAuthentication" || !strings.Contains(msg, c.says) || header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: status %d, WWW-Authenticate %q, %v; want 401 InvalidAuthentication saying %q", c.name, status, header.Get("WWW-Authenticate"), body, c.says)
		}
	}
	if _, err := htslibWithToken(t, token, "view", "-c", base); err == nil {
		t.Error("samtools read the read set with a revoked token")
	}
}

// TestHtsgetBearerOverTLS: served over HTTPS, as the README says to serve
// it off loopback, htsget gives samtools the records of a region with a
// bearer token and the certificate in CURL_CA_BUNDLE, without the
// permission htslib needs to send a token over plain HTTP; the ticket's
// data URLs are HTTPS too.
func TestHtsgetBearerOverTLS(t *testing.T) {
	d := lambdaData(t)
	original, _ := htsgetBAM(t, d)
	certFile, keyFile, cert := selfSigned(t)
	cfg := newConfig(t, backends[0])
	cfg.API.TLSCert, cfg.API.TLSKey = certFile, keyFile
	in := start(t, backends[0], cfg)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	root := in.rootKey()
	c := in.goClient(root, func(o *omics.Options) { o.HTTPClient = client })
	id := uploadActiveBAM(t, c, newStore(t, c, ""), original)
	token, _ := in.newBearerToken(t, root.AccountID, time.Hour)
	ref := "gi|9626243|ref|NC_001416.1|"
	ticketURL := in.endpoint + "/htsget/reads/" + id + "?referenceName=" + url.QueryEscape(ref) + "&start=5000&end=9000"

	req, _ := http.NewRequest(http.MethodGet, ticketURL, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"url":"https://`) || strings.Contains(string(body), `"url":"http://`) {
		t.Fatalf("ticket over TLS: status %d: %s", resp.StatusCode, body)
	}

	slice := filepath.Join(t.TempDir(), "slice.bam")
	env := []string{"HTS_AUTH_LOCATION=" + tokenFile(t, token), "CURL_CA_BUNDLE=" + certFile}
	if _, err := htslibWithEnv(t, env, "view", "-b", "-o", slice, ticketURL); err != nil {
		t.Fatalf("samtools view of the ticket URL over HTTPS with a bearer token: %v", err)
	}
	testutil.Run(t, "samtools", "index", slice)
	region := ref + ":5001-9000"
	got := testutil.Run(t, "samtools", "view", slice, region)
	want := testutil.Run(t, "samtools", "view", original, region)
	if !bytes.Equal(got, want) || len(want) == 0 {
		t.Errorf("%d records through htslib over HTTPS, %d from samtools view of the original", bytes.Count(got, []byte("\n")), bytes.Count(want, []byte("\n")))
	}
}
