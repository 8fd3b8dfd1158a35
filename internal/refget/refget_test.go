package refget

import (
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// memStore holds sequences in memory, each readable by one account: the
// protocol's tests need no storage (the reference service's own tests and
// the integration test read stored references).
type memStore struct {
	seqs    map[string]string // residues by account
	aliases []Alias
	opened  int // ranges opened, to see that refused requests read nothing
}

func digests(residues string) (md5hex, ga4gh string) {
	m := md5.Sum([]byte(residues))
	s := sha512.Sum512([]byte(residues))
	return hex.EncodeToString(m[:]), "SQ." + base64.RawURLEncoding.EncodeToString(s[:24])
}

func (m *memStore) Sequence(_ context.Context, account, digest string) (*Sequence, error) {
	for owner, residues := range m.seqs {
		if account != AnyAccount && account != owner {
			continue
		}
		md5hex, ga4gh := digests(residues)
		if digest != md5hex && digest != ga4gh {
			continue
		}
		return &Sequence{MD5: md5hex, GA4GH: ga4gh, Length: int64(len(residues)), Aliases: m.aliases,
			Open: func(_ context.Context, start, end int64) (io.ReadCloser, error) {
				m.opened++
				return io.NopCloser(strings.NewReader(residues[start:end])), nil
			}}, nil
	}
	return nil, ErrNotFound
}

const (
	accountA = "111111111111"
	accountB = "222222222222"
	// The spec's example of a Range: 60 residues.
	example = "CAACAGAGACTGCTGCTGACAGTGGGCGGGGGAGTAGTTTGCTTGGCCCGTGGTTGAGGA"
)

// unauthorized is an authentication failure that answers 401.
type unauthorized string

func (e unauthorized) Error() string { return string(e) }
func (e unauthorized) Status() int   { return http.StatusUnauthorized }

// authByHeader takes the account from a test header, refusing requests
// without one as a signature check would.
func authByHeader(r *http.Request) (string, error) {
	if a, ok := r.Header["X-Test-Account"]; ok {
		if a[0] == "expired" {
			// As a bearer token past its expiry is refused.
			return "", unauthorized("the bearer token expired")
		}
		return a[0], nil
	}
	return "", &statusError{status: http.StatusForbidden, msg: "Missing Authentication Token"}
}

func newTestServer(t *testing.T, public bool) (*httptest.Server, *memStore) {
	store := &memStore{seqs: map[string]string{accountA: example, accountB: "ACGT"}, aliases: []Alias{{Alias: "chr1", NamingAuthority: "arn:aws:omics:us-east-1:111111111111:referenceStore/1/reference/2"}}}
	srv := httptest.NewServer(&Handler{Store: store, Public: public, Authenticate: authByHeader, Version: "v9"})
	t.Cleanup(srv.Close)
	return srv, store
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
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
	return resp, string(body)
}

func TestSequence(t *testing.T) {
	srv, store := newTestServer(t, false)
	md5hex, ga4gh := digests(example)
	trunc := func() string {
		raw, _ := base64.RawURLEncoding.DecodeString(ga4gh[3:])
		return hex.EncodeToString(raw)
	}()
	asA := map[string]string{"X-Test-Account": accountA}
	with := func(h map[string]string) map[string]string {
		out := map[string]string{"X-Test-Account": accountA}
		for k, v := range h {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name       string
		path       string
		header     map[string]string
		status     int
		body       string // for 2xx
		errHas     string // for errors
		contentRng string
		acceptRngs string
		wwwAuth    string // for errors
	}{
		{name: "whole by MD5", path: md5hex, header: asA, status: 200, body: example, acceptRngs: "bytes"},
		{name: "whole by upper-case MD5", path: strings.ToUpper(md5hex), header: asA, status: 200, body: example},
		{name: "md5: namespace", path: "md5:" + md5hex, header: asA, status: 200, body: example},
		{name: "whole by GA4GH", path: ga4gh, header: asA, status: 200, body: example},
		{name: "ga4gh: namespace", path: "ga4gh:" + ga4gh, header: asA, status: 200, body: example},
		{name: "TRUNC512", path: trunc, header: asA, status: 200, body: example},
		{name: "start and end", path: md5hex + "?start=5&end=15", header: asA, status: 200, body: example[5:15], acceptRngs: "none"},
		{name: "start alone", path: md5hex + "?start=50", header: asA, status: 200, body: example[50:]},
		{name: "end alone", path: md5hex + "?end=3", header: asA, status: 200, body: example[:3]},
		{name: "start equals end", path: md5hex + "?start=7&end=7", header: asA, status: 200, body: ""},
		{name: "the last residue", path: md5hex + "?start=59&end=60", header: asA, status: 200, body: "A"},
		{name: "start past the end", path: md5hex + "?start=60", header: asA, status: 400, errHas: "past the sequence's last residue"},
		{name: "end past the end", path: md5hex + "?start=0&end=61", header: asA, status: 416, errHas: "past the sequence's end"},
		{name: "start after end", path: md5hex + "?start=10&end=5", header: asA, status: 501, errHas: "circular"},
		{name: "negative start", path: md5hex + "?start=-1", header: asA, status: 400, errHas: "unsigned integer"},
		{name: "start not a number", path: md5hex + "?start=abc", header: asA, status: 400},
		{name: "start past 32 bits", path: md5hex + "?start=4294967296", header: asA, status: 400},
		{name: "empty end", path: md5hex + "?end=", header: asA, status: 400},
		{name: "start twice", path: md5hex + "?start=1&start=2", header: asA, status: 400, errHas: "give it once"},
		{name: "the spec's Range example", path: md5hex, header: with(map[string]string{"Range": "bytes=5-14"}), status: 206, body: "GAGACTGCTG", contentRng: "bytes 5-14/60", acceptRngs: "bytes"},
		{name: "Range of one residue", path: md5hex, header: with(map[string]string{"Range": "bytes=0-0"}), status: 206, body: "C"},
		{name: "Range to the end", path: md5hex, header: with(map[string]string{"Range": "bytes=55-"}), status: 206, body: example[55:], contentRng: "bytes 55-59/60"},
		{name: "suffix Range", path: md5hex, header: with(map[string]string{"Range": "bytes=-4"}), status: 206, body: example[56:]},
		{name: "suffix Range longer than the sequence", path: md5hex, header: with(map[string]string{"Range": "bytes=-100"}), status: 206, body: example},
		{name: "Range past the end", path: md5hex, header: with(map[string]string{"Range": "bytes=10-60"}), status: 400, errHas: "outside"},
		{name: "Range starting past the end", path: md5hex, header: with(map[string]string{"Range": "bytes=60-"}), status: 400},
		{name: "Range backwards", path: md5hex, header: with(map[string]string{"Range": "bytes=9-5"}), status: 400, errHas: "ends before it starts"},
		{name: "several Ranges", path: md5hex, header: with(map[string]string{"Range": "bytes=0-1,4-5"}), status: 400, errHas: "several"},
		{name: "Range of other units", path: md5hex, header: with(map[string]string{"Range": "bases=0-1"}), status: 400},
		{name: "Range malformed", path: md5hex, header: with(map[string]string{"Range": "bytes=a-b"}), status: 400},
		{name: "Range with start", path: md5hex + "?start=1", header: with(map[string]string{"Range": "bytes=0-1"}), status: 400, errHas: "not both"},
		{name: "Accept refget text", path: md5hex, header: with(map[string]string{"Accept": TextType}), status: 200, body: example},
		{name: "Accept text/plain", path: md5hex, header: with(map[string]string{"Accept": "text/plain; charset=us-ascii"}), status: 200, body: example},
		{name: "Accept anything", path: md5hex, header: with(map[string]string{"Accept": "*/*"}), status: 200, body: example},
		{name: "Accept JSON for a sequence", path: md5hex, header: with(map[string]string{"Accept": "application/json"}), status: 406},
		{name: "Accept text/plain at q=0", path: md5hex, header: with(map[string]string{"Accept": "text/plain;q=0, application/json"}), status: 406},
		{name: "unknown MD5", path: strings.Repeat("0", 32), header: asA, status: 404, errHas: "no sequence"},
		{name: "malformed identifier", path: "chr1", header: asA, status: 404},
		{name: "SQ identifier of bad base64", path: "SQ." + strings.Repeat("*", 32), header: asA, status: 404},
		{name: "another account's sequence", path: md5hex, header: map[string]string{"X-Test-Account": accountB}, status: 404},
		{name: "no credentials", path: md5hex, status: 403, errHas: "Missing Authentication Token"},
		{name: "credentials that no longer work", path: md5hex, header: map[string]string{"X-Test-Account": "expired"}, status: 401, errHas: "expired", wwwAuth: `Bearer error="invalid_token"`},
		{name: "an authenticated caller of no account", path: md5hex, header: map[string]string{"X-Test-Account": ""}, status: 403, errHas: "names no account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opened := store.opened
			resp, body := get(t, srv.URL+Prefix+"sequence/"+tt.path, tt.header)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d (%q), want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status >= 300 {
				if !strings.Contains(body, tt.errHas) {
					t.Errorf("error %q does not say %q", body, tt.errHas)
				}
				if store.opened != opened {
					t.Error("a refused request read the sequence")
				}
				if got := resp.Header.Get("WWW-Authenticate"); got != tt.wwwAuth {
					t.Errorf("WWW-Authenticate %q, want %q", got, tt.wwwAuth)
				}
				return
			}
			if body != tt.body {
				t.Errorf("body %q, want %q", body, tt.body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, TextType) {
				t.Errorf("Content-Type %q, want %s", ct, TextType)
			}
			if tt.contentRng != "" && resp.Header.Get("Content-Range") != tt.contentRng {
				t.Errorf("Content-Range %q, want %q", resp.Header.Get("Content-Range"), tt.contentRng)
			}
			if tt.acceptRngs != "" && resp.Header.Get("Accept-Ranges") != tt.acceptRngs {
				t.Errorf("Accept-Ranges %q, want %q", resp.Header.Get("Accept-Ranges"), tt.acceptRngs)
			}
		})
	}
}

func TestMetadata(t *testing.T) {
	srv, _ := newTestServer(t, false)
	md5hex, ga4gh := digests(example)
	for _, id := range []string{md5hex, ga4gh} {
		resp, body := get(t, srv.URL+Prefix+"sequence/"+id+"/metadata", map[string]string{"X-Test-Account": accountA})
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), JSONType) {
			t.Fatalf("%s: status %d, type %q: %s", id, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		var got metadata
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		m := got.Metadata
		if m.MD5 != md5hex || m.GA4GH == nil || *m.GA4GH != ga4gh || m.Length != 60 || len(m.Aliases) != 1 || m.Aliases[0].Alias != "chr1" {
			t.Errorf("%s: metadata %s", id, body)
		}
	}
	for _, c := range []struct {
		path, account, accept string
		status                int
	}{
		{md5hex + "/metadata", accountB, "", 404},
		{md5hex + "/metadata", "", "", 403},
		{md5hex + "/metadata", accountA, "text/plain", 406},
		{md5hex + "/metadata", accountA, "application/json", 200},
		{md5hex + "/metadata/x", accountA, "", 404},
		{"/metadata", accountA, "", 404},
	} {
		h := map[string]string{}
		if c.account != "" {
			h["X-Test-Account"] = c.account
		}
		if c.accept != "" {
			h["Accept"] = c.accept
		}
		if resp, body := get(t, srv.URL+Prefix+"sequence/"+c.path, h); resp.StatusCode != c.status {
			t.Errorf("%s as %q accepting %q: status %d (%s), want %d", c.path, c.account, c.accept, resp.StatusCode, body, c.status)
		}
	}
}

// A sequence imported before its GA4GH digest was kept reports it null.
func TestMetadataWithoutGA4GH(t *testing.T) {
	m := metadataOf(&Sequence{MD5: "x", Length: 1})
	b, _ := json.Marshal(m)
	if want := `{"metadata":{"md5":"x","ga4gh":null,"length":1,"aliases":[]}}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestServiceInfo(t *testing.T) {
	srv, _ := newTestServer(t, false)
	for _, path := range []string{"sequence/service-info", "service-info"} {
		resp, body := get(t, srv.URL+Prefix+path, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d: %s", path, resp.StatusCode, body)
		}
		var info struct {
			Type    struct{ Group, Artifact, Version string }
			Version string
			Refget  struct {
				Circular   bool     `json:"circular_supported"`
				Algorithms []string `json:"algorithms"`
			}
		}
		if err := json.Unmarshal([]byte(body), &info); err != nil {
			t.Fatal(err)
		}
		if info.Type.Group != "org.ga4gh" || info.Type.Artifact != "refget" || info.Type.Version != "2.0.0" || info.Version != "v9" ||
			info.Refget.Circular || strings.Join(info.Refget.Algorithms, ",") != "md5,ga4gh,trunc512" {
			t.Errorf("%s: %s", path, body)
		}
	}
	if resp, _ := get(t, srv.URL+Prefix+"service-info", map[string]string{"Accept": "text/plain"}); resp.StatusCode != 406 {
		t.Errorf("service-info as text: status %d, want 406", resp.StatusCode)
	}
}

// A public server serves every account's sequences to anyone.
func TestPublic(t *testing.T) {
	srv, _ := newTestServer(t, true)
	for _, residues := range []string{example, "ACGT"} {
		md5hex, _ := digests(residues)
		if resp, body := get(t, srv.URL+Prefix+"sequence/"+md5hex, nil); resp.StatusCode != 200 || body != residues {
			t.Errorf("status %d, body %q; want %q", resp.StatusCode, body, residues)
		}
	}
}

func TestMethodsAndPaths(t *testing.T) {
	srv, store := newTestServer(t, true)
	md5hex, _ := digests(example)
	resp, err := http.Post(srv.URL+Prefix+"sequence/"+md5hex, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" {
		t.Errorf("POST: status %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	head, err := http.Head(srv.URL + Prefix + "sequence/" + md5hex)
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != 200 || head.ContentLength != 60 || store.opened != 0 {
		t.Errorf("HEAD: status %d, length %d, sequence read %d times", head.StatusCode, head.ContentLength, store.opened)
	}
	for _, p := range []string{"", "sequence", "sequence/", "other/" + md5hex, "sequence/" + md5hex + "/other"} {
		if resp, _ := get(t, srv.URL+Prefix+p, nil); resp.StatusCode != 404 {
			t.Errorf("%q: status %d, want 404", p, resp.StatusCode)
		}
	}
}

// A store's failure is a 500 that says nothing of it; a panic is a 500 too.
func TestStoreFailure(t *testing.T) {
	for _, s := range []Store{failingStore{errors.New("disk on fire")}, failingStore{nil}} {
		srv := httptest.NewServer(&Handler{Store: s, Public: true})
		resp, body := get(t, srv.URL+Prefix+"sequence/"+strings.Repeat("a", 32), nil)
		srv.Close()
		if resp.StatusCode != 500 || strings.Contains(body, "disk") {
			t.Errorf("status %d, body %q", resp.StatusCode, body)
		}
	}
}

type failingStore struct{ err error }

func (f failingStore) Sequence(context.Context, string, string) (*Sequence, error) {
	if f.err == nil {
		panic("store broke")
	}
	return nil, f.err
}

func TestParseID(t *testing.T) {
	md5hex, ga4gh := digests("ACGT")
	if ga4gh != "SQ.aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2" {
		t.Fatalf("the test's own digest of ACGT is %s", ga4gh)
	}
	for _, c := range []struct {
		id, want string
		ok       bool
	}{
		{md5hex, md5hex, true},
		{strings.ToUpper(md5hex), md5hex, true},
		{"MD5:" + md5hex, md5hex, true},
		{ga4gh, ga4gh, true},
		{"ga4gh:" + ga4gh, ga4gh, true},
		{"68a178f7c740c5c240aa67ba41843b119d3bf9f8b0f0ac36", ga4gh, true},
		{"TRUNC512:68a178f7c740c5c240aa67ba41843b119d3bf9f8b0f0ac36", ga4gh, true},
		{"sq.aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2", "", false},
		{"md5:" + ga4gh, "", false},
		{"ga4gh:" + md5hex, "", false},
		{md5hex[:31], "", false},
		{"SQ.aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw", "", false},
		{"SQ.aKF498dAxcJAqme6QYQ7EZ07+fiw8Kw2", "", false},
		{"insdc:CM000663.2", "", false},
		{"", "", false},
	} {
		got, ok := ParseID(c.id)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseID(%q) = %q, %v; want %q, %v", c.id, got, ok, c.want, c.ok)
		}
	}
}

// Whatever the identifier, query and Range, parsing never panics, and what
// it accepts lies within the sequence.
func FuzzParse(f *testing.F) {
	f.Add("SQ.aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2", "start=1&end=5", "bytes=0-3", int64(60))
	f.Add("md5:0123456789abcdef0123456789abcdef", "end=0", "", int64(1))
	f.Add("x", "start=%zz", "bytes=-9", int64(5))
	f.Fuzz(func(t *testing.T, id, query, rng string, length int64) {
		if length <= 0 || length > maxCoordinate {
			return
		}
		if digest, ok := ParseID(id); ok {
			if again, ok2 := ParseID(digest); !ok2 || again != digest {
				t.Errorf("ParseID(%q) = %q, which does not parse as itself", id, digest)
			}
		}
		var ranges []string
		if rng != "" {
			ranges = []string{rng}
		}
		sub, err := parseSubsequence(query, ranges, length)
		if err == nil && (sub.start < 0 || sub.start > sub.end || sub.end > length) {
			t.Errorf("query %q, Range %q, length %d: accepted [%d, %d)", query, rng, length, sub.start, sub.end)
		}
	})
}
