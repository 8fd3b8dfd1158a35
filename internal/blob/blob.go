// Package blob defines the object store behind seqstore: a flat namespace of
// immutable byte objects addressed by slash-separated keys, written in one
// streaming pass and read back by byte range. Two drivers implement it,
// fileblob (a local directory) and s3blob (any S3-compatible service), and
// blobtest holds the conformance suite both must pass.
//
// # Contract
//
// Every driver guarantees the following; blobtest.Run checks each point.
//
//   - Keys are validated by ValidKey before any I/O. An invalid key fails with
//     an error wrapping ErrInvalidKey, so no key can name anything outside the
//     store.
//   - A written object becomes visible only when Writer.Close returns nil.
//     Until then readers see the previous object under the key, or none.
//     Overwrites replace the whole object atomically: a reader opened before
//     or during an overwrite reads entirely the old bytes or entirely the new
//     bytes, never a mix.
//   - Writer.Abort, a failed Writer.Close, or the cancellation of the context
//     given to NewWriter discards the write and leaves nothing behind (no
//     partial object, no temporary file, no pending multipart upload once
//     Close or Abort has returned).
//   - Reading, stating or listing a missing key fails with an error wrapping
//     ErrNotFound. Deleting a missing key succeeds.
//   - NewRangeReader with an offset greater than the object's size fails with
//     an error wrapping ErrOutOfRange; an offset equal to the size yields an
//     empty reader; a length reaching past the end is cut at the end.
//   - List visits keys in byte-wise lexical order, the order of Go's string
//     comparison and of S3's ListObjectsV2.
//   - A Store is safe for concurrent use. A Writer and a reader are not: each
//     belongs to one goroutine.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

var (
	// ErrNotFound is wrapped by every error about a key that holds no object.
	ErrNotFound = errors.New("blob: object not found")
	// ErrInvalidKey is wrapped by every error about a key ValidKey rejects.
	ErrInvalidKey = errors.New("blob: invalid key")
	// ErrOutOfRange is wrapped by the error of a range read that starts past
	// the end of the object.
	ErrOutOfRange = errors.New("blob: offset beyond the end of the object")
	// ErrClosed is returned by a Writer used after Close or Abort, and by a
	// Store used after Close.
	ErrClosed = errors.New("blob: already closed")
)

// Attributes describe a stored object.
type Attributes struct {
	Size    int64
	ModTime time.Time
}

// Store is an object store. See the package documentation for the contract
// every implementation keeps.
type Store interface {
	// NewWriter starts writing key. The object becomes visible only when
	// Close returns nil; Abort, a failed Close or a cancelled ctx discards it
	// and leaves nothing behind. Overwrites replace atomically. The caller
	// must end every Writer with Close or Abort.
	NewWriter(ctx context.Context, key string) (Writer, error)

	// NewRangeReader reads length bytes of key from offset; a negative
	// length reads to the end, and a length past the end is cut there. A
	// missing key fails with an error wrapping ErrNotFound, an offset past
	// the end with one wrapping ErrOutOfRange, a negative offset with a
	// plain error. The reader sees one version of the object even when it is
	// overwritten or deleted while being read.
	NewRangeReader(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)

	// Stat returns the attributes of key, or an error wrapping ErrNotFound.
	Stat(ctx context.Context, key string) (Attributes, error)

	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error

	// List calls fn for every key that starts with prefix, in lexical order.
	// The prefix need not end at a slash ("uploads/ab" matches
	// "uploads/abc/1"); an empty prefix lists the whole store. An error from
	// fn stops the listing and is returned as is.
	List(ctx context.Context, prefix string, fn func(key string, attrs Attributes) error) error

	// Close releases the store's resources. Writers still open fail.
	Close() error
}

// Writer streams one object into a Store. It implements io.ReaderFrom so that
// io.Copy fills the driver's own buffers without an intermediate copy.
type Writer interface {
	io.Writer
	io.ReaderFrom
	// Close commits the object. After an error nothing was stored.
	Close() error
	// Abort discards the object. After a successful Close it does nothing,
	// so deferring Abort is a safe way to clean up on early returns.
	Abort() error
}

// MaxKeyLength bounds keys well inside S3's 1024-byte limit, leaving room for
// an s3blob prefix.
const MaxKeyLength = 900

// ValidKey reports whether key is acceptable to every driver: a relative,
// slash-separated path of non-empty segments, none of them "." or "..", made
// of ASCII letters, digits and the characters - _ . = + , @ ~. These rules
// keep a key from naming anything outside a fileblob root and make every key
// a valid S3 key that needs no escaping. The error wraps ErrInvalidKey and
// says what is wrong.
func ValidKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: the key is empty", ErrInvalidKey)
	}
	if len(key) > MaxKeyLength {
		return fmt.Errorf("%w: the key is %d bytes long; the limit is %d", ErrInvalidKey, len(key), MaxKeyLength)
	}
	if key[0] == '/' {
		return fmt.Errorf("%w: %q is absolute; keys are relative paths", ErrInvalidKey, key)
	}
	start := 0
	for i := 0; i <= len(key); i++ {
		if i < len(key) && key[i] != '/' {
			if !keyByte(key[i]) {
				return fmt.Errorf("%w: %q has the character %q at byte %d; use letters, digits and - _ . = + , @ ~", ErrInvalidKey, key, rune(key[i]), i)
			}
			continue
		}
		switch seg := key[start:i]; seg {
		case "":
			return fmt.Errorf("%w: %q has an empty path segment at byte %d", ErrInvalidKey, key, start)
		case ".", "..":
			return fmt.Errorf("%w: %q has a %q path segment", ErrInvalidKey, key, seg)
		}
		start = i + 1
	}
	return nil
}

// ValidPrefix reports whether prefix may be listed: the empty prefix, or one
// that is the beginning of some valid key.
func ValidPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	// A prefix may end in a slash or in the middle of a segment; completing
	// it with one letter checks everything before that point.
	if err := ValidKey(prefix + "x"); err != nil {
		return fmt.Errorf("list prefix %q: %w", prefix, err)
	}
	return nil
}

func keyByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-_.=+,@~", c) >= 0
}
