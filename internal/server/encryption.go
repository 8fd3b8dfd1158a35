package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/blob/cryptblob"
	"github.com/seqstore/seqstore/internal/config"
	"github.com/seqstore/seqstore/internal/keyring"
	"github.com/seqstore/seqstore/internal/meta"
)

// storePolicy encrypts each object as its store's sseConfig asks. Every
// object seqstore stores for a store has a key of the form
// KIND/ACCOUNT/STORE/..., so the store, and from it the key, follows from the
// object's key; an object key of any other shape is refused rather than
// stored unencrypted by mistake. A store's sseConfig is fixed at creation,
// so the answer for an object never changes.
type storePolicy struct{ meta meta.Store }

func (p storePolicy) KeyName(ctx context.Context, key string) (string, error) {
	if legacyUploadPart(key) {
		return "", nil
	}
	parts := strings.SplitN(key, "/", 4)
	if len(parts) < 4 {
		return "", fmt.Errorf("the key does not name its store (KIND/ACCOUNT/STORE/...), so whether to encrypt it is unknown")
	}
	account, store := parts[1], parts[2]
	seq, err := p.meta.SequenceStoreGet(ctx, account, store)
	if err == nil {
		return keyName(seq.SSEType, seq.SSEKeyArn), nil
	}
	if !errors.Is(err, meta.ErrNotFound) {
		return "", err
	}
	ref, err := p.meta.ReferenceStoreGet(ctx, account, store)
	if err == nil {
		return keyName(ref.SSEType, ref.SSEKeyArn), nil
	}
	if errors.Is(err, meta.ErrNotFound) {
		return "", fmt.Errorf("store %s of account %s does not exist, so whether to encrypt its objects is unknown", store, account)
	}
	return "", err
}

// legacyUploadPart reports an upload part stored before part keys named
// their store (uploads/ACCOUNT/UPLOAD/SOURCE/PART, one segment short of
// today's uploads/ACCOUNT/STORE/UPLOAD/SOURCE/PART). No store was encrypted
// then, and such keys are made no more, so an upload in progress across the
// upgrade still completes.
func legacyUploadPart(key string) bool {
	return strings.HasPrefix(key, "uploads/") && strings.Count(key, "/") == 4
}

// keyName is the keyring key a store's sseConfig names, or "" for none.
func keyName(sseType, keyArn string) string {
	if sseType == "" {
		return ""
	}
	return keyring.NameFor(keyArn)
}

// OpenKeyring loads the keyring the configuration names, or returns nil
// when it names none.
func OpenKeyring(cfg *config.Config) (*keyring.Ring, error) {
	if cfg.Keyring == "" {
		return nil, nil
	}
	return keyring.Load(cfg.Keyring)
}

// Encrypt checks that ring holds every key a store uses, and wraps blobs so
// that the objects of stores with an sseConfig are encrypted. It wraps them
// without a keyring (nil) too: a node started without one, next to nodes
// with one, then fails on an encrypted store's objects instead of writing
// them in plaintext.
func Encrypt(ctx context.Context, m meta.Store, blobs blob.Store, ring *keyring.Ring) (blob.Store, error) {
	if err := checkStoreKeys(ctx, m, ring); err != nil {
		return nil, err
	}
	return EncryptedBlobs(m, blobs, ring), nil
}

// EncryptedBlobs wraps blobs so that each store's objects are encrypted as
// its sseConfig says.
func EncryptedBlobs(m meta.Store, blobs blob.Store, ring *keyring.Ring) *cryptblob.Store {
	return cryptblob.New(blobs, ring, storePolicy{m})
}

// checkStoreKeys fails, naming the store and the key, when a store's key is
// not in the keyring: its objects could be neither read nor written.
func checkStoreKeys(ctx context.Context, m meta.Store, ring *keyring.Ring) error {
	accounts, err := m.AccountList(ctx)
	if err != nil {
		return err
	}
	check := func(kind, account, id, sseType, keyArn string) error {
		name := keyName(sseType, keyArn)
		switch {
		case name == "":
			return nil
		case ring == nil:
			return fmt.Errorf("%s store %s of account %s is encrypted with key %q, but the server has no keyring: start it with -keyring (SEQSTORE_KEYRING) naming the keyring that holds that key", kind, id, account, name)
		case !ring.Has(name):
			return fmt.Errorf("%s store %s of account %s is encrypted with key %q, which the keyring %s does not hold: add the key (every version it had) to the keyring", kind, id, account, name, ring.Source())
		}
		return nil
	}
	for _, a := range accounts {
		err := eachPage(func(p meta.Page) ([]*seqstore.SequenceStore, string, error) {
			return m.SequenceStoreList(ctx, a.ID, meta.SequenceStoreFilter{}, p)
		}, func(st *seqstore.SequenceStore) error {
			return check("sequence", a.ID, st.ID, st.SSEType, st.SSEKeyArn)
		})
		if err != nil {
			return err
		}
		err = eachPage(func(p meta.Page) ([]*seqstore.ReferenceStore, string, error) {
			return m.ReferenceStoreList(ctx, a.ID, "", meta.TimeRange{}, p)
		}, func(st *seqstore.ReferenceStore) error {
			return check("reference", a.ID, st.ID, st.SSEType, st.SSEKeyArn)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// eachPage calls fn for every item of a paged listing.
func eachPage[T any](list func(meta.Page) ([]T, string, error), fn func(T) error) error {
	for p := (meta.Page{Limit: 1000}); ; {
		items, next, err := list(p)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		p.After = next
	}
}
