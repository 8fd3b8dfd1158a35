package sqlmeta

import (
	"context"

	"github.com/seqstore/seqstore"
)

// AccountPut inserts or updates an account.
func (s *Store) AccountPut(ctx context.Context, a seqstore.Account) error {
	_, err := s.exec(ctx, `INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name`, a.ID, a.Name, millis(a.CreatedAt))
	return err
}

// AccountGet returns an account.
func (s *Store) AccountGet(ctx context.Context, id string) (*seqstore.Account, error) {
	var a seqstore.Account
	var created int64
	err := s.queryRow(ctx, `SELECT id, name, created_at FROM accounts WHERE id = $1`, id).Scan(&a.ID, &a.Name, &created)
	if err != nil {
		return nil, translate(err)
	}
	a.CreatedAt = fromMillis(created)
	return &a, nil
}

// AccountList lists accounts by ID.
func (s *Store) AccountList(ctx context.Context) ([]seqstore.Account, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, created_at FROM accounts ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []seqstore.Account
	for rows.Next() {
		var a seqstore.Account
		var created int64
		if err := rows.Scan(&a.ID, &a.Name, &created); err != nil {
			return nil, err
		}
		a.CreatedAt = fromMillis(created)
		out = append(out, a)
	}
	return out, rows.Err()
}

// AccessKeyPut adds a key; ErrConflict if its ID exists.
func (s *Store) AccessKeyPut(ctx context.Context, k seqstore.AccessKey) error {
	_, err := s.exec(ctx, `INSERT INTO access_keys (id, secret, account_id, created_at) VALUES ($1, $2, $3, $4)`,
		k.ID, k.Secret, k.AccountID, millis(k.CreatedAt))
	return err
}

// AccessKeyGet returns a key.
func (s *Store) AccessKeyGet(ctx context.Context, id string) (*seqstore.AccessKey, error) {
	var k seqstore.AccessKey
	var created int64
	err := s.queryRow(ctx, `SELECT id, secret, account_id, created_at FROM access_keys WHERE id = $1`, id).Scan(&k.ID, &k.Secret, &k.AccountID, &created)
	if err != nil {
		return nil, translate(err)
	}
	k.CreatedAt = fromMillis(created)
	return &k, nil
}

// AccessKeyList lists an account's keys.
func (s *Store) AccessKeyList(ctx context.Context, accountID string) ([]seqstore.AccessKey, error) {
	rows, err := s.query(ctx, `SELECT id, secret, account_id, created_at FROM access_keys WHERE account_id = $1 ORDER BY created_at, id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []seqstore.AccessKey
	for rows.Next() {
		var k seqstore.AccessKey
		var created int64
		if err := rows.Scan(&k.ID, &k.Secret, &k.AccountID, &created); err != nil {
			return nil, err
		}
		k.CreatedAt = fromMillis(created)
		out = append(out, k)
	}
	return out, rows.Err()
}

// AccessKeyDelete revokes a key.
func (s *Store) AccessKeyDelete(ctx context.Context, id string) error {
	return affected(s.exec(ctx, `DELETE FROM access_keys WHERE id = $1`, id))
}
