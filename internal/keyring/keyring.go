// Package keyring holds the operator's key-encryption keys: named, versioned
// 256-bit keys read from a file or a directory of files that only the
// server's user may read. A key wraps and unwraps the per-object data keys
// of encrypted objects; it never encrypts data itself.
//
// # File format
//
// One key per line, three fields separated by spaces or tabs; blank lines
// and lines starting with # are ignored:
//
//	NAME VERSION KEY
//	arn:aws:kms:us-east-1:123456789012:key/lab-a 1 q3Xw...base64...=
//
// NAME is what a store's sseConfig keyArn gives (or "default", the key of a
// store whose sseConfig names none), VERSION a positive integer, KEY 32
// random bytes in standard base64 (openssl rand -base64 32). The highest
// version of a name wraps new data keys; every version unwraps, which is how
// a key is rotated: add a line with the next version, restart, and
// optionally rewrap. A directory is read as the concatenation of its files.
//
// The raw key never touches data: the wrapping key and a 16-byte key ID are
// derived from it with HKDF-SHA-256 under different labels, so the ID an
// object's header carries to find its key reveals nothing of the key. The ID
// depends on the key bytes alone, so the same bytes may not appear twice.
package keyring

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// DefaultName is the key a store uses when its sseConfig gives no keyArn.
const DefaultName = "default"

// KeySize is the size of every key in the keyring and of the data keys it
// wraps.
const KeySize = 32

// IDSize is the size of a key's ID.
const IDSize = 16

// WrappedSize is the size of a wrapped data key: nonce, key, tag.
const WrappedSize = nonceSize + KeySize + tagSize

const (
	nonceSize = 12
	tagSize   = 16
	// maxFileSize bounds what is read of one keyring file; a key line
	// takes about a hundred bytes.
	maxFileSize = 1 << 20
)

// ID names one version of a key without revealing it.
type ID [IDSize]byte

func (id ID) String() string { return hex.EncodeToString(id[:]) }

// ErrUnknownKey is wrapped by every error about a key the keyring does not
// hold.
var ErrUnknownKey = errors.New("keyring: no such key")

// Key is one version of a named key.
type Key struct {
	Name    string
	Version int
	ID      ID
	wrap    cipher.AEAD
}

// Wrap seals a data key; aad binds it to its context (the object it
// protects), which Unwrap must be given again.
func (k *Key) Wrap(dataKey, aad []byte) ([]byte, error) {
	if len(dataKey) != KeySize {
		return nil, fmt.Errorf("keyring: a data key must be %d bytes, not %d", KeySize, len(dataKey))
	}
	out := make([]byte, nonceSize, WrappedSize)
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return k.wrap.Seal(out, out, dataKey, aad), nil
}

// ErrUnwrap is wrapped by the error of a wrapped key that fails its
// authentication: it was changed, or belongs to another context.
var ErrUnwrap = errors.New("keyring: wrapped data key failed authentication")

// Unwrap opens a data key sealed by Wrap with the same aad.
func (k *Key) Unwrap(wrapped, aad []byte) ([]byte, error) {
	if len(wrapped) != WrappedSize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrUnwrap, len(wrapped), WrappedSize)
	}
	dk, err := k.wrap.Open(nil, wrapped[:nonceSize], wrapped[nonceSize:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w (key %s version %d)", ErrUnwrap, k.Name, k.Version)
	}
	return dk, nil
}

// Ring is a loaded keyring. It is immutable and safe for concurrent use. A
// nil *Ring is a server without a keyring: it holds no keys.
type Ring struct {
	source   string
	versions map[string][]*Key // by name, oldest first
	byID     map[ID]*Key
}

// Source is the file or directory the ring was loaded from.
func (r *Ring) Source() string {
	if r == nil {
		return ""
	}
	return r.source
}

// Has reports whether the ring holds a key of this name.
func (r *Ring) Has(name string) bool { return r != nil && len(r.versions[name]) > 0 }

// Names lists the key names, sorted.
func (r *Ring) Names() []string {
	if r == nil {
		return nil
	}
	names := make([]string, 0, len(r.versions))
	for n := range r.versions {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Current returns the newest version of name, the one that wraps new data
// keys.
func (r *Ring) Current(name string) (*Key, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: key %q is needed, but this server has no keyring: start it with -keyring", ErrUnknownKey, name)
	}
	v := r.versions[name]
	if len(v) == 0 {
		return nil, fmt.Errorf("%w: the keyring %s has no key named %q", ErrUnknownKey, r.source, name)
	}
	return v[len(v)-1], nil
}

// ByID returns the key version with this ID.
func (r *Ring) ByID(id ID) (*Key, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: the object is encrypted, but this server has no keyring: start it with -keyring", ErrUnknownKey)
	}
	k, ok := r.byID[id]
	if !ok {
		return nil, fmt.Errorf("%w: the keyring %s has no key with ID %s; restore the key version that wrote this object", ErrUnknownKey, r.source, id)
	}
	return k, nil
}

