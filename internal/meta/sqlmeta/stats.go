package sqlmeta

import (
	"context"

	"github.com/seqstore/seqstore"
)

// ReadSetCountsByStatus counts the read sets of every account by status,
// for metrics. The status index answers it without reading the rows.
func (s *Store) ReadSetCountsByStatus(ctx context.Context) (map[string]int64, error) {
	rows, err := s.read.query(ctx, `SELECT status, COUNT(*) FROM read_sets GROUP BY status`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	counts := map[string]int64{}
	for rows.Next() {
		var status string
		var n int64
		if err := rows.Scan(&status, &n); err != nil {
			return nil, err
		}
		counts[status] = n
	}
	return counts, translate(rows.Err())
}

// JobItemCountsByKind counts the job items that have not ended (NOT_STARTED
// and IN_PROGRESS), across all accounts, by job kind and item status: the
// depth of the job queue, for metrics.
func (s *Store) JobItemCountsByKind(ctx context.Context) (map[[2]string]int64, error) {
	rows, err := s.read.query(ctx, `SELECT j.kind, i.status, COUNT(*) FROM job_items i JOIN jobs j ON j.id = i.job_id
		WHERE i.status IN ($1, $2) GROUP BY j.kind, i.status`, seqstore.JobItemStatusNotStarted, seqstore.JobItemStatusInProgress)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	counts := map[[2]string]int64{}
	for rows.Next() {
		var kind, status string
		var n int64
		if err := rows.Scan(&kind, &status, &n); err != nil {
			return nil, err
		}
		counts[[2]string{kind, status}] = n
	}
	return counts, translate(rows.Err())
}
