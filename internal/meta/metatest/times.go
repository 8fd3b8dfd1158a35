package metatest

import (
	"testing"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

// roundTrip stores something with the time in every time field and returns
// the times it reads back.
type roundTrip func(f *fixture, when time.Time) ([]time.Time, error)

var timeRoundTrips = []struct {
	entity string
	trip   roundTrip
}{
	{"account", func(f *fixture, when time.Time) ([]time.Time, error) {
		id := "99" + f.id()
		if err := f.s.AccountPut(f.ctx, seqstore.Account{ID: id, Name: "t", CreatedAt: when}); err != nil {
			return nil, err
		}
		a, err := f.s.AccountGet(f.ctx, id)
		if err != nil {
			return nil, err
		}
		return []time.Time{a.CreatedAt}, nil
	}},
	{"access key", func(f *fixture, when time.Time) ([]time.Time, error) {
		id := "AKIA" + f.id()
		if err := f.s.AccessKeyPut(f.ctx, seqstore.AccessKey{ID: id, Secret: "s", AccountID: accountA, CreatedAt: when}); err != nil {
			return nil, err
		}
		k, err := f.s.AccessKeyGet(f.ctx, id)
		if err != nil {
			return nil, err
		}
		return []time.Time{k.CreatedAt}, nil
	}},
	{"sequence store", func(f *fixture, when time.Time) ([]time.Time, error) {
		st := f.newSequenceStore(accountA, when)
		st.UpdatedAt = when
		if err := f.s.SequenceStoreCreate(f.ctx, st); err != nil {
			return nil, err
		}
		got, err := f.s.SequenceStoreGet(f.ctx, accountA, st.ID)
		if err != nil {
			return nil, err
		}
		return []time.Time{got.CreatedAt, got.UpdatedAt}, nil
	}},
	{"read set", func(f *fixture, when time.Time) ([]time.Time, error) {
		st := f.createSequenceStore(accountA, at(0))
		r := f.newReadSet(accountA, st.ID, when)
		r.UpdatedAt = when
		if err := f.s.ReadSetCreate(f.ctx, r); err != nil {
			return nil, err
		}
		got, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, r.ID)
		if err != nil {
			return nil, err
		}
		return []time.Time{got.CreatedAt, got.UpdatedAt}, nil
	}},
	{"upload and its part", func(f *fixture, when time.Time) ([]time.Time, error) {
		st := f.createSequenceStore(accountA, at(0))
		u := f.newUpload(accountA, st.ID, when)
		if err := f.s.UploadCreate(f.ctx, u); err != nil {
			return nil, err
		}
		got, err := f.s.UploadGet(f.ctx, accountA, st.ID, u.ID)
		if err != nil {
			return nil, err
		}
		if _, err := f.s.UploadPartPut(f.ctx, newPart(u.ID, seqstore.FileSource1, 1, when)); err != nil {
			return nil, err
		}
		parts, err := f.s.UploadPartsAll(f.ctx, u.ID)
		if err != nil || len(parts) != 1 {
			return nil, err
		}
		return []time.Time{got.CreatedAt, parts[0].CreatedAt, parts[0].UpdatedAt}, nil
	}},
	{"reference store", func(f *fixture, when time.Time) ([]time.Time, error) {
		st := f.newReferenceStore(accountA, when)
		if err := f.s.ReferenceStoreCreate(f.ctx, st); err != nil {
			return nil, err
		}
		got, err := f.s.ReferenceStoreGet(f.ctx, accountA, st.ID)
		if err != nil {
			return nil, err
		}
		return []time.Time{got.CreatedAt}, nil
	}},
	{"reference", func(f *fixture, when time.Time) ([]time.Time, error) {
		st := f.createReferenceStore(accountA, at(0))
		r := f.newReference(accountA, st.ID, when)
		r.UpdatedAt = when
		if err := f.s.ReferenceCreate(f.ctx, r); err != nil {
			return nil, err
		}
		got, err := f.s.ReferenceGet(f.ctx, accountA, st.ID, r.ID)
		if err != nil {
			return nil, err
		}
		return []time.Time{got.CreatedAt, got.UpdatedAt}, nil
	}},
	{"S3 access policy", func(f *fixture, when time.Time) ([]time.Time, error) {
		st := f.createSequenceStore(accountA, at(0))
		p := &seqstore.S3AccessPolicy{AccountID: accountA, AccessPointArn: "ap-" + st.ID, StoreID: st.ID, StoreType: "SEQUENCE_STORE", Policy: "{}", UpdatedAt: when}
		if err := f.s.S3AccessPolicyPut(f.ctx, p); err != nil {
			return nil, err
		}
		got, err := f.s.S3AccessPolicyGet(f.ctx, accountA, p.AccessPointArn)
		if err != nil {
			return nil, err
		}
		return []time.Time{got.UpdatedAt}, nil
	}},
	{"idempotency record", func(f *fixture, when time.Time) ([]time.Time, error) {
		rec := &meta.IdempotencyRecord{AccountID: accountA, Operation: "op", Token: f.id(), RequestHash: "h", CreatedAt: when}
		if _, err := f.s.IdempotencyClaim(f.ctx, rec); err != nil {
			return nil, err
		}
		got, err := f.s.IdempotencyClaim(f.ctx, rec)
		if err != nil || got == nil {
			return nil, err
		}
		return []time.Time{got.CreatedAt}, nil
	}},
}

var timeCases = []suiteCase{
	{"times come back in UTC at millisecond precision", func(t *testing.T, f *fixture) {
		// Half past an hour east of UTC, with sub-millisecond digits the
		// store must drop.
		zone := time.FixedZone("UTC+05:30", 5*3600+30*60)
		for _, c := range []struct {
			name string
			in   time.Time
		}{
			{"nanoseconds in another zone", time.Date(2024, 7, 8, 9, 10, 11, 123456789, zone)},
			{"a whole second in UTC", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
			{"one millisecond after the epoch", time.UnixMilli(1)},
			{"the last millisecond of a leap day", time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC)},
			{"a monotonic clock reading", time.Now()},
		} {
			want := time.UnixMilli(c.in.UnixMilli()).UTC()
			for _, e := range timeRoundTrips {
				t.Run(c.name+" on "+e.entity, func(t *testing.T) {
					got, err := e.trip(f.in(t), c.in)
					must(t, "round trip", err)
					if len(got) == 0 {
						t.Fatal("no times read back")
					}
					for i, g := range got {
						if g.Location() != time.UTC {
							t.Errorf("time %d is in %v, want UTC", i, g.Location())
						}
						if !g.Equal(want) {
							t.Errorf("time %d: got %v, want %v", i, g, want)
						}
					}
				})
			}
		}
	}},
}
