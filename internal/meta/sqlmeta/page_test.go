package sqlmeta

import (
	"errors"
	"testing"
	"time"

	"github.com/seqstore/seqstore/internal/meta"
)

func TestPageKeyRoundTrip(t *testing.T) {
	tests := []struct {
		created time.Time
		id      string
		key     string
	}{
		{time.UnixMilli(1_770_000_000_123).UTC(), "1234567890", "1770000000123:1234567890"},
		{time.Time{}, "x", "0:x"},
		{time.UnixMilli(-5).UTC(), "id:with:colons", "-5:id:with:colons"},
	}
	for _, tc := range tests {
		key := pageKey(tc.created, tc.id)
		if key != tc.key {
			t.Errorf("pageKey(%v, %q): got %q, want %q", tc.created, tc.id, key, tc.key)
		}
		ms, id, err := parsePageKey(key)
		if err != nil || ms != millis(tc.created) || id != tc.id {
			t.Errorf("parsePageKey(%q): got %d, %q, %v; want %d, %q", key, ms, id, err, millis(tc.created), tc.id)
		}
	}
}

func TestParsePageKeyRefusesMalformedKeys(t *testing.T) {
	for _, key := range []string{"", "garbage", "123", "123:", ":id", "1.5:id", "0x10:id", "99999999999999999999:id", " 1:id"} {
		if _, _, err := parsePageKey(key); !errors.Is(err, meta.ErrBadPageKey) {
			t.Errorf("parsePageKey(%q): got %v, want ErrBadPageKey", key, err)
		}
	}
}

func FuzzParsePageKey(f *testing.F) {
	for _, seed := range []string{"1770000000123:1234567890", "0:x", "-5:a:b", "garbage", ":", "1:"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, key string) {
		ms, id, err := parsePageKey(key)
		if err != nil {
			if !errors.Is(err, meta.ErrBadPageKey) {
				t.Fatalf("parsePageKey(%q): error %v does not wrap ErrBadPageKey", key, err)
			}
			return
		}
		if id == "" {
			t.Fatalf("parsePageKey(%q) accepted an empty ID", key)
		}
		// What parses names a position that encodes back to itself.
		ms2, id2, err := parsePageKey(pageKey(fromMillis(ms), id))
		if err != nil || ms2 != ms || id2 != id {
			t.Fatalf("parsePageKey(%q) = %d, %q, but its re-encoding parses as %d, %q, %v", key, ms, id, ms2, id2, err)
		}
	})
}

func TestSQLitePlaceholders(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT a FROM t WHERE b = $1", "SELECT a FROM t WHERE b = ?1"},
		{"UPDATE t SET a = $12 WHERE b = $2 AND c = $1", "UPDATE t SET a = ?12 WHERE b = ?2 AND c = ?1"},
		{"SELECT '$' FROM t", "SELECT '$' FROM t"},
	}
	for _, tc := range tests {
		if got := sqliteDialect.rewrite(tc.in); got != tc.want {
			t.Errorf("rewrite(%q): got %q, want %q", tc.in, got, tc.want)
		}
		if got := postgresDialect.rewrite(tc.in); got != tc.in {
			t.Errorf("PostgreSQL rewrite(%q): got %q, want it unchanged", tc.in, got)
		}
	}
}
