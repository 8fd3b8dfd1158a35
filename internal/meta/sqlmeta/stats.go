package sqlmeta

import "context"

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
