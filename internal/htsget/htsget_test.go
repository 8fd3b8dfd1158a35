package htsget_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seqstore/seqstore/internal/htsget"
)

// fileStore holds one read set, "rs1" of account "acct", whose stored file
// is a string and whose chr1 is 1000 bases long; its Slice records the
// regions it was asked for.
type fileStore struct {
	content string
	asked   [][]htsget.Region
}

func (s *fileStore) ReadSet(_ context.Context, account, id string) (*htsget.ReadSet, error) {
	if account == "acct" && id == "archived" {
		return nil, fmt.Errorf("%w: read set archived is ARCHIVED", htsget.ErrNotFound)
	}
	if account != "acct" || id != "rs1" {
		return nil, htsget.ErrNotFound
	}
	return &htsget.ReadSet{
		Format: htsget.FormatBAM,
		Slice: func(_ context.Context, regions []htsget.Region) (*htsget.Slice, error) {
			s.asked = append(s.asked, regions)
			for _, r := range regions {
				if r.Reference != "chr1" && r.Reference != "*" {
					return nil, fmt.Errorf("%w: %s", htsget.ErrUnknownReference, r.Reference)
				}
				if r.Start > 1000 {
					return nil, fmt.Errorf("%w: chr1 is 1000 bases long", htsget.ErrPastEnd)
				}
			}
			return &htsget.Slice{Header: htsget.Range{Start: 0, End: 3}, Body: []htsget.Range{{Start: 5, End: 9}}, Trailer: []byte("EOF")}, nil
		},
		Open: func(_ context.Context, start, end int64) (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(s.content[start:end])), nil
		},
	}, nil
}

func newHandler(store htsget.Store, now *time.Time) *htsget.Handler {
	return &htsget.Handler{
		Store: store,
		Authenticate: func(r *http.Request) (string, error) {
			if a := r.Header.Get("X-Test-Account"); a == "revoked" {
				// As a revoked bearer token is refused.
				return "", statusError{"the bearer token was revoked"}
			} else if a != "" {
				return a, nil
			}
			return "", errors.New("the request is not signed")
		},
		Key: []byte("test key"),
		Now: func() time.Time { return *now },
	}
}

// statusError is an authentication failure with an HTTP status of 401.
type statusError struct{ msg string }

func (e statusError) Error() string { return e.msg }
func (e statusError) Status() int   { return http.StatusUnauthorized }

