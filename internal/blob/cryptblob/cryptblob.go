// Package cryptblob encrypts objects at rest: a blob.Store that wraps
// another and seals the objects its Policy names with authenticated
// encryption, so that a store's bytes on disk or in a bucket reveal nothing
// and any change to them fails the read instead of returning wrong data.
// Encryption is invisible above it: sizes, ranges, listings and the blob
// contract are those of the plaintext, and blobtest runs unchanged on it.
//
// # Which objects
//
// A single decorator over the server's one blob.Store, rather than a wrapper
// each caller must remember to take per store, so that every object written
// for an encrypted store is covered, whichever package writes it: read-set
// files, indexes, upload parts, and what imports, references and archives
// will add. The Policy decides from the object's key alone; seqstore's
// policy reads the store from the key (KIND/ACCOUNT/STORE/...) and the key
// name from the store's sseConfig. The decision never comes from the stored
// bytes: an object the policy calls encrypted is read only through
// decryption, so replacing it with plaintext at rest fails like any other
// tampering.
//
// # Format
//
// An encrypted object is a header followed by chunks:
//
//	header  "SQCRYPT" 0x01 | key ID (16) | wrapped data key (60)
//	chunk i AES-256-GCM(data key, nonce = 0000 || i as 8 bytes, aad = final flag)
//
// Each object has its own random data key, wrapped by the current version of
// its keyring key; the wrap is bound to the header and to the object's key,
// so a header or a whole object moved to another key does not open. The
// plaintext is cut in chunks of 64 KiB; the last chunk holds 0 to 64 KiB-1
// bytes and is sealed as final, so an object cut at a chunk boundary fails
// too. The ciphertext size determines the plaintext size exactly, which is
// how Stat and List report plaintext sizes without reading a byte, and a
// range read fetches and opens only the chunks it touches (plus the header).
//
// What it does not catch: an object replaced by an older version of itself
// under the same key (a rollback) opens cleanly. Read-set files are written
// once under unique keys and checked against their ETags by clients.
//
// # Reading while overwritten
//
// A range read that does not start in the first chunk reads the header and
// the chunks in two requests. If the object is overwritten between them, the
// first chunk fails to open, and the read is retried from the start (twice),
// so readers see one whole version as the blob contract asks. An overwrite
// that changes the object's size after the first chunk was opened fails that
// reader with ErrIntegrity, never a mix.
package cryptblob

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/keyring"
)

// Policy says which objects are encrypted, and under which key.
type Policy interface {
	// KeyName returns the keyring name of the key that protects the object
	// under key, or "" when the object is stored as is. It is given only
	// valid keys, and must give the same answer for a key for as long as
	// the object exists.
	KeyName(ctx context.Context, key string) (string, error)
}

// ErrIntegrity is wrapped by every error about an encrypted object whose
// bytes at rest were changed, cut short or lengthened.
var ErrIntegrity = errors.New("cryptblob: an encrypted object failed its integrity check")

// Layout constants.
const (
	// ChunkSize is the plaintext size of every chunk but the last.
	ChunkSize = 64 << 10
	// HeaderSize is the size of the header before the first chunk.
	HeaderSize = len(magic) + keyring.IDSize + keyring.WrappedSize
	tagSize    = 16
	sealedSize = ChunkSize + tagSize
	magic      = "SQCRYPT\x01"
)

// CipherSize is the size at rest of an encrypted object of n plaintext
// bytes.
func CipherSize(n int64) int64 {
	return int64(HeaderSize) + n + (n/ChunkSize+1)*tagSize
}

// plainSize inverts CipherSize, and reports sizes no object can have.
func plainSize(c int64) (int64, error) {
	body := c - int64(HeaderSize)
	full, rest := body/sealedSize, body%sealedSize
	if body < tagSize || rest < tagSize {
		return 0, fmt.Errorf("%w: %d bytes at rest is no encrypted object's size (cut short or lengthened)", ErrIntegrity, c)
	}
	return full*ChunkSize + rest - tagSize, nil
}

