// Package etag computes HealthOmics read-set ETags: per-source digests of a
// read set's semantic content (the uncompressed FASTQ bytes, or the SAM text of
// the alignment records) in one of the three "up" families a sequence store
// can choose.
package etag

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"
)

// Family is a sequence store's eTagAlgorithmFamily, as the API spells it.
type Family string

// The families the service model allows.
const (
	MD5up    Family = "MD5up"
	SHA256up Family = "SHA256up"
	SHA512up Family = "SHA512up"
)

// Families lists every family, in the order reports print them.
var Families = []Family{MD5up, SHA256up, SHA512up}

// ParseFamily checks a family name from a request or configuration.
func ParseFamily(s string) (Family, error) {
	for _, f := range Families {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown ETag algorithm family %q: use MD5up, SHA256up or SHA512up", s)
}

// New returns a fresh hash of the family.
func (f Family) New() hash.Hash {
	switch f {
	case SHA256up:
		return sha256.New()
	case SHA512up:
		return sha512.New()
	default:
		return md5.New()
	}
}

// Algorithm names the ETag algorithm for a file type in this family, such as
// FASTQ_MD5up or BAM_SHA256up. UBAM read sets use the BAM algorithms.
func (f Family) Algorithm(fileType string) string {
	family := string(f)
	kind := fileType
	if kind == "UBAM" {
		kind = "BAM"
	}
	// The enum spells the families in upper case after the file type:
	// FASTQ_MD5up, BAM_SHA256up, CRAM_SHA512up.
	return kind + "_" + family
}

// ParseAlgorithm is the inverse of Family.Algorithm: the family of an
// algorithm such as FASTQ_MD5up or BAM_SHA256up.
func ParseAlgorithm(algorithm string) (Family, error) {
	_, family, ok := strings.Cut(algorithm, "_")
	if !ok {
		return "", fmt.Errorf("unknown ETag algorithm %q: expected a file type and a family, such as FASTQ_MD5up", algorithm)
	}
	return ParseFamily(family)
}

// Hasher feeds the same bytes to one hash per requested family, so that one
// pass over a source yields every ETag a caller asked for.
type Hasher struct {
	families []Family
	hashes   []hash.Hash
	writer   io.Writer
}

// NewHasher hashes in each of the given families.
func NewHasher(families ...Family) *Hasher {
	h := &Hasher{families: families}
	ws := make([]io.Writer, len(families))
	for i, f := range families {
		h.hashes = append(h.hashes, f.New())
		ws[i] = h.hashes[i]
	}
	if len(ws) == 1 {
		h.writer = ws[0]
	} else {
		h.writer = io.MultiWriter(ws...)
	}
	return h
}

// Write hashes p in every family; it never fails.
func (h *Hasher) Write(p []byte) (int, error) { return h.writer.Write(p) }

// Sums returns the lowercase hex digest of each family.
func (h *Hasher) Sums() map[Family]string {
	out := make(map[Family]string, len(h.families))
	for i, f := range h.families {
		out[f] = hex.EncodeToString(h.hashes[i].Sum(nil))
	}
	return out
}
