package console

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/auth"
	"github.com/seqstore/seqstore/internal/meta/sqlmeta"
	"github.com/seqstore/seqstore/internal/meta/sqlmeta/sqlitetest"
	"github.com/seqstore/seqstore/internal/testutil"
)

// fixture is a console over a real SQLite metadata store holding one
// account with one key.
type fixture struct {
	con   *Console
	db    *sqlmeta.Store
	key   seqstore.AccessKey
	clock *testutil.Clock
	srv   *httptest.Server
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db := sqlitetest.Open(t)
	if err := db.AccountPut(ctx, seqstore.Account{ID: "123456789012", Name: "a", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	key := auth.NewAccessKey("123456789012")
	if err := db.AccessKeyPut(ctx, key); err != nil {
		t.Fatal(err)
	}
	c := testutil.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	// A key cache as short as the fixture's clock is fake: a deleted key
	// must be seen at once.
	con := New(Options{Keys: &auth.Keys{Meta: db, TTL: time.Nanosecond}, Sessions: db, Now: c.Now, Lifetime: 8 * time.Hour, Idle: time.Hour})
	srv := httptest.NewServer(con)
	t.Cleanup(srv.Close)
	return &fixture{con: con, db: db, key: key, clock: c, srv: srv}
}

func (f *fixture) do(t *testing.T, method, path, contentType, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func signInBody(id, secret string) string {
	b, _ := json.Marshal(signIn{AccessKeyID: id, SecretAccessKey: secret})
	return string(b)
}

// signIn signs in with the fixture's key and returns the cookie and the
// CSRF token.
func (f *fixture) signIn(t *testing.T) (*http.Cookie, string) {
	t.Helper()
	resp, body := f.do(t, "POST", "/console/session", "application/json", signInBody(f.key.ID, f.key.Secret), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	var info sessionInfo
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatal(err)
	}
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == cookieName {
			ck = c
		}
	}
	if ck == nil {
		t.Fatalf("sign-in set no %s cookie", cookieName)
	}
	return ck, info.CSRFToken
}

// apiRequest is a request to the storage API carrying a session cookie
// and, when csrf is set, the CSRF header.
func apiRequest(method string, ck *http.Cookie, csrf string) *http.Request {
	r := httptest.NewRequest(method, "/sequencestores", nil)
	if ck != nil {
		r.AddCookie(ck)
	}
	if csrf != "" {
		r.Header.Set(CSRFHeader, csrf)
	}
	return r
}

func TestSignIn(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		want        string
	}{
		{"the right pair", "application/json", signInBody(f.key.ID, f.key.Secret), http.StatusOK, f.key.AccountID},
		{"a wrong secret", "application/json", signInBody(f.key.ID, f.key.Secret+"x"), http.StatusUnauthorized, "wrong"},
		{"an empty secret", "application/json", signInBody(f.key.ID, ""), http.StatusUnauthorized, "wrong"},
		{"an unknown key", "application/json", signInBody("SQAAAAAAAAAAAAAAAAAA", f.key.Secret), http.StatusUnauthorized, "wrong"},
		{"a form post from another site", "application/x-www-form-urlencoded", "accessKeyId=" + f.key.ID, http.StatusUnsupportedMediaType, "JSON"},
		{"not JSON", "application/json", "{", http.StatusBadRequest, "accessKeyId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.do(t, "POST", "/console/session", tt.contentType, tt.body, nil)
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("%d %s, want %d with %q", resp.StatusCode, body, tt.status, tt.want)
			}
			if strings.Contains(body, f.key.Secret) {
				t.Errorf("the answer holds the secret: %s", body)
			}
			for _, c := range resp.Cookies() {
				if tt.status != http.StatusOK {
					t.Errorf("a refused sign-in set cookie %s", c.Name)
				}
				if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.MaxAge != int((8*time.Hour).Seconds()) {
					t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/, Max-Age 8 h", c)
				}
			}
		})
	}
}