// Store encrypts the objects its policy names and passes the others
// through.
type Store struct {
	base   blob.Store
	ring   *keyring.Ring
	policy Policy
}

var _ blob.Store = (*Store)(nil)

// New wraps base.
func New(base blob.Store, ring *keyring.Ring, policy Policy) *Store {
	return &Store{base: base, ring: ring, policy: policy}
}

// keyName validates key and asks the policy.
func (s *Store) keyName(ctx context.Context, key string) (string, error) {
	if err := blob.ValidKey(key); err != nil {
		return "", err
	}
	name, err := s.policy.KeyName(ctx, key)
	if err != nil {
		return "", fmt.Errorf("object %s: %w", key, err)
	}
	return name, nil
}

// NewWriter implements blob.Store.
func (s *Store) NewWriter(ctx context.Context, key string) (blob.Writer, error) {
	name, err := s.keyName(ctx, key)
	if err != nil || name == "" {
		if err != nil {
			return nil, err
		}
		return s.base.NewWriter(ctx, key)
	}
	kek, err := s.ring.Current(name)
	if err != nil {
		return nil, fmt.Errorf("encrypt object %s: %w", key, err)
	}
	dataKey := make([]byte, keyring.KeySize)
	if _, err := rand.Read(dataKey); err != nil {
		return nil, err
	}
	header, err := sealHeader(kek, dataKey, key)
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(dataKey)
	if err != nil {
		return nil, err
	}
	w, err := s.base.NewWriter(ctx, key)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(header); err != nil {
		w.Abort()
		return nil, err
	}
	return &writer{base: w, aead: aead, buf: make([]byte, 0, ChunkSize), sealed: make([]byte, 0, sealedSize)}, nil
}

// sealHeader wraps dataKey with kek for the object under key.
func sealHeader(kek *keyring.Key, dataKey []byte, key string) ([]byte, error) {
	h := make([]byte, 0, HeaderSize)
	h = append(h, magic...)
	h = append(h, kek.ID[:]...)
	wrapped, err := kek.Wrap(dataKey, headerAAD(h, key))
	if err != nil {
		return nil, err
	}
	return append(h, wrapped...), nil
}

// headerAAD binds a wrapped data key to the header before it and to the
// object's key.
func headerAAD(prefix []byte, key string) []byte {
	return append(append(bytes.Clone(prefix[:len(magic)+keyring.IDSize]), '/'), key...)
}

// openHeader finds the key version a header names and unwraps its data key.
func (s *Store) openHeader(h []byte, key string) (*keyring.Key, []byte, error) {
	if len(h) != HeaderSize || string(h[:len(magic)]) != magic {
		return nil, nil, fmt.Errorf("%w: object %s has no encryption header", ErrIntegrity, key)
	}
	var id keyring.ID
	copy(id[:], h[len(magic):])
	kek, err := s.ring.ByID(id)
	if err != nil {
		return nil, nil, fmt.Errorf("object %s: %w", key, err)
	}
	dataKey, err := kek.Unwrap(h[len(magic)+keyring.IDSize:], headerAAD(h, key))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: object %s: %v", ErrIntegrity, key, err)
	}
	return kek, dataKey, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func chunkNonce(n *[12]byte, index int64) []byte {
	binary.BigEndian.PutUint64(n[4:], uint64(index))
	return n[:]
}

var (
	aadMiddle = []byte{0}
	aadFinal  = []byte{1}
)

// writer seals each full chunk as it fills, and the last, possibly empty,
// one at Close.
type writer struct {
	base   blob.Writer
	aead   cipher.AEAD
	buf    []byte // plaintext of the chunk being filled
	sealed []byte
	index  int64
	nonce  [12]byte
	err    error
}