// Load reads a keyring file, or every file of a directory. Each file must be
// readable and writable by its owner alone (mode 0600 or stricter).
func Load(path string) (*Ring, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	files := []string{path}
	if info.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("keyring: %w", err)
		}
		files = files[:0]
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") || e.IsDir() {
				continue
			}
			files = append(files, filepath.Join(path, e.Name()))
		}
	}
	r := &Ring{source: path, versions: map[string][]*Key{}, byID: map[ID]*Key{}}
	for _, f := range files {
		if err := r.loadFile(f); err != nil {
			return nil, err
		}
	}
	if len(r.byID) == 0 {
		return nil, fmt.Errorf("keyring %s holds no keys; add lines NAME VERSION KEY (KEY from: openssl rand -base64 32)", path)
	}
	for _, v := range r.versions {
		slices.SortFunc(v, func(a, b *Key) int { return a.Version - b.Version })
	}
	return r, nil
}

func (r *Ring) loadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("keyring file %s is not a regular file", path)
	}
	if err := checkMode(path, info.Mode()); err != nil {
		return err
	}
	if info.Size() > maxFileSize {
		return fmt.Errorf("keyring file %s is %d bytes; a keyring file may hold at most %d", path, info.Size(), maxFileSize)
	}
	data := make([]byte, info.Size())
	if _, err := f.ReadAt(data, 0); err != nil {
		return fmt.Errorf("keyring: read %s: %w", path, err)
	}
	for i, line := range bytes.Split(data, []byte("\n")) {
		if err := r.addLine(string(line)); err != nil {
			return fmt.Errorf("keyring file %s, line %d: %w", path, i+1, err)
		}
	}
	return nil
}

func checkMode(path string, mode fs.FileMode) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	if mode.Perm()&0o077 != 0 {
		return fmt.Errorf("keyring file %s has mode %04o; keys must be readable by the server's user alone: chmod 600 %s", path, mode.Perm(), path)
	}
	return nil
}

func (r *Ring) addLine(line string) error {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return nil
	}
	fields := strings.Fields(line)
	if len(fields) != 3 {
		return fmt.Errorf("want three fields, NAME VERSION KEY, found %d", len(fields))
	}
	name := fields[0]
	version, err := strconv.Atoi(fields[1])
	if err != nil || version < 1 {
		return fmt.Errorf("key %s: the version %q must be a positive integer", name, fields[1])
	}
	raw, err := base64.StdEncoding.DecodeString(fields[2])
	if err != nil || len(raw) != KeySize {
		// The key itself is never echoed.
		return fmt.Errorf("key %s version %d: the key must be %d bytes in standard base64 (openssl rand -base64 32)", name, version, KeySize)
	}
	k, err := newKey(name, version, raw)
	if err != nil {
		return err
	}
	for _, o := range r.versions[name] {
		if o.Version == version {
			return fmt.Errorf("key %s version %d is given twice", name, version)
		}
	}
	if o, dup := r.byID[k.ID]; dup {
		return fmt.Errorf("key %s version %d has the same bytes as key %s version %d; every key version needs its own random bytes", name, version, o.Name, o.Version)
	}
	r.versions[name] = append(r.versions[name], k)
	r.byID[k.ID] = k
	return nil
}

// HKDF labels: one key, two unrelated derived values.
const (
	wrapLabel = "seqstore keyring v1: data-key wrapping"
	idLabel   = "seqstore keyring v1: key id"
)

func newKey(name string, version int, raw []byte) (*Key, error) {
	wk, err := hkdf.Key(sha256.New, raw, nil, wrapLabel, KeySize)
	if err != nil {
		return nil, err
	}
	idb, err := hkdf.Key(sha256.New, raw, nil, idLabel, IDSize)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(wk)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	k := &Key{Name: name, Version: version, wrap: aead}
	copy(k.ID[:], idb)
	return k, nil
}

// NewKeyLine returns a keyring line with fresh random key bytes, for an
// operator adding a key or a version.
func NewKeyLine(name string, version int) (string, error) {
	if name == "" || strings.ContainsAny(name, " \t\n#") || version < 1 {
		return "", fmt.Errorf("keyring: a key name has no spaces or #, and a version is a positive integer")
	}
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %d %s\n", name, version, base64.StdEncoding.EncodeToString(raw)), nil
}

// NameFor is the name of the key a store uses whose sseConfig gives keyArn:
// the keyArn itself, or DefaultName when it gives none.
func NameFor(keyArn string) string {
	if keyArn == "" {
		return DefaultName
	}
	return keyArn
}

// AddVersion appends to the keyring file at path a new random key for name,
// one version past the newest it holds (version 1 for a new name), making
// the file with mode 0600 if it does not exist. It returns the version.
func AddVersion(path, name string) (int, error) {
	version := 1
	if info, err := os.Stat(path); err == nil {
		if info.IsDir() {
			return 0, fmt.Errorf("keyring %s is a directory; name the file of it to add the key to", path)
		}
		r := &Ring{source: path, versions: map[string][]*Key{}, byID: map[ID]*Key{}}
		if err := r.loadFile(path); err != nil {
			return 0, err
		}
		for _, k := range r.versions[name] {
			version = max(version, k.Version+1)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("keyring: %w", err)
	}
	line, err := NewKeyLine(name, version)
	if err != nil {
		return 0, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return 0, fmt.Errorf("keyring: %w", err)
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return 0, fmt.Errorf("keyring: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return 0, fmt.Errorf("keyring: write %s: %w", path, err)
	}
	return version, f.Close()
}
