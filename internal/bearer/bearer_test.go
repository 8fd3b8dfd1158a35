package bearer

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta/sqlmeta/sqlitetest"
)

// TestVerify: tokens stored in a real SQLite store authenticate as their
// account until they expire or are revoked; damaged, unknown and foreign
// strings are refused with a 401 that says what to do.
func TestVerify(t *testing.T) {
	ctx := context.Background()
	m := sqlitetest.Open(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, a := range []string{"111111111111", "222222222222"} {
		if err := m.AccountPut(ctx, seqstore.Account{ID: a, Name: a, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	store := func(account string, ttl time.Duration) string {
		tok, rec := New(account, "test", ttl, t0)
		if err := m.BearerTokenPut(ctx, rec); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	forever := store("111111111111", 0)
	hour := store("222222222222", time.Hour)
	revoked := store("111111111111", 0)
	id, _, _ := parse(revoked)
	if err := m.BearerTokenRevoke(ctx, id, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	unstored, _ := New("111111111111", "", 0, t0)
	// The right ID with another token's secret.
	fid, _, _ := parse(forever)
	_, hsecret, _ := parse(hour)
	mixed := prefix + fid + "_" + hsecret

	for _, c := range []struct {
		name    string
		token   string
		now     time.Time
		account string
		says    string // in the error, when one is wanted
	}{
		{"a token without expiry", forever, t0.Add(1000 * time.Hour), "111111111111", ""},
		{"a token within its hour", hour, t0.Add(59 * time.Minute), "222222222222", ""},
		{"a token past its hour", hour, t0.Add(time.Hour), "", "expired at 2026-01-02T04:04:05Z"},
		{"a revoked token", revoked, t0.Add(2 * time.Minute), "", "was revoked at 2026-01-02T03:05:05Z"},
		{"a token never stored", unstored, t0, "", "unknown"},
		{"a known ID with a wrong secret", mixed, t0, "", "unknown"},
		{"a token cut short", forever[:len(forever)-1], t0, "", "not one seqstore issued"},
		{"an access key secret", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", t0, "", "not one seqstore issued"},
		{"nothing", "", t0, "", "not one seqstore issued"},
	} {
		v := &Verifier{Tokens: m, Now: func() time.Time { return c.now }}
		account, err := v.Verify(ctx, c.token)
		if c.says == "" {
			if err != nil || account != c.account {
				t.Errorf("%s: account %q, error %v; want %s", c.name, account, err, c.account)
			}
			continue
		}
		var be *Error
		if !errors.As(err, &be) || be.Status() != http.StatusUnauthorized || !strings.Contains(err.Error(), c.says) || account != "" {
			t.Errorf("%s: account %q, error %v; want a 401 saying %q", c.name, account, err, c.says)
		}
		if strings.Contains(err.Error(), c.token) && c.token != "" {
			t.Errorf("%s: the error %q repeats the token", c.name, err)
		}
	}
}

// TestNew: tokens are distinct, parse back to the stored ID, and only a
// hash of the secret is stored.
func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, rec := New("111111111111", "n", 0, time.Now())
		id, secret, ok := parse(tok)
		if !ok || id != rec.ID || seen[tok] || strings.Contains(string(rec.SecretHash), secret) || len(rec.SecretHash) != 32 {
			t.Fatalf("token %q, record %+v", tok, rec)
		}
		seen[tok] = true
	}
}

func TestFromRequest(t *testing.T) {
	for _, c := range []struct {
		header string
		token  string
		ok     bool
	}{
		{"Bearer sqt_x", "sqt_x", true},
		{"bearer  sqt_x ", "sqt_x", true},
		{"AWS4-HMAC-SHA256 Credential=x", "", false},
		{"", "", false},
		{"Bearer", "", false},
	} {
		r, _ := http.NewRequest("GET", "http://x/", nil)
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		if tok, ok := FromRequest(r); tok != c.token || ok != c.ok {
			t.Errorf("%q: %q %v, want %q %v", c.header, tok, ok, c.token, c.ok)
		}
	}
}

// FuzzParse: parse never panics, and what it accepts is shaped as New
// makes tokens.
func FuzzParse(f *testing.F) {
	tok, _ := New("111111111111", "", 0, time.Now())
	f.Add(tok)
	f.Add("sqt__")
	f.Fuzz(func(t *testing.T, s string) {
		if id, secret, ok := parse(s); ok && s != prefix+id+"_"+secret {
			t.Fatalf("%q parsed as %q %q", s, id, secret)
		}
	})
}