func do(t *testing.T, h http.Handler, method, target, account, body string) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if account != "" {
		r.Header.Set("X-Test-Account", account)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, htsget.JSONType) {
		t.Fatalf("%s %s: Content-Type %q", method, target, ct)
	}
	var out struct {
		Htsget map[string]any `json:"htsget"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: %v: %s", method, target, err, w.Body)
	}
	return w.Code, out.Htsget
}

func TestTicketRequests(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	store := &fileStore{content: "HDR--BODY--"}
	h := newHandler(store, &now)
	tests := []struct {
		name, method, target, account, body string
		status                              int
		kind                                string
		regions                             []htsget.Region
	}{
		{"whole file", "GET", "/htsget/reads/rs1", "acct", "", 200, "", nil},
		{"a region", "GET", "/htsget/reads/rs1?referenceName=chr1&start=10&end=20", "acct", "", 200, "", []htsget.Region{{Reference: "chr1", Start: 10, End: 20}}},
		{"to the end", "GET", "/htsget/reads/rs1?referenceName=chr1&start=10", "acct", "", 200, "", []htsget.Region{{Reference: "chr1", Start: 10, End: -1}}},
		{"unplaced", "GET", "/htsget/reads/rs1?referenceName=*", "acct", "", 200, "", []htsget.Region{{Reference: "*", Start: 0, End: -1}}},
		{"format in lower case", "GET", "/htsget/reads/rs1?format=bam", "acct", "", 200, "", nil},
		{"fields and tags", "GET", "/htsget/reads/rs1?fields=QNAME,FLAG&tags=MD&notags=NM", "acct", "", 200, "", nil},
		{"POST regions", "POST", "/htsget/reads/rs1", "acct", `{"format":"BAM","regions":[{"referenceName":"chr1","start":1,"end":2},{"referenceName":"*"}]}`, 200, "", []htsget.Region{{Reference: "chr1", Start: 1, End: 2}, {Reference: "*", Start: 0, End: -1}}},
		{"POST empty", "POST", "/htsget/reads/rs1", "acct", "", 200, "", nil},
		{"unknown read set", "GET", "/htsget/reads/rs2", "acct", "", 404, "NotFound", nil},
		{"another account", "GET", "/htsget/reads/rs1", "other", "", 404, "NotFound", nil},
		{"unsigned", "GET", "/htsget/reads/rs1", "", "", 403, "PermissionDenied", nil},
		{"credentials that no longer work", "GET", "/htsget/reads/rs1", "revoked", "", 401, "InvalidAuthentication", nil},
		{"start past the reference's end", "GET", "/htsget/reads/rs1?referenceName=chr1&start=1001", "acct", "", 400, "InvalidRange", nil},
		{"unknown reference", "GET", "/htsget/reads/rs1?referenceName=chrZ", "acct", "", 404, "NotFound", nil},
		{"start after end", "GET", "/htsget/reads/rs1?referenceName=chr1&start=20&end=10", "acct", "", 400, "InvalidRange", nil},
		{"negative start", "GET", "/htsget/reads/rs1?referenceName=chr1&start=-1", "acct", "", 400, "InvalidInput", nil},
		{"start too large", "GET", "/htsget/reads/rs1?referenceName=chr1&start=4294967296", "acct", "", 400, "InvalidInput", nil},
		{"start without reference", "GET", "/htsget/reads/rs1?start=1", "acct", "", 400, "InvalidInput", nil},
		{"unplaced with start", "GET", "/htsget/reads/rs1?referenceName=*&start=1", "acct", "", 400, "InvalidInput", nil},
		{"class body", "GET", "/htsget/reads/rs1?class=body", "acct", "", 400, "InvalidInput", nil},
		{"VCF", "GET", "/htsget/reads/rs1?format=VCF", "acct", "", 400, "UnsupportedFormat", nil},
		{"CRAM of a BAM", "GET", "/htsget/reads/rs1?format=CRAM", "acct", "", 400, "UnsupportedFormat", nil},
		{"bad JSON", "POST", "/htsget/reads/rs1", "acct", `{"regions":`, 400, "InvalidInput", nil},
		{"POST region without reference", "POST", "/htsget/reads/rs1", "acct", `{"regions":[{"start":1}]}`, 400, "InvalidInput", nil},
		{"POST body too large", "POST", "/htsget/reads/rs1", "acct", `{"fields":["` + strings.Repeat("x", 1<<20) + `"]}`, 413, "PayloadTooLarge", nil},
		{"DELETE", "DELETE", "/htsget/reads/rs1", "acct", "", 400, "InvalidInput", nil},
		{"no method", "GET", "/htsget/variants/rs1", "acct", "", 404, "NotFound", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store.asked = nil
			status, body := do(t, h, tt.method, tt.target, tt.account, tt.body)
			if status != tt.status {
				t.Fatalf("status %d (%v), want %d", status, body, tt.status)
			}
			if tt.kind != "" {
				if body["error"] != tt.kind || body["message"] == "" {
					t.Fatalf("error %v, want %s with a message", body, tt.kind)
				}
				return
			}
			if len(store.asked) != 1 || !slices.Equal(store.asked[0], tt.regions) {
				t.Fatalf("the store was asked for %v, want %v", store.asked, tt.regions)
			}
			if body["format"] != "BAM" || len(body["urls"].([]any)) != 3 {
				t.Fatalf("ticket %v", body)
			}
		})
	}
}

// TestInvalidAuthentication: credentials that authenticate no more are
// told so as RFC 6750 says, with a WWW-Authenticate header.
func TestInvalidAuthentication(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	r := httptest.NewRequest("GET", "/htsget/reads/rs1", nil)
	r.Header.Set("X-Test-Account", "revoked")
	w := httptest.NewRecorder()
	newHandler(&fileStore{content: "HDR--BODY--"}, &now).ServeHTTP(w, r)
	if got := w.Header().Get("WWW-Authenticate"); w.Code != 401 || got != `Bearer error="invalid_token"` {
		t.Fatalf("status %d, WWW-Authenticate %q", w.Code, got)
	}
}

// urls returns a ticket's URLs.
func urls(t *testing.T, body map[string]any) []map[string]any {
	var out []map[string]any
	for _, u := range body["urls"].([]any) {
		out = append(out, u.(map[string]any))
	}
	return out
}

func TestDataURLs(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	store := &fileStore{content: "HDR--BODY--"}
	h := newHandler(store, &now)
	fetch := func(u string) (int, string) {
		r := httptest.NewRequest("GET", u, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	_, ticket := do(t, h, "GET", "/htsget/reads/rs1", "acct", "")
	got := ""
	for i, u := range urls(t, ticket) {
		wantClass := []string{"header", "body", "body"}[i]
		if u["class"] != wantClass {
			t.Errorf("URL %d has class %v, want %s", i, u["class"], wantClass)
		}
		s := u["url"].(string)
		if data, ok := strings.CutPrefix(s, "data:application/octet-stream;base64,"); ok {
			got += map[string]string{"RU9G": "EOF"}[data]
			continue
		}
		status, body := fetch(s)
		if status != 200 {
			t.Fatalf("%s: %d %s", s, status, body)
		}
		got += body
	}
	if got != "HDRBODYEOF" {
		t.Fatalf("the ticket's URLs give %q, want HDRBODYEOF", got)
	}
	header := urls(t, ticket)[0]["url"].(string)
	u, _ := url.Parse(header)
	tamper := func(key, value string) string {
		q := u.Query()
		q.Set(key, value)
		v := *u
		v.RawQuery = q.Encode()
		return v.String()
	}
	for _, c := range []struct{ name, url string }{
		{"another range", tamper("end", "9")},
		{"another account", tamper("account", "other")},
		{"a later expiry", tamper("expires", "1800000000")},
		{"no token", tamper("token", "")},
		{"another read set", strings.Replace(header, "/data/rs1", "/data/rs2", 1)},
	} {
		if status, body := fetch(c.url); status != 401 || !strings.Contains(body, "InvalidAuthentication") {
			t.Errorf("%s: status %d %s, want 401 InvalidAuthentication", c.name, status, body)
		}
	}
	now = now.Add(2 * time.Hour)
	if status, body := fetch(header); status != 401 || !strings.Contains(body, "expired") {
		t.Errorf("an expired URL: status %d %s", status, body)
	}
}

func TestNotFoundSaysWhy(t *testing.T) {
	now := time.Now()
	status, body := do(t, newHandler(&fileStore{}, &now), "GET", "/htsget/reads/archived", "acct", "")
	if status != 404 || body["error"] != "NotFound" || body["message"] != "read set archived is ARCHIVED" {
		t.Fatalf("%d %v, want NotFound saying the read set is ARCHIVED", status, body)
	}
}

func TestServiceInfo(t *testing.T) {
	now := time.Now()
	status, body := do(t, newHandler(&fileStore{}, &now), "GET", "/htsget/reads/service-info", "", "")
	if status != 200 || body["datatype"] != "reads" {
		t.Fatalf("service-info: %d %v", status, body)
	}
}
