package sqlmeta

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

// TagsSet adds or overwrites tags, all or none.
func (s *Store) TagsSet(ctx context.Context, accountID, arn string, tags map[string]string) error {
	if len(tags) == 0 {
		return nil
	}
	return s.tx(ctx, func(t *txRunner) error {
		for k, v := range tags {
			if _, err := t.exec(ctx, `INSERT INTO tags (account_id, arn, tag_key, tag_value) VALUES ($1, $2, $3, $4)
				ON CONFLICT (account_id, arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value`, accountID, arn, k, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// TagsAdd adds or overwrites tags unless the resource would then carry more
// than limit.
func (s *Store) TagsAdd(ctx context.Context, accountID, arn string, tags map[string]string, limit int) (int, error) {
	var total int
	err := s.tx(ctx, func(t *txRunner) error {
		if s.d.lockTags != "" {
			if _, err := t.exec(ctx, s.d.lockTags, accountID, arn); err != nil {
				return err
			}
		}
		rows, err := t.query(ctx, `SELECT tag_key FROM tags WHERE account_id = $1 AND arn = $2`, accountID, arn)
		have, err := collect(rows, err, scanString)
		if err != nil {
			return err
		}
		total = len(tags)
		for _, k := range have {
			if _, ok := tags[k]; !ok {
				total++
			}
		}
		if total > limit {
			return fmt.Errorf("%w: %s would have %d tags, over %d", meta.ErrTagLimit, arn, total, limit)
		}
		for k, v := range tags {
			if _, err := t.exec(ctx, `INSERT INTO tags (account_id, arn, tag_key, tag_value) VALUES ($1, $2, $3, $4)
				ON CONFLICT (account_id, arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value`, accountID, arn, k, v); err != nil {
				return err
			}
		}
		return nil
	})
	return total, err
}

// TagsRemove removes tags by key; keys the resource lacks are ignored.
func (s *Store) TagsRemove(ctx context.Context, accountID, arn string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	return s.tx(ctx, func(t *txRunner) error {
		for _, k := range keys {
			if _, err := t.exec(ctx, `DELETE FROM tags WHERE account_id = $1 AND arn = $2 AND tag_key = $3`, accountID, arn, k); err != nil {
				return err
			}
		}
		return nil
	})
}

// TagsGet returns a resource's tags; none is an empty map, not an error.
func (s *Store) TagsGet(ctx context.Context, accountID, arn string) (map[string]string, error) {
	rows, err := s.read.query(ctx, `SELECT tag_key, tag_value FROM tags WHERE account_id = $1 AND arn = $2`, accountID, arn)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// TagsDeleteAll removes the tags of a resource and of the resources under
// it. The prefix test compares a substring rather than using LIKE, which
// would need its wildcards escaped and which SQLite applies without regard
// to case; both databases count substr in characters.
func (s *Store) TagsDeleteAll(ctx context.Context, accountID, arn string) error {
	prefix := arn + "/"
	_, err := s.write.exec(ctx, `DELETE FROM tags WHERE account_id = $1 AND (arn = $2 OR substr(arn, 1, $3) = $4)`,
		accountID, arn, utf8.RuneCountInString(prefix), prefix)
	return err
}

// S3AccessPolicyPut sets an access point's policy, replacing any before.
func (s *Store) S3AccessPolicyPut(ctx context.Context, p *seqstore.S3AccessPolicy) error {
	_, err := s.write.exec(ctx, `INSERT INTO s3_access_policies (account_id, access_point_arn, store_id, store_type, policy, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (account_id, access_point_arn) DO UPDATE SET store_id = excluded.store_id, store_type = excluded.store_type,
			policy = excluded.policy, updated_at = excluded.updated_at`,
		p.AccountID, p.AccessPointArn, p.StoreID, p.StoreType, p.Policy, millis(p.UpdatedAt))
	return err
}

// S3AccessPolicyGet returns an access point's policy.
func (s *Store) S3AccessPolicyGet(ctx context.Context, accountID, accessPointArn string) (*seqstore.S3AccessPolicy, error) {
	var p seqstore.S3AccessPolicy
	var updated int64
	err := s.read.queryRow(ctx, `SELECT account_id, access_point_arn, store_id, store_type, policy, updated_at FROM s3_access_policies
		WHERE account_id = $1 AND access_point_arn = $2`, accountID, accessPointArn).Scan(&p.AccountID, &p.AccessPointArn, &p.StoreID, &p.StoreType, &p.Policy, &updated)
	if err != nil {
		return nil, translate(err)
	}
	p.UpdatedAt = fromMillis(updated)
	return &p, nil
}

// S3AccessPolicyDelete removes an access point's policy.
func (s *Store) S3AccessPolicyDelete(ctx context.Context, accountID, accessPointArn string) error {
	return affected(s.write.exec(ctx, `DELETE FROM s3_access_policies WHERE account_id = $1 AND access_point_arn = $2`, accountID, accessPointArn))
}

// idempotencyAttempts bounds IdempotencyClaim's retries when a clashing
// claim is released between the insert and the read.
const idempotencyAttempts = 5

// IdempotencyClaim stores rec unless the account already used the token for
// the operation; then it returns the stored record. An abandoned claim (see
// meta.IdempotencyRecord.AbandonedBefore) is taken over in the same
// statement, so two retries cannot both take it. The response is kept as
// text: it is JSON.
func (s *Store) IdempotencyClaim(ctx context.Context, rec *meta.IdempotencyRecord) (*meta.IdempotencyRecord, error) {
	for range idempotencyAttempts {
		n, err := affectedRows(s.write.exec(ctx, `INSERT INTO idempotency_tokens (account_id, operation, token, request_hash, response, created_at)
			VALUES ($1, $2, $3, $4, '', $5) ON CONFLICT (account_id, operation, token) DO UPDATE
			SET request_hash = excluded.request_hash, created_at = excluded.created_at
			WHERE idempotency_tokens.response = '' AND idempotency_tokens.created_at < $6`,
			rec.AccountID, rec.Operation, rec.Token, rec.RequestHash, millis(rec.CreatedAt), millis(rec.AbandonedBefore)))
		if err != nil {
			return nil, err
		}
		if n == 1 {
			return nil, nil
		}
		var ex meta.IdempotencyRecord
		var resp string
		var created int64
		err = s.read.queryRow(ctx, `SELECT account_id, operation, token, request_hash, response, created_at FROM idempotency_tokens
			WHERE account_id = $1 AND operation = $2 AND token = $3`, rec.AccountID, rec.Operation, rec.Token).
			Scan(&ex.AccountID, &ex.Operation, &ex.Token, &ex.RequestHash, &resp, &created)
		if errors.Is(err, sql.ErrNoRows) {
			continue // released since the insert: claim again
		}
		if err != nil {
			return nil, translate(err)
		}
		if resp != "" {
			ex.Response = []byte(resp)
		}
		ex.CreatedAt = fromMillis(created)
		return &ex, nil
	}
	return nil, fmt.Errorf("%w: client token %s of %s is being claimed and released over and over", meta.ErrConflict, rec.Token, rec.Operation)
}

// IdempotencyFinish records a claimed request's response; ErrNotFound if
// the claim is gone.
func (s *Store) IdempotencyFinish(ctx context.Context, accountID, operation, token string, response []byte) error {
	return affected(s.write.exec(ctx, `UPDATE idempotency_tokens SET response = $4 WHERE account_id = $1 AND operation = $2 AND token = $3`,
		accountID, operation, token, string(response)))
}

// IdempotencyRelease forgets a claim; releasing one that is gone is not an
// error.
func (s *Store) IdempotencyRelease(ctx context.Context, accountID, operation, token string) error {
	_, err := s.write.exec(ctx, `DELETE FROM idempotency_tokens WHERE account_id = $1 AND operation = $2 AND token = $3`, accountID, operation, token)
	return err
}
