package sqlmeta

import (
	"context"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

// AccountPut inserts an account or renames an existing one; its creation
// time stays the first one recorded.
func (s *Store) AccountPut(ctx context.Context, a seqstore.Account) error {
	_, err := s.write.exec(ctx, `INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name`, a.ID, a.Name, millis(a.CreatedAt))
	return err
}

func scanAccount(row scanner) (seqstore.Account, error) {
	var a seqstore.Account
	var created int64
	if err := row.Scan(&a.ID, &a.Name, &created); err != nil {
		return a, translate(err)
	}
	a.CreatedAt = fromMillis(created)
	return a, nil
}

// AccountGet returns an account.
func (s *Store) AccountGet(ctx context.Context, id string) (*seqstore.Account, error) {
	a, err := scanAccount(s.read.queryRow(ctx, `SELECT id, name, created_at FROM accounts WHERE id = $1`, id))
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// AccountList lists every account by ID.
func (s *Store) AccountList(ctx context.Context) ([]seqstore.Account, error) {
	rows, err := s.read.query(ctx, `SELECT id, name, created_at FROM accounts ORDER BY id`)
	return collect(rows, err, scanAccount)
}

// AccessKeyPut adds a key: ErrConflict if its ID exists, ErrKeyDeleted if
// it was deleted, ErrNotFound if its account does not exist.
func (s *Store) AccessKeyPut(ctx context.Context, k seqstore.AccessKey) error {
	return s.tx(ctx, func(t *txRunner) error {
		if err := s.refuseDeletedKey(ctx, t, k.ID); err != nil {
			return err
		}
		_, err := t.exec(ctx, `INSERT INTO access_keys (id, secret, account_id, created_at) VALUES ($1, $2, $3, $4)`,
			k.ID, k.Secret, k.AccountID, millis(k.CreatedAt))
		return err
	})
}

// refuseDeletedKey returns ErrKeyDeleted if id was deleted.
func (s *Store) refuseDeletedKey(ctx context.Context, t *txRunner, id string) error {
	var n int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM deleted_access_keys WHERE id = $1`, id).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return meta.ErrKeyDeleted
	}
	return nil
}

const accessKeyColumns = `id, secret, account_id, created_at`

func scanAccessKey(row scanner) (seqstore.AccessKey, error) {
	var k seqstore.AccessKey
	var created int64
	if err := row.Scan(&k.ID, &k.Secret, &k.AccountID, &created); err != nil {
		return k, translate(err)
	}
	k.CreatedAt = fromMillis(created)
	return k, nil
}

// AccessKeyGet returns a key by its ID, whichever account it acts for: it
// is how a signed request finds its account.
func (s *Store) AccessKeyGet(ctx context.Context, id string) (*seqstore.AccessKey, error) {
	k, err := scanAccessKey(s.read.queryRow(ctx, `SELECT `+accessKeyColumns+` FROM access_keys WHERE id = $1`, id))
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// AccessKeyList lists an account's keys, oldest first.
func (s *Store) AccessKeyList(ctx context.Context, accountID string) ([]seqstore.AccessKey, error) {
	rows, err := s.read.query(ctx, `SELECT `+accessKeyColumns+` FROM access_keys WHERE account_id = $1 ORDER BY created_at, id`, accountID)
	return collect(rows, err, scanAccessKey)
}

// AccessKeyDelete revokes a key and remembers its ID, in one transaction.
func (s *Store) AccessKeyDelete(ctx context.Context, id string) error {
	return s.tx(ctx, func(t *txRunner) error {
		var account string
		if err := t.queryRow(ctx, `SELECT account_id FROM access_keys WHERE id = $1`+s.d.forUpdate, id).Scan(&account); err != nil {
			return translate(err)
		}
		if _, err := t.exec(ctx, `DELETE FROM access_keys WHERE id = $1`, id); err != nil {
			return err
		}
		_, err := t.exec(ctx, `INSERT INTO deleted_access_keys (id, account_id, deleted_at) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO NOTHING`, id, account, millis(time.Now()))
		return err
	})
}

// AccessKeyRotate stores k as its account's one key from origin, deleting
// the others from that origin.
func (s *Store) AccessKeyRotate(ctx context.Context, k seqstore.AccessKey, origin string) ([]string, error) {
	var retired []string
	err := s.tx(ctx, func(t *txRunner) error {
		if err := s.refuseDeletedKey(ctx, t, k.ID); err != nil {
			return err
		}
		rows, err := t.query(ctx, `SELECT id FROM access_keys WHERE account_id = $1 AND origin = $2 AND id <> $3`+s.d.forUpdate,
			k.AccountID, origin, k.ID)
		if retired, err = collect(rows, err, scanString); err != nil {
			return err
		}
		for _, id := range retired {
			if _, err := t.exec(ctx, `DELETE FROM access_keys WHERE id = $1`, id); err != nil {
				return err
			}
		}
		_, err = t.exec(ctx, `INSERT INTO access_keys (id, secret, account_id, created_at, origin) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id) DO UPDATE SET secret = excluded.secret, account_id = excluded.account_id, origin = excluded.origin`,
			k.ID, k.Secret, k.AccountID, millis(k.CreatedAt), origin)
		return err
	})
	if err != nil {
		return nil, err
	}
	return retired, nil
}
