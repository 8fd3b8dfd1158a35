// Package auth manages who may call seqstore: accounts, their access keys,
// and the root key a fresh server makes for itself. It answers the SigV4
// verifier's one question (which secret and account go with this access key
// ID) from the metadata store, with a short cache so that signature checks do
// not cost a database round trip on every request.
package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

// ErrUnknownAccessKey reports an access key ID that no account owns.
var ErrUnknownAccessKey = errors.New("auth: unknown access key")

// Keys looks up access keys, caching hits for TTL. A deleted key stops
// working within TTL.
type Keys struct {
	Meta meta.Accounts
	TTL  time.Duration

	mu    sync.Mutex
	cache map[string]cachedKey
}

type cachedKey struct {
	key     seqstore.AccessKey
	expires time.Time
}

// Lookup returns the access key with the given ID.
func (k *Keys) Lookup(ctx context.Context, id string) (seqstore.AccessKey, error) {
	now := time.Now()
	k.mu.Lock()
	if c, ok := k.cache[id]; ok && now.Before(c.expires) {
		k.mu.Unlock()
		return c.key, nil
	}
	k.mu.Unlock()
	key, err := k.Meta.AccessKeyGet(ctx, id)
	if errors.Is(err, meta.ErrNotFound) {
		return seqstore.AccessKey{}, ErrUnknownAccessKey
	}
	if err != nil {
		return seqstore.AccessKey{}, err
	}
	ttl := k.TTL
	if ttl == 0 {
		ttl = 10 * time.Second
	}
	k.mu.Lock()
	if k.cache == nil || len(k.cache) > 10000 {
		k.cache = map[string]cachedKey{}
	}
	k.cache[id] = cachedKey{key: *key, expires: now.Add(ttl)}
	k.mu.Unlock()
	return *key, nil
}

// NewAccessKey makes a fresh key pair in AWS's shapes: a 20-character ID
// starting with "SQ" (AWS uses AKIA; a distinct prefix tells seqstore keys
// apart) and a 40-character secret.
func NewAccessKey(accountID string) seqstore.AccessKey {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	id := make([]byte, 0, 20)
	id = append(id, 'S', 'Q')
	for _, c := range b {
		id = append(id, alphabet[int(c)%len(alphabet)])
	}
	secret := make([]byte, 30)
	if _, err := rand.Read(secret); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return seqstore.AccessKey{
		ID:        string(id),
		Secret:    base64.StdEncoding.EncodeToString(secret),
		AccountID: accountID,
		CreatedAt: time.Now().UTC(),
	}
}

// CheckAccountID rejects account IDs that are not 12 decimal digits.
func CheckAccountID(id string) error {
	if len(id) != 12 || strings.Trim(id, "0123456789") != "" {
		return fmt.Errorf("account ID %q must be 12 decimal digits, like AWS account IDs", id)
	}
	return nil
}

// Root describes the operator's own credentials.
type Root struct {
	AccountID string
	Key       seqstore.AccessKey
	// Generated reports that the key was made on this start and must be
	// shown to the operator once.
	Generated bool
	// File is where a generated key is kept.
	File string
	// Retired lists the previous environment-configured root keys that
	// this start deleted, when the environment names a new one.
	Retired []string
}

// OriginEnvironment marks the root key configured by SEQSTORE_ACCESS_KEY_ID:
// a start with another such key replaces it.
const OriginEnvironment = "environment"

// OriginFile marks the root key kept in the data directory's credentials
// file, when a start had to replace a key of that ID stored with another
// secret or account.
const OriginFile = "file"

// rootKeyFile is the file under the data directory that keeps a generated
// root key.
const rootKeyFile = "root-credentials"

