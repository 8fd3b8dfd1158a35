package blob

import (
	"errors"
	"strings"
	"testing"
)

func TestValidKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"a", true},
		{"readsets/1234567890/9876543210/source1.fastq.gz", true},
		{"uploads/acct/u1/source1/00001-abc", true},
		{"a-b_c.d=e+f,g@h~i", true},
		{"..a/b..", true}, // dots inside a segment are harmless
		{"", false},
		{"/abs", false},
		{"../x", false},
		{"a/..", false},
		{"a/./b", false},
		{".", false},
		{"a//b", false},
		{"a/", false},
		{`a\b`, false},
		{"a b", false},
		{"#tmp/x", false},
		{"caf\u00e9", false},
		{strings.Repeat("k", MaxKeyLength), true},
		{strings.Repeat("k", MaxKeyLength+1), false},
	}
	for _, tt := range tests {
		err := ValidKey(tt.key)
		if got := err == nil; got != tt.want {
			t.Errorf("ValidKey(%q) = %v, want valid %v", tt.key, err, tt.want)
		}
		if err != nil && !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ValidKey(%q) error %v does not wrap ErrInvalidKey", tt.key, err)
		}
	}
}

func TestValidPrefix(t *testing.T) {
	tests := []struct {
		prefix string
		want   bool
	}{
		{"", true},
		{"a", true},
		{"a/", true},
		{"a/b.", true},
		{"/", false},
		{"../", false},
		{"a//", false},
		{"a/../", false},
	}
	for _, tt := range tests {
		if got := ValidPrefix(tt.prefix) == nil; got != tt.want {
			t.Errorf("ValidPrefix(%q) valid = %v, want %v", tt.prefix, got, tt.want)
		}
	}
}

// FuzzValidKey checks that no accepted key can leave a directory tree: every
// accepted key is relative, has no empty, "." or ".." segment and no
// character a filesystem or S3 treats specially.
func FuzzValidKey(f *testing.F) {
	for _, seed := range []string{"a/b", "../x", "a//b", "/a", "a/./b", `a\b`, "readsets/1/2/x.bam", "a/.."} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if ValidKey(key) != nil {
			return
		}
		if strings.HasPrefix(key, "/") || strings.ContainsAny(key, "\\\x00 #%?*:") {
			t.Fatalf("accepted %q", key)
		}
		for _, seg := range strings.Split(key, "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("accepted %q with segment %q", key, seg)
			}
		}
	})
}
