// Package service implements the HealthOmics storage operations on sequence
// stores, reference stores, tags and S3 access policies in domain terms: it
// decides what may happen (quotas, conflicts, ownership) and records it in
// the metadata store. It knows nothing of HTTP or of the wire shapes; the
// API layer maps to and from it, and read sets live in package readset.
package service

import (
	"crypto/rand"
	"errors"
	"log/slog"
	"math/big"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/arn"
	"github.com/seqstore/seqstore/internal/keyring"
	"github.com/seqstore/seqstore/internal/meta"
)

// Service carries what every operation needs.
type Service struct {
	Meta meta.Store
	ARN  arn.Builder
	Now  func() time.Time
	Log  *slog.Logger
	// Keyring holds the keys stores may be encrypted with; nil: no store
	// may ask for encryption.
	Keyring *keyring.Ring
	// ReferenceStoresPerAccount is how many reference stores an account
	// may have; zero means one, as AWS allows per account and region.
	ReferenceStoresPerAccount int
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// NewID returns a random decimal ID of 10 digits with no leading zero, the
// form AWS uses for stores, read sets, uploads and jobs.
func NewID() string {
	n, err := rand.Int(rand.Reader, big.NewInt(9_000_000_000))
	if err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return big.NewInt(0).Add(n, big.NewInt(1_000_000_000)).String()
}

// createWithNewID retries create with fresh IDs while they collide.
func createWithNewID(create func(id string) error) (string, error) {
	for range 8 {
		id := NewID()
		err := create(id)
		if errors.Is(err, meta.ErrConflict) {
			continue
		}
		return id, err
	}
	return "", seqstore.Errorf(seqstore.CodeInternal, "could not allocate a free ID; try again")
}

// notFound maps meta.ErrNotFound to a ResourceNotFoundException with msg and
// passes any other error through.
func notFound(err error, msg string, args ...any) error {
	if errors.Is(err, meta.ErrNotFound) {
		return seqstore.Errorf(seqstore.CodeNotFound, msg, args...)
	}
	return err
}
