package sqlmeta

import (
	"context"
	"time"

	"github.com/seqstore/seqstore/internal/meta"
)

// ConsoleSessionPut stores a new console session.
func (s *Store) ConsoleSessionPut(ctx context.Context, cs meta.ConsoleSession) error {
	_, err := s.write.exec(ctx, `INSERT INTO console_sessions (id_hash, csrf_token, account_id, access_key_id, created_at, expires_at, last_seen_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		cs.IDHash, cs.CSRFToken, cs.AccountID, cs.AccessKeyID, millis(cs.CreatedAt), millis(cs.ExpiresAt), millis(cs.LastSeenAt))
	return err
}

// ConsoleSessionGet returns a console session.
func (s *Store) ConsoleSessionGet(ctx context.Context, idHash string) (*meta.ConsoleSession, error) {
	var cs meta.ConsoleSession
	var created, expires, seen int64
	err := s.read.queryRow(ctx, `SELECT id_hash, csrf_token, account_id, access_key_id, created_at, expires_at, last_seen_at
		FROM console_sessions WHERE id_hash = $1`, idHash).Scan(&cs.IDHash, &cs.CSRFToken, &cs.AccountID, &cs.AccessKeyID, &created, &expires, &seen)
	if err != nil {
		return nil, translate(err)
	}
	cs.CreatedAt, cs.ExpiresAt, cs.LastSeenAt = fromMillis(created), fromMillis(expires), fromMillis(seen)
	return &cs, nil
}

// ConsoleSessionTouch moves a session's last use forward to at.
func (s *Store) ConsoleSessionTouch(ctx context.Context, idHash string, at time.Time) error {
	n, err := affectedRows(s.write.exec(ctx, `UPDATE console_sessions SET last_seen_at = $2 WHERE id_hash = $1 AND last_seen_at < $2`, idHash, millis(at)))
	if err != nil || n > 0 {
		return err
	}
	// Nothing matched: missing, or seen later already.
	_, err = s.ConsoleSessionGet(ctx, idHash)
	return err
}

// ConsoleSessionDelete removes a console session.
func (s *Store) ConsoleSessionDelete(ctx context.Context, idHash string) error {
	return affected(s.write.exec(ctx, `DELETE FROM console_sessions WHERE id_hash = $1`, idHash))
}

// ConsoleSessionsPurge removes the sessions that have ended.
func (s *Store) ConsoleSessionsPurge(ctx context.Context, now, idleBefore time.Time) (int64, error) {
	return affectedRows(s.write.exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= $1 OR last_seen_at < $2`, millis(now), millis(idleBefore)))
}
