package keyring

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func line(t *testing.T, name string, version int) string {
	t.Helper()
	l, err := NewKeyLine(name, version)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func write(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func TestLoadRefusesBadKeyrings(t *testing.T) {
	a1 := line(t, "a", 1)
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
	}{
		{"readable by the group", a1, 0o640, "chmod 600"},
		{"readable by anyone", a1, 0o644, "mode 0644"},
		{"empty", "# nothing\n\n", 0o600, "holds no keys"},
		{"two fields", "a 1\n", 0o600, "line 1: want three fields"},
		{"version zero", "a 0 " + strings.Fields(a1)[2] + "\n", 0o600, "positive integer"},
		{"short key", "# c\na 1 AAAA\n", 0o600, "line 2: key a version 1: the key must be 32 bytes"},
		{"a version twice", a1 + line(t, "a", 1), 0o600, "given twice"},
		{"the same bytes twice", a1 + "b 1 " + strings.Fields(a1)[2] + "\n", 0o600, "same bytes as key a version 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys")
			write(t, path, tc.content, tc.mode)
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: %v, want an error saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), strings.Fields(a1)[2]) {
				t.Errorf("the error shows the key itself: %v", err)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Error("a missing keyring loaded")
	}
}

func TestLoadReadsFilesAndDirectories(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "lab-a"), "# lab A\n"+line(t, "arn:aws:kms:us-east-1:123456789012:key/a", 2)+line(t, "arn:aws:kms:us-east-1:123456789012:key/a", 1), 0o600)
	write(t, filepath.Join(dir, "lab-b"), line(t, "b", 1)+"\n", 0o600)
	write(t, filepath.Join(dir, ".swp"), "not a keyring", 0o644)
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Names(), ","); got != "arn:aws:kms:us-east-1:123456789012:key/a,b" {
		t.Errorf("Names = %s", got)
	}
	cur, err := r.Current("arn:aws:kms:us-east-1:123456789012:key/a")
	if err != nil || cur.Version != 2 {
		t.Fatalf("Current = %+v, %v; want version 2", cur, err)
	}
	if _, err := r.Current("c"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Current of a missing key: %v", err)
	}
	if !r.Has("b") || r.Has("c") {
		t.Error("Has is wrong")
	}
}

func TestWrapUnwrap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	write(t, path, line(t, "a", 1)+line(t, "b", 1), 0o600)
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := r.Current("a")
	b, _ := r.Current("b")
	dk := bytes.Repeat([]byte{7}, KeySize)
	w, err := a.Wrap(dk, []byte("ctx"))
	if err != nil || len(w) != WrappedSize {
		t.Fatalf("Wrap: %d bytes, %v", len(w), err)
	}
	if bytes.Contains(w, dk[:8]) {
		t.Error("the wrapped key shows the data key")
	}
	if got, err := a.Unwrap(w, []byte("ctx")); err != nil || !bytes.Equal(got, dk) {
		t.Errorf("Unwrap: %v", err)
	}
	if k, err := r.ByID(a.ID); err != nil || k != a {
		t.Errorf("ByID: %v", err)
	}
	for name, try := range map[string]func() error{
		"another context": func() error { _, err := a.Unwrap(w, []byte("other")); return err },
		"another key":     func() error { _, err := b.Unwrap(w, []byte("ctx")); return err },
		"a changed byte": func() error {
			c := bytes.Clone(w)
			c[20] ^= 1
			_, err := a.Unwrap(c, []byte("ctx"))
			return err
		},
	} {
		if err := try(); !errors.Is(err, ErrUnwrap) {
			t.Errorf("Unwrap with %s: %v, want ErrUnwrap", name, err)
		}
	}
}

func TestAddVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	for _, want := range []struct {
		name    string
		version int
	}{{"a", 1}, {"a", 2}, {"b", 1}, {"a", 3}} {
		v, err := AddVersion(path, want.name)
		if err != nil || v != want.version {
			t.Fatalf("AddVersion(%s) = %d, %v; want %d", want.name, v, err, want.version)
		}
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the keyring file: %v, %v", info, err)
	}
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cur, _ := r.Current("a"); cur.Version != 3 {
		t.Errorf("current version of a: %d, want 3", cur.Version)
	}
	if _, err := AddVersion(t.TempDir(), "a"); err == nil {
		t.Error("AddVersion wrote into a directory")
	}
}

func TestNilRingHoldsNoKeys(t *testing.T) {
	var r *Ring
	if r.Has("a") || r.Names() != nil || r.Source() != "" {
		t.Error("a nil ring claims keys")
	}
	if _, err := r.Current("a"); !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "-keyring") {
		t.Errorf("Current: %v", err)
	}
	if _, err := r.ByID(ID{}); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("ByID: %v", err)
	}
}