func (w *writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for len(p) > 0 {
		c := copy(w.buf[len(w.buf):ChunkSize], p)
		w.buf = w.buf[:len(w.buf)+c]
		n += c
		p = p[c:]
		if len(w.buf) == ChunkSize {
			if err := w.seal(false); err != nil {
				return n - c, err
			}
		}
	}
	return n, nil
}

func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	var total int64
	for {
		n, err := r.Read(w.buf[len(w.buf):ChunkSize])
		w.buf = w.buf[:len(w.buf)+n]
		total += int64(n)
		if len(w.buf) == ChunkSize {
			if serr := w.seal(false); serr != nil {
				return total, serr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func (w *writer) seal(final bool) error {
	aad := aadMiddle
	if final {
		aad = aadFinal
	}
	w.sealed = w.aead.Seal(w.sealed[:0], chunkNonce(&w.nonce, w.index), w.buf, aad)
	w.index++
	w.buf = w.buf[:0]
	if _, err := w.base.Write(w.sealed); err != nil {
		w.err = err
		return err
	}
	return nil
}

func (w *writer) Close() error {
	if w.err != nil {
		if errors.Is(w.err, blob.ErrClosed) {
			return w.err
		}
		w.base.Abort()
		return w.err
	}
	err := w.seal(true)
	if err == nil {
		err = w.base.Close()
	} else {
		w.base.Abort()
	}
	w.err = blob.ErrClosed
	return err
}

func (w *writer) Abort() error {
	if w.err == nil {
		w.err = blob.ErrClosed
	}
	return w.base.Abort()
}

// readAttempts is how often a read whose first chunk fails to open is tried:
// a concurrent overwrite can pair one version's header with another's
// chunks.
const readAttempts = 3

// NewRangeReader implements blob.Store.
func (s *Store) NewRangeReader(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	name, err := s.keyName(ctx, key)
	if err != nil || name == "" {
		if err != nil {
			return nil, err
		}
		return s.base.NewRangeReader(ctx, key, offset, length)
	}
	if offset < 0 {
		return nil, fmt.Errorf("read %s: negative offset %d", key, offset)
	}
	for attempt := 1; ; attempt++ {
		r, err := s.openRange(ctx, key, offset, length)
		if err == nil || !errors.Is(err, ErrIntegrity) || attempt == readAttempts {
			return r, err
		}
	}
}

func (s *Store) openRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	attrs, err := s.base.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	size, err := plainSize(attrs.Size)
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", key, err)
	}
	if offset > size {
		return nil, fmt.Errorf("read %s at %d: the object has %d bytes: %w", key, offset, size, blob.ErrOutOfRange)
	}
	if length < 0 || length > size-offset {
		length = size - offset
	}
	if length == 0 {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	first, last := offset/ChunkSize, (offset+length-1)/ChunkSize
	final := size / ChunkSize
	end := chunkStart(last) + sealedSize
	if last == final {
		end = attrs.Size
	}
	var header [HeaderSize]byte
	var body io.ReadCloser
	if first == 0 {
		// One request when the range starts at the beginning, as most
		// reads do.
		body, err = s.base.NewRangeReader(ctx, key, 0, end)
		if err == nil {
			if _, err = io.ReadFull(body, header[:]); err != nil {
				body.Close()
				err = truncated(key, err)
			}
		}
	} else {
		if err = s.readHeader(ctx, key, header[:]); err == nil {
			body, err = s.base.NewRangeReader(ctx, key, chunkStart(first), end-chunkStart(first))
		}
	}
	if err != nil {
		return nil, err
	}
	_, dataKey, err := s.openHeader(header[:], key)
	if err != nil {
		body.Close()
		return nil, err
	}
	aead, err := newAEAD(dataKey)
	if err != nil {
		body.Close()
		return nil, err
	}
	src := &chunkSource{
		key: key, in: body, aead: aead,
		index: first, final: final, finalLen: int(size - final*ChunkSize),
		skip: int(offset - first*ChunkSize), left: length,
	}
	if n := end - chunkStart(first); n > 2*sealedSize {
		// Fewer, larger reads from the store: a read per chunk costs a
		// system call or more for each 64 KiB.
		src.in = bufio.NewReaderSize(body, int(min(n, readBuffer)))
	}
	// Opening the first chunk now turns a header and chunks of different
	// versions into an error here, where it can be retried.
	buf := make([]byte, sealedSize)
	plain, err := src.next(buf)
	if err != nil {
		body.Close()
		return nil, err
	}
	return newReader(body, src, buf, plain), nil
}

// readBuffer is the most a reader buffers of the stored object.
const readBuffer = 256 << 10

func chunkStart(i int64) int64 { return int64(HeaderSize) + i*sealedSize }

func (s *Store) readHeader(ctx context.Context, key string, h []byte) error {
	r, err := s.base.NewRangeReader(ctx, key, 0, int64(len(h)))
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := io.ReadFull(r, h); err != nil {
		return truncated(key, err)
	}
	return nil
}

func truncated(key string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: object %s ends early", ErrIntegrity, key)
	}
	return err
}

// Stat implements blob.Store, reporting the plaintext size.
func (s *Store) Stat(ctx context.Context, key string) (blob.Attributes, error) {
	name, err := s.keyName(ctx, key)
	if err != nil {
		return blob.Attributes{}, err
	}
	a, err := s.base.Stat(ctx, key)
	if err != nil || name == "" {
		return a, err
	}
	if a.Size, err = plainSize(a.Size); err != nil {
		return blob.Attributes{}, fmt.Errorf("object %s: %w", key, err)
	}
	return a, nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, key string) error { return s.base.Delete(ctx, key) }

// List implements blob.Store, reporting plaintext sizes.
func (s *Store) List(ctx context.Context, prefix string, fn func(key string, attrs blob.Attributes) error) error {
	var errStop = errors.New("stop")
	var failed error
	err := s.base.List(ctx, prefix, func(key string, a blob.Attributes) error {
		name, err := s.policy.KeyName(ctx, key)
		if err == nil && name != "" {
			a.Size, err = plainSize(a.Size)
		}
		if err != nil {
			failed = fmt.Errorf("object %s: %w", key, err)
			return errStop
		}
		return fn(key, a)
	})
	if failed != nil && errors.Is(err, errStop) {
		return failed
	}
	return err
}

// Close implements blob.Store.
func (s *Store) Close() error { return s.base.Close() }

// Rewrap wraps the data key of the object under key with the current
// version of its keyring key, if another version wrapped it. The chunks are
// copied as they are, never decrypted; since objects are immutable, the
// object is written again under the same key. It reports whether it
// rewrote the object.
func (s *Store) Rewrap(ctx context.Context, key string) (bool, error) {
	name, err := s.keyName(ctx, key)
	if err != nil || name == "" {
		return false, err
	}
	r, err := s.base.NewRangeReader(ctx, key, 0, -1)
	if err != nil {
		return false, err
	}
	defer r.Close()
	header := make([]byte, HeaderSize)
	if _, err := io.ReadFull(r, header); err != nil {
		return false, truncated(key, err)
	}
	old, dataKey, err := s.openHeader(header, key)
	if err != nil {
		return false, err
	}
	cur, err := s.ring.Current(old.Name)
	if err != nil {
		return false, err
	}
	if cur.ID == old.ID {
		return false, nil
	}
	if header, err = sealHeader(cur, dataKey, key); err != nil {
		return false, err
	}
	w, err := s.base.NewWriter(ctx, key)
	if err != nil {
		return false, err
	}
	defer w.Abort()
	if _, err := w.Write(header); err != nil {
		return false, err
	}
	if _, err := io.Copy(w, r); err != nil {
		return false, err
	}
	return true, w.Close()
}