func TestSessionAccount(t *testing.T) {
	f := newFixture(t)
	ck, csrf := f.signIn(t)
	other, _ := f.signIn(t)
	tests := []struct {
		name     string
		req      *http.Request
		readOnly bool
		want     string // "" for accepted, else part of the refusal
	}{
		{"cookie and CSRF header", apiRequest("POST", ck, csrf), false, ""},
		{"a write without the CSRF header", apiRequest("POST", ck, ""), false, CSRFHeader},
		{"a read sent with POST without the header", apiRequest("POST", ck, ""), true, CSRFHeader},
		{"a read sent with GET without the header", apiRequest("GET", ck, ""), true, ""},
		{"another session's CSRF token", apiRequest("POST", other, csrf), false, CSRFHeader},
		{"a made-up cookie", apiRequest("POST", &http.Cookie{Name: cookieName, Value: "forged"}, csrf), false, "sign in again"},
		{"no cookie", apiRequest("POST", nil, csrf), false, "not signed in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			account, keyID, err := f.con.SessionAccount(tt.req, tt.readOnly)
			switch {
			case tt.want == "" && (err != nil || account != f.key.AccountID || keyID != f.key.ID):
				t.Fatalf("got %q %q %v, want the fixture's account and key", account, keyID, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %q %v, want a refusal saying %q", account, err, tt.want)
			}
		})
	}
}

func TestSessionEnds(t *testing.T) {
	tests := []struct {
		name  string
		end   func(t *testing.T, f *fixture, ck *http.Cookie, csrf string)
		wantA string
	}{
		{"idle for longer than an hour", func(t *testing.T, f *fixture, _ *http.Cookie, _ string) { f.clock.Advance(61 * time.Minute) }, "sign in again"},
		{"at the end of its lifetime, however busy", func(t *testing.T, f *fixture, ck *http.Cookie, csrf string) {
			for range 16 {
				f.clock.Advance(30 * time.Minute)
				if _, _, err := f.con.SessionAccount(apiRequest("POST", ck, csrf), false); err != nil && f.clock.Now().Before(time.Date(2026, 1, 2, 11, 4, 5, 0, time.UTC)) {
					t.Fatalf("a busy session ended early, at %v: %v", f.clock.Now(), err)
				}
			}
		}, "sign in again"},
		{"signed out", func(t *testing.T, f *fixture, ck *http.Cookie, csrf string) {
			resp, body := f.do(t, "DELETE", "/console/session", "", "", map[string]string{"Cookie": ck.Name + "=" + ck.Value, CSRFHeader: csrf})
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("sign-out: %d %s", resp.StatusCode, body)
			}
		}, "sign in again"},
		{"its key deleted", func(t *testing.T, f *fixture, _ *http.Cookie, _ string) {
			if err := f.db.AccessKeyDelete(context.Background(), f.key.ID); err != nil {
				t.Fatal(err)
			}
		}, "deleted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			ck, csrf := f.signIn(t)
			f.clock.Advance(59 * time.Minute)
			if _, _, err := f.con.SessionAccount(apiRequest("POST", ck, csrf), false); err != nil {
				t.Fatalf("the session failed within its idle time: %v", err)
			}
			tt.end(t, f, ck, csrf)
			if _, _, err := f.con.SessionAccount(apiRequest("POST", ck, csrf), false); err == nil || !strings.Contains(err.Error(), tt.wantA) {
				t.Fatalf("after it ended the session answers %v, want %q", err, tt.wantA)
			}
		})
	}
}

func TestSignOutNeedsTheCSRFHeader(t *testing.T) {
	f := newFixture(t)
	ck, csrf := f.signIn(t)
	resp, _ := f.do(t, "DELETE", "/console/session", "", "", map[string]string{"Cookie": ck.Name + "=" + ck.Value})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a sign-out without the header answered %d", resp.StatusCode)
	}
	if _, _, err := f.con.SessionAccount(apiRequest("POST", ck, csrf), false); err != nil {
		t.Fatalf("a refused sign-out ended the session: %v", err)
	}
	resp, body := f.do(t, "GET", "/console/session", "", "", map[string]string{"Cookie": ck.Name + "=" + ck.Value})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, csrf) {
		t.Fatalf("GET session: %d %s", resp.StatusCode, body)
	}
}

