package integration

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/testutil"
)

// refgetGet fetches a refget URL, signed with key for the omics service
// when key is not nil.
func refgetGet(t *testing.T, url string, key *seqstore.AccessKey, header map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if key != nil {
		empty := sha256.Sum256(nil)
		creds := aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(empty[:]), "omics", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

// faidx returns residues [start, end) of a sequence as samtools faidx
// reads them from the FASTA on disk, upper-cased and on one line.
func faidx(t *testing.T, fasta, name string, start, end int64) string {
	t.Helper()
	out := testutil.Run(t, "samtools", "faidx", fasta, fmt.Sprintf("{%s}:%d-%d", name, start+1, end))
	_, residues, _ := strings.Cut(string(out), "\n")
	return strings.ToUpper(strings.ReplaceAll(residues, "\n", ""))
}

// TestRefget: the sequence of an imported reference is served by refget
// as samtools faidx reads it from the FASTA, by its MD5 and its GA4GH
// identifier, whole and by start/end and Range; its metadata names it; a
// signed request sees only its own account's references. Made public,
// refget lets samtools decode a CRAM whose reference is nowhere on disk,
// fetching it through REF_PATH.
func TestRefget(t *testing.T) {
	d := lambdaData(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			places := jobPlaces(t)[:1]
			cfg, restDir := newConfigAtRest(t, b)
			allowJobs(t, cfg, places)
			// On the scale-out backend the reference store is encrypted
			// at rest: refget reads through the decryption.
			var sse *types.SseConfig
			if b.scaleOut {
				cfg.Keyring = filepath.Join(t.TempDir(), "keyring")
				addKeys(t, cfg.Keyring, labKeyArn+" 1")
				sse = &types.SseConfig{Type: types.EncryptionTypeKms, KeyArn: aws.String(labKeyArn)}
			}
			in := start(t, b, cfg)
			root := in.rootKey()
			refArn := importLambdaReferenceWith(t, in.goClient(root), places[0], d.ref, sse)

			dict := string(testutil.Run(t, "samtools", "dict", d.ref))
			m := regexp.MustCompile(`SN:(\S+)\tLN:(\d+)\tM5:([0-9a-f]{32})`).FindStringSubmatch(dict)
			if m == nil {
				t.Fatalf("samtools dict gave no M5:\n%s", dict)
			}
			name, md5hex := m[1], m[3]
			var length int64
			fmt.Sscan(m[2], &length)
			whole := faidx(t, d.ref, name, 0, length)
			sum := sha512.Sum512([]byte(whole))
			ga4gh := "SQ." + base64.RawURLEncoding.EncodeToString(sum[:24])

			if sse != nil {
				fa, err := os.ReadFile(d.ref)
				if err != nil {
					t.Fatal(err)
				}
				requireNotAtRest(t, restDir, strings.Split(string(fa), "\n")[2]) // a whole line of residues
			}

			base := in.endpoint + "/refget/sequence/"
			for _, id := range []string{md5hex, ga4gh, "md5:" + md5hex, "ga4gh:" + ga4gh} {
				status, hdr, body := refgetGet(t, base+id, &root, nil)
				if status != 200 || body != whole || !strings.HasPrefix(hdr.Get("Content-Type"), "text/vnd.ga4gh.refget.v2.0.0+plain") {
					t.Fatalf("%s: status %d, type %q, %d residues; want the %d of samtools faidx", id, status, hdr.Get("Content-Type"), len(body), len(whole))
				}
			}
			for _, r := range [][2]int64{{0, 1}, {99, 200}, {length - 70, length}, {12345, 23456}, {500, 500}} {
				want := ""
				if r[1] > r[0] {
					want = faidx(t, d.ref, name, r[0], r[1])
				}
				status, _, body := refgetGet(t, fmt.Sprintf("%s%s?start=%d&end=%d", base, ga4gh, r[0], r[1]), &root, nil)
				if status != 200 || body != want {
					t.Errorf("start=%d&end=%d: status %d, %q; samtools faidx gives %q", r[0], r[1], status, clip(body), clip(want))
				}
				if r[1] == r[0] {
					continue
				}
				status, hdr, body := refgetGet(t, base+md5hex, &root, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", r[0], r[1]-1)})
				if status != 206 || body != want || hdr.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", r[0], r[1]-1, length) {
					t.Errorf("Range %d-%d: status %d, Content-Range %q, %q; samtools faidx gives %q", r[0], r[1]-1, status, hdr.Get("Content-Range"), clip(body), clip(want))
				}
			}
			for _, c := range []struct {
				query  string
				status int
			}{{fmt.Sprintf("?start=%d", length), 400}, {fmt.Sprintf("?end=%d", length+1), 416}, {"?start=9&end=3", 501}, {"?start=x", 400}} {
				if status, _, body := refgetGet(t, base+md5hex+c.query, &root, nil); status != c.status {
					t.Errorf("%s: status %d (%s), want %d", c.query, status, body, c.status)
				}
			}

			status, hdr, body := refgetGet(t, base+md5hex+"/metadata", &root, nil)
			var md struct {
				Metadata struct {
					MD5     string
					GA4GH   string
					Length  int64
					Aliases []struct {
						Alias           string
						NamingAuthority string `json:"naming_authority"`
					}
				}
			}
			if err := json.Unmarshal([]byte(body), &md); status != 200 || err != nil || !strings.HasPrefix(hdr.Get("Content-Type"), "application/vnd.ga4gh.refget.v2.0.0+json") {
				t.Fatalf("metadata: status %d, type %q, %v: %s", status, hdr.Get("Content-Type"), err, body)
			}
			if md.Metadata.MD5 != md5hex || md.Metadata.GA4GH != ga4gh || md.Metadata.Length != length ||
				len(md.Metadata.Aliases) != 1 || md.Metadata.Aliases[0].Alias != name || md.Metadata.Aliases[0].NamingAuthority != refArn {
				t.Errorf("metadata %s; want md5 %s, ga4gh %s, length %d, alias %s by %s", body, md5hex, ga4gh, length, name, refArn)
			}
			if status, _, body := refgetGet(t, base+"service-info", nil, nil); status != 200 || !strings.Contains(body, `"circular_supported":false`) {
				t.Errorf("service-info: status %d: %s", status, body)
			}

			// Signed refget sees the signer's account alone; unsigned or
			// badly signed requests are refused.
			other := in.newAccount(t, "210987654321")
			if status, _, body := refgetGet(t, base+md5hex, &other, nil); status != 404 {
				t.Errorf("another account's request: status %d (%s), want 404", status, clip(body))
			}
			if status, _, body := refgetGet(t, base+ga4gh+"/metadata", &other, nil); status != 404 {
				t.Errorf("another account's metadata request: status %d (%s), want 404", status, clip(body))
			}
			if status, _, _ := refgetGet(t, base+md5hex, nil, nil); status != 403 {
				t.Errorf("an unsigned request: status %d, want 403", status)
			}
			forged := seqstore.AccessKey{ID: root.ID, Secret: "not-the-secret"}
			if status, _, _ := refgetGet(t, base+md5hex, &forged, nil); status != 403 {
				t.Errorf("a request signed with the wrong secret: status %d, want 403", status)
			}

			// A bearer token acts as its account's signature does;
			// revoked, it is refused with 401. htslib sends it from the
			// file HTS_AUTH_LOCATION names.
			token, tokenID := in.newBearerToken(t, root.AccountID, 0)
			otherToken, _ := in.newBearerToken(t, other.AccountID, 0)
			bearer := func(token string) map[string]string { return map[string]string{"Authorization": "Bearer " + token} }
			if status, _, body := refgetGet(t, base+md5hex, nil, bearer(token)); status != 200 || body != whole {
				t.Errorf("a bearer token: status %d, %d residues", status, len(body))
			}
			if status, _, body := refgetGet(t, base+md5hex, nil, bearer(otherToken)); status != 404 {
				t.Errorf("another account's bearer token: status %d (%s), want 404", status, clip(body))
			}
			if !b.scaleOut {
				decodeThroughRefget(t, d, in.endpoint, md5hex, "HTS_AUTH_LOCATION="+tokenFile(t, token), "HTS_ALLOW_UNENCRYPTED_AUTHORIZATION_HEADER=I understand the risks")
			}
			if err := in.srv.Meta.BearerTokenRevoke(context.Background(), tokenID, time.Now()); err != nil {
				t.Fatal(err)
			}
			if status, hdr, body := refgetGet(t, base+md5hex, nil, bearer(token)); status != 401 || !strings.Contains(body, "revoked") || hdr.Get("WWW-Authenticate") == "" {
				t.Errorf("a revoked bearer token: status %d, WWW-Authenticate %q, %s", status, hdr.Get("WWW-Authenticate"), clip(body))
			}

			// Public: samtools decodes a CRAM whose reference is not on
			// disk, fetching it by the M5 of its @SQ line.
			in.cfg.RefgetPublic = true
			in = in.restart(b)
			if status, _, body := refgetGet(t, in.endpoint+"/refget/sequence/"+md5hex, nil, nil); status != 200 || body != whole {
				t.Fatalf("public refget: status %d, %d residues", status, len(body))
			}
			if b.scaleOut {
				return // htslib's side is the same on either backend
			}
			decodeThroughRefget(t, d, in.endpoint, md5hex)
		})
	}
}

