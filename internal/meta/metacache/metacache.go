// Package metacache keeps recently read sequence stores in memory in front
// of any metadata store. Every signed request that names a store looks it up
// (GetSequenceStore, and every read-set operation checks its store first),
// and that lookup was most of the database work of the API's busiest calls.
//
// Everything else, jobs among it, passes straight through to the store
// underneath.
//
// Writes through the cache invalidate it at once, so one node always sees
// its own changes. Changes made by another node sharing the database are
// seen within the TTL; store settings change rarely, and a store deleted on
// another node still fails every write that depends on it at the database.
package metacache

import (
	"context"
	"sync"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

// Store wraps a meta.Store with the cache.
type Store struct {
	meta.Store
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[key]entry
}

type key struct{ account, id string }

type entry struct {
	store   seqstore.SequenceStore
	expires time.Time
}

// maxEntries bounds the cache; it is emptied when full.
const maxEntries = 10000

// New caches reads of next for ttl.
func New(next meta.Store, ttl time.Duration) *Store {
	return &Store{Store: next, ttl: ttl, now: time.Now, entries: map[key]entry{}}
}

var _ meta.Store = (*Store)(nil)

// SequenceStoreGet returns a cached store, or reads and caches it.
func (s *Store) SequenceStoreGet(ctx context.Context, accountID, id string) (*seqstore.SequenceStore, error) {
	k := key{accountID, id}
	now := s.now()
	s.mu.Lock()
	e, ok := s.entries[k]
	s.mu.Unlock()
	if ok && now.Before(e.expires) {
		st := e.store
		st.PropagatedSetLevelTags = append([]string(nil), e.store.PropagatedSetLevelTags...)
		return &st, nil
	}
	st, err := s.Store.SequenceStoreGet(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.entries) >= maxEntries {
		s.entries = map[key]entry{}
	}
	cached := *st
	cached.PropagatedSetLevelTags = append([]string(nil), st.PropagatedSetLevelTags...)
	s.entries[k] = entry{store: cached, expires: now.Add(s.ttl)}
	s.mu.Unlock()
	return st, nil
}

func (s *Store) forget(accountID, id string) {
	s.mu.Lock()
	delete(s.entries, key{accountID, id})
	s.mu.Unlock()
}

// SequenceStoreUpdate writes through and forgets the cached copy.
func (s *Store) SequenceStoreUpdate(ctx context.Context, st *seqstore.SequenceStore) error {
	defer s.forget(st.AccountID, st.ID)
	return s.Store.SequenceStoreUpdate(ctx, st)
}

// SequenceStoreDelete deletes through and forgets the cached copy.
func (s *Store) SequenceStoreDelete(ctx context.Context, accountID, id string) error {
	defer s.forget(accountID, id)
	return s.Store.SequenceStoreDelete(ctx, accountID, id)
}
