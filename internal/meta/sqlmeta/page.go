package sqlmeta

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/seqstore/seqstore/internal/meta"
)

// Page sizes: a Page with no Limit gets defaultLimit items, and no page is
// longer than maxLimit.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

func pageLimit(p meta.Page) int {
	switch {
	case p.Limit <= 0:
		return defaultLimit
	case p.Limit > maxLimit:
		return maxLimit
	}
	return p.Limit
}

// where builds a WHERE clause from conditions with numbered arguments.
type where struct {
	conds []string
	args  []any
}

// arg adds an argument and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

// add adds a condition; each ? in cond takes the next of args.
func (w *where) add(cond string, args ...any) {
	var b strings.Builder
	for _, a := range args {
		i := strings.IndexByte(cond, '?')
		b.WriteString(cond[:i])
		b.WriteString(w.arg(a))
		cond = cond[i+1:]
	}
	b.WriteString(cond)
	w.conds = append(w.conds, b.String())
}

// eq matches a column when value is set; empty filters match everything.
func (w *where) eq(column, value string) {
	if value != "" {
		w.add(column+" = ?", value)
	}
}

// timeRange matches a time column against inclusive, optional bounds.
func (w *where) timeRange(column string, r meta.TimeRange) {
	if !r.After.IsZero() {
		w.add(column+" >= ?", r.After.UnixMilli())
	}
	if !r.Before.IsZero() {
		w.add(column+" <= ?", r.Before.UnixMilli())
	}
}

// after continues a list ordered by (created_at, id) past a page key.
func (w *where) after(key string) error {
	if key == "" {
		return nil
	}
	ms, id, err := parsePageKey(key)
	if err != nil {
		return err
	}
	w.add("(created_at > ? OR (created_at = ? AND id > ?))", ms, ms, id)
	return nil
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// orderPage orders a list by (created_at, id) and asks for one row more
// than the page holds, to learn whether another page follows.
func orderPage(p meta.Page) string {
	return " ORDER BY created_at, id LIMIT " + strconv.Itoa(pageLimit(p)+1)
}

// A page key is "<created_at unix ms>:<id>" of the last item of a page:
// callers treat it as opaque, and the API seals it into a signed token.
func pageKey(created time.Time, id string) string {
	return strconv.FormatInt(millis(created), 10) + ":" + id
}

func parsePageKey(key string) (ms int64, id string, err error) {
	num, id, ok := strings.Cut(key, ":")
	ms, perr := strconv.ParseInt(num, 10, 64)
	if !ok || perr != nil || id == "" {
		return 0, "", fmt.Errorf("%w: %q is not a page key this store made", meta.ErrBadPageKey, key)
	}
	return ms, id, nil
}

// trimPage drops the look-ahead row and makes the next key from the last
// item kept.
func trimPage[T any](items []T, limit int, key func(T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, key(items[limit-1])
}