func TestPagesAndAssets(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		method, path string
		status       int
		contentType  string
		body         string
	}{
		{"GET", "/console/", 200, "text/html", `<script type="module" src="assets/app.js">`},
		{"GET", "/console/assets/app.js", 200, "text/javascript", "signInPage"},
		{"GET", "/console/assets/plots.js", 200, "text/javascript", "qcFigures"},
		{"GET", "/console/assets/style.css", 200, "text/css", ":root"},
		{"GET", "/console/assets/", 404, "application/json", "no directories"},
		{"GET", "/console/nothing", 404, "application/json", "start at /console/"},
		{"POST", "/console/", 405, "application/json", "GET"},
		{"PUT", "/console/session", 405, "application/json", "sign in with POST"},
		{"GET", "/console/session", 401, "application/json", "not signed in"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp, body := f.do(t, tt.method, tt.path, "", "", nil)
			if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.contentType) || !strings.Contains(body, tt.body) {
				t.Fatalf("%d %s %.200s, want %d %s with %q", resp.StatusCode, resp.Header.Get("Content-Type"), body, tt.status, tt.contentType, tt.body)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
		})
	}
	// A browser that has the files revalidates them without a download.
	for _, path := range []string{"/console/", "/console/assets/app.js"} {
		resp, _ := f.do(t, "GET", path, "", "", nil)
		etag := resp.Header.Get("ETag")
		again, body := f.do(t, "GET", path, "", "", map[string]string{"If-None-Match": etag})
		if etag == "" || again.StatusCode != http.StatusNotModified || body != "" {
			t.Errorf("GET %s with If-None-Match %q: %d, %d bytes; want 304 and none", path, etag, again.StatusCode, len(body))
		}
	}
	// /console itself leads to the page.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(f.srv.URL + "/console")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/console/" {
		t.Fatalf("GET /console: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// Sessions live in the metadata store: a console on another node sharing
// it honours a session this one opened, and a sign-out on either ends it
// on both. Only a hash of the session ID is stored.
func TestSessionsAreSharedByNodes(t *testing.T) {
	f := newFixture(t)
	other := New(Options{Keys: &auth.Keys{Meta: f.db, TTL: time.Nanosecond}, Sessions: f.db, Now: f.clock.Now})
	ck, csrf := f.signIn(t)
	if _, _, err := other.SessionAccount(apiRequest("POST", ck, csrf), false); err != nil {
		t.Fatalf("another node refused the session: %v", err)
	}
	if _, err := f.db.ConsoleSessionGet(context.Background(), ck.Value); err == nil {
		t.Fatal("the session ID itself is stored")
	}
	req := apiRequest("DELETE", ck, csrf)
	rec := httptest.NewRecorder()
	req.URL.Path = "/console/session"
	other.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("sign-out on the other node: %d %s", rec.Code, rec.Body)
	}
	if _, _, err := f.con.SessionAccount(apiRequest("POST", ck, csrf), false); err == nil {
		t.Fatal("the session outlived a sign-out on another node")
	}
}

// Signing in purges the sessions that have ended, so the table does not
// grow with every sign-in.
func TestSignInPurgesEndedSessions(t *testing.T) {
	f := newFixture(t)
	old, _ := f.signIn(t)
	f.clock.Advance(2 * time.Hour) // idle past the hour
	f.signIn(t)
	if _, err := f.db.ConsoleSessionGet(context.Background(), hashID(old.Value)); err == nil {
		t.Fatal("an ended session is still stored after a sign-in")
	}
}

// Behind TLS the cookie is Secure, so a browser never sends it in clear.
func TestCookieIsSecureBehindTLS(t *testing.T) {
	for _, secure := range []bool{false, true} {
		f := newFixture(t)
		f.con.secure = secure
		resp, body := f.do(t, "POST", "/console/session", "application/json", signInBody(f.key.ID, f.key.Secret), nil)
		if resp.StatusCode != http.StatusOK || len(resp.Cookies()) != 1 {
			t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
		}
		if got := resp.Cookies()[0].Secure; got != secure {
			t.Errorf("with Secure %v the cookie's Secure is %v", secure, got)
		}
	}
}