// EnsureRoot makes sure the root account exists and owns a key: the one from
// the environment when accessKeyID is set (replacing the one an earlier
// start took from the environment), else one kept under dataDir (made on
// first start, mode 0600). A root key deleted with `seqstore admin key
// delete` stays deleted: EnsureRoot then fails, saying how to make a new one,
// rather than bring it back.
func EnsureRoot(ctx context.Context, m meta.Accounts, accountID, accessKeyID, secret, dataDir string) (*Root, error) {
	if err := CheckAccountID(accountID); err != nil {
		return nil, err
	}
	if _, err := m.AccountGet(ctx, accountID); errors.Is(err, meta.ErrNotFound) {
		if err := m.AccountPut(ctx, seqstore.Account{ID: accountID, Name: "root", CreatedAt: time.Now().UTC()}); err != nil {
			return nil, fmt.Errorf("create root account: %w", err)
		}
	} else if err != nil {
		return nil, err
	}
	root := &Root{AccountID: accountID}
	switch {
	case accessKeyID != "" && secret == "":
		return nil, errors.New("SEQSTORE_ACCESS_KEY_ID is set but SEQSTORE_SECRET_ACCESS_KEY is not: set both, or neither to use a generated key")
	case accessKeyID != "":
		// The environment's key is the root key: one configured on an
		// earlier start and since replaced must stop working, or rotating
		// a leaked key would change nothing. Keys made with `admin` stay.
		root.Key = seqstore.AccessKey{ID: accessKeyID, Secret: secret, AccountID: accountID, CreatedAt: time.Now().UTC()}
		retired, err := m.AccessKeyRotate(ctx, root.Key, OriginEnvironment)
		if errors.Is(err, meta.ErrKeyDeleted) {
			return nil, fmt.Errorf("the root key %s in SEQSTORE_ACCESS_KEY_ID was deleted (seqstore admin key delete) and stays deleted: "+
				"set SEQSTORE_ACCESS_KEY_ID and SEQSTORE_SECRET_ACCESS_KEY to a new key", accessKeyID)
		}
		if err != nil {
			return nil, fmt.Errorf("store root key: %w", err)
		}
		root.Retired = retired
		return root, nil
	default:
		root.File = filepath.Join(dataDir, rootKeyFile)
		key, err := readKeyFile(root.File)
		switch {
		case errors.Is(err, os.ErrNotExist):
			key = NewAccessKey(accountID)
			if err := writeKeyFile(root.File, key); err != nil {
				return nil, err
			}
			root.Generated = true
		case err != nil:
			return nil, err
		}
		key.AccountID = accountID
		root.Key = key
	}
	existing, err := m.AccessKeyGet(ctx, root.Key.ID)
	switch {
	case errors.Is(err, meta.ErrNotFound):
		err = m.AccessKeyPut(ctx, root.Key)
	case err != nil:
		return nil, err
	case existing.AccountID != accountID || existing.Secret != root.Key.Secret:
		// The key exists with other settings: replace it so the operator's
		// configuration wins.
		_, err = m.AccessKeyRotate(ctx, root.Key, OriginFile)
	}
	if errors.Is(err, meta.ErrKeyDeleted) {
		return nil, fmt.Errorf("the root key %s kept in %s was deleted (seqstore admin key delete) and stays deleted: "+
			"remove that file to have a new root key made, or set SEQSTORE_ACCESS_KEY_ID and SEQSTORE_SECRET_ACCESS_KEY", root.Key.ID, root.File)
	}
	if err != nil {
		return nil, fmt.Errorf("store root key: %w", err)
	}
	return root, nil
}

func readKeyFile(path string) (seqstore.AccessKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return seqstore.AccessKey{}, err
	}
	var k seqstore.AccessKey
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		switch name {
		case "aws_access_key_id":
			k.ID = value
		case "aws_secret_access_key":
			k.Secret = value
		}
	}
	if k.ID == "" || k.Secret == "" {
		return k, fmt.Errorf("%s lacks aws_access_key_id or aws_secret_access_key; delete it to have a new key made", path)
	}
	return k, nil
}

func writeKeyFile(path string, k seqstore.AccessKey) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	body := fmt.Sprintf("# seqstore root credentials, made on first start\naws_access_key_id=%s\naws_secret_access_key=%s\n", k.ID, k.Secret)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("keep root credentials: %w", err)
	}
	if _, err := f.WriteString(body); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
