// Package diskusage counts the bytes seqstore keeps, per account, store and
// tier, from the object stores themselves rather than from the metadata: what
// an operator pays for is what is stored, whatever the records say. It
// relies on the layout every object key follows, KIND/ACCOUNT/STORE/...
// (readsets, references, uploads), and knows nothing else of what the
// objects hold.
package diskusage

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/seqstore/seqstore/internal/blob"
)

// Tiers, as reports name them.
const (
	TierActive  = "active"  // stored files of ACTIVE read sets and references
	TierArchive = "archive" // read sets' files in the archive tier
	TierUploads = "uploads" // parts of multipart uploads
)

// Row is what one store keeps in one tier.
type Row struct {
	Account string
	Store   string
	Tier    string
	Objects int64
	Bytes   int64
}

// Report is a tally of rows.
type Report struct {
	rows map[Row]*Row // keyed by the row with zero counts
}

// Count adds every object of s to the report, in tier; upload parts count
// in TierUploads wherever they are. Keys outside the layout count under
// account and store "-".
func (r *Report) Count(ctx context.Context, tier string, s blob.Store) error {
	if r.rows == nil {
		r.rows = map[Row]*Row{}
	}
	return s.List(ctx, "", func(key string, attrs blob.Attributes) error {
		k := Row{Account: "-", Store: "-", Tier: tier}
		parts := strings.SplitN(key, "/", 4)
		if len(parts) == 4 {
			k.Account, k.Store = parts[1], parts[2]
			if parts[0] == "uploads" {
				k.Tier = TierUploads
			}
		}
		row := r.rows[k]
		if row == nil {
			row = &Row{Account: k.Account, Store: k.Store, Tier: k.Tier}
			r.rows[k] = row
		}
		row.Objects++
		row.Bytes += attrs.Size
		return nil
	})
}

// Rows returns the report's rows by account, store and tier.
func (r *Report) Rows() []Row {
	out := make([]Row, 0, len(r.rows))
	for _, row := range r.rows {
		out = append(out, *row)
	}
	slices.SortFunc(out, func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Store, b.Store), cmp.Compare(a.Tier, b.Tier))
	})
	return out
}