// decodeThroughRefget makes a CRAM against a copy of the reference, removes
// the copy, and has samtools decode the CRAM with REF_PATH at refget and an
// empty REF_CACHE: its SAM must equal that of `samtools view -T`.
func decodeThroughRefget(t *testing.T, d *testData, endpoint, md5hex string, env ...string) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "gone.fa")
	testutil.Run(t, "cp", d.ref, ref)
	cram := filepath.Join(dir, "reads.cram")
	testutil.Run(t, "samtools", "view", "-C", "-T", ref, "-o", cram, d.bam)
	want := testutil.Run(t, "samtools", "view", "-T", ref, cram)
	for _, f := range []string{ref, ref + ".fai"} {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	cache := filepath.Join(dir, "cache")
	cmd := exec.Command(testutil.RequireTool(t, "samtools"), "view", cram)
	cmd.Env = append(os.Environ(),
		"REF_PATH="+endpoint+"/refget/sequence/%s",
		"REF_CACHE="+cache+"/%2s/%2s/%s")
	cmd.Env = append(cmd.Env, env...)
	got, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("samtools view with REF_PATH at refget: %v\n%s", err, stderr)
	}
	if string(got) != string(want) || len(got) == 0 {
		t.Fatalf("samtools view through refget gives %d bytes of SAM, with -T %d", len(got), len(want))
	}
	cached := filepath.Join(cache, md5hex[:2], md5hex[2:4], md5hex[4:])
	if _, err := os.Stat(cached); err != nil {
		t.Errorf("samtools did not cache the sequence it fetched: %v", err)
	}
}

// requireNotAtRest fails the test if a file under dir holds text: the
// stored FASTA of an encrypted store must not lie there in the clear.
func requireNotAtRest(t *testing.T, dir, text string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if strings.Contains(string(b), text) {
			t.Errorf("%s holds the reference's residues in the clear", path)
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("reading the stores at rest in %s: %d files, %v", dir, files, err)
	}
}

// clip shortens residues for a message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
