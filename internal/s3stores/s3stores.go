// Package s3stores shows sequence and reference stores to the S3 read
// endpoint (package s3read) in HealthOmics' layout: each store is the bucket
// named by its access-point alias, and each file of a read set or reference
// is the object {account}/sequenceStore/{storeId}/readSet/{readSetId}/{name}
// or {account}/referenceStore/{storeId}/reference/{referenceId}/{name}, the
// very s3Uri the omics API reports. ACTIVE read sets and references are
// readable; ARCHIVED and ACTIVATING read sets are listed and described as
// archived objects; anything else (uploading, failed, deleting) is not
// there. Reads go through the read-set and reference services, so stores
// with an sseConfig are decrypted and reads count for the archive clock.
package s3stores

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/arn"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/readset"
	"github.com/seqstore/seqstore/internal/reference"
	"github.com/seqstore/seqstore/internal/s3policy"
	"github.com/seqstore/seqstore/internal/s3read"
	"github.com/seqstore/seqstore/internal/service"
)

// Backend implements s3read.Backend over the stores.
type Backend struct {
	Meta       meta.Store
	ARN        arn.Builder
	ReadSets   *readset.Service
	References *reference.Service
	Log        *slog.Logger

	batch int // keys a listing pass keeps; 0: listBatch
}

var _ s3read.Backend = (*Backend)(nil)

// store is what a bucket's Ref holds.
type store struct {
	account, id string
	reference   bool
	prefix      string // the store's key prefix
}

// file is what an object's Ref holds.
type file struct {
	readSet *seqstore.ReadSet
	ref     *seqstore.Reference
	stored  seqstore.StoredFile
}

// listPage is how many read sets or references one metadata query returns
// while listing.
const listPage = 500

// Bucket resolves an access-point alias.
func (b *Backend) Bucket(ctx context.Context, name string) (*s3read.Bucket, error) {
	account, id, isRef, ok := arn.ParseS3Alias(name)
	if !ok {
		return nil, s3read.ErrNoSuchBucket
	}
	var err error
	if isRef {
		_, err = b.Meta.ReferenceStoreGet(ctx, account, id)
	} else {
		_, err = b.Meta.SequenceStoreGet(ctx, account, id)
	}
	if errors.Is(err, meta.ErrNotFound) {
		return nil, s3read.ErrNoSuchBucket
	}
	if err != nil {
		return nil, err
	}
	ap := b.ARN.S3AccessPoint(account, id)
	bk := &s3read.Bucket{Name: name, Owner: account, AccessPointArn: ap,
		Ref: &store{account: account, id: id, reference: isRef, prefix: arn.S3KeyPrefix(account, id, isRef)}}
	storeType := service.StoreTypeSequence
	if isRef {
		storeType = service.StoreTypeReference
	}
	p, err := b.Meta.S3AccessPolicyGet(ctx, account, ap)
	switch {
	case errors.Is(err, meta.ErrNotFound):
	case err != nil:
		return nil, err
	case p.StoreType != storeType:
		// A policy of the other kind of store with the same ID.
	default:
		policy, perr := s3policy.Parse(p.Policy)
		if perr != nil {
			// Stored before policies were checked: it grants nothing.
			b.Log.WarnContext(ctx, "the S3 access policy of a store cannot be evaluated and grants nothing; put it again", "accessPoint", ap, "err", perr)
		}
		bk.Policy = policy
	}
	return bk, nil
}

// Object describes one file.
func (b *Backend) Object(ctx context.Context, bk *s3read.Bucket, key string) (*s3read.Object, error) {
	st := bk.Ref.(*store)
	rest, ok := strings.CutPrefix(key, st.prefix)
	if !ok {
		return nil, s3read.ErrNoSuchKey
	}
	kind := arn.KindReadSet + "/"
	if st.reference {
		kind = arn.KindReference + "/"
	}
	rest, ok = strings.CutPrefix(rest, kind)
	id, name, _ := strings.Cut(rest, "/")
	if !ok || id == "" || name == "" || strings.Contains(name, "/") {
		return nil, s3read.ErrNoSuchKey
	}
	objs, err := b.filesOf(ctx, st, id)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if o.Key == key {
			return o, nil
		}
	}
	return nil, s3read.ErrNoSuchKey
}

// filesOf returns the objects of one read set or reference, none when it
// is missing or in no state to be seen.
func (b *Backend) filesOf(ctx context.Context, st *store, id string) ([]*s3read.Object, error) {
	if st.reference {
		ref, err := b.Meta.ReferenceGet(ctx, st.account, st.id, id)
		if errors.Is(err, meta.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return referenceObjects(ref), nil
	}
	rs, err := b.Meta.ReadSetGet(ctx, st.account, st.id, id)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return readSetObjects(rs), nil
}

func readSetObjects(rs *seqstore.ReadSet) []*s3read.Object {
	archived := false
	switch rs.Status {
	case seqstore.ReadSetStatusActive:
	case seqstore.ReadSetStatusArchived, seqstore.ReadSetStatusActivating:
		archived = true
	default:
		return nil
	}
	var out []*s3read.Object
	for _, f := range rs.Files {
		if f.Name == "" {
			continue
		}
		out = append(out, &s3read.Object{
			Key:          arn.ReadSetS3Key(rs.AccountID, rs.StoreID, rs.ID, f.Name),
			Size:         f.ContentLength,
			LastModified: rs.CreatedAt,
			ETag:         entityTag(f, rs.CreatedAt.UnixNano()),
			Archived:     archived,
			Ref:          &file{readSet: rs, stored: f},
		})
	}
	return out
}

func referenceObjects(ref *seqstore.Reference) []*s3read.Object {
	if ref.Status != seqstore.ReferenceStatusActive {
		return nil
	}
	var out []*s3read.Object
	for _, f := range ref.Files {
		if f.Name == "" {
			continue
		}
		out = append(out, &s3read.Object{
			Key:          arn.ReferenceS3Key(ref.AccountID, ref.StoreID, ref.ID, f.Name),
			Size:         f.ContentLength,
			LastModified: ref.CreatedAt,
			ETag:         entityTag(f, ref.CreatedAt.UnixNano()),
			Ref:          &file{ref: ref, stored: f},
		})
	}
	return out
}

// entityTag names one stored version of a file: its object key (which an
// activation may change, as S3 ETags change then), length and creation.
// It is 32 hex digits, the shape clients expect of a single-part ETag.
func entityTag(f seqstore.StoredFile, created int64) string {
	sum := sha256.Sum256([]byte(f.Key + "\x00" + strconv.FormatInt(f.ContentLength, 10) + "\x00" + strconv.FormatInt(created, 10)))
	return hex.EncodeToString(sum[:16])
}

// List visits a store's files in key order. A prefix that names one read
// set or reference reads that one alone. A wider one reads the store's
// records in passes, each keeping only the listBatch smallest keys after
// where the last pass ended, so memory stays bounded whatever the store
// holds; a pass costs a read of the store's records.
func (b *Backend) List(ctx context.Context, bk *s3read.Bucket, prefix, after string, fn func(*s3read.Object) error) error {
	st := bk.Ref.(*store)
	if !strings.HasPrefix(prefix, st.prefix) && !strings.HasPrefix(st.prefix, prefix) {
		return nil
	}
	kind := arn.KindReadSet + "/"
	if st.reference {
		kind = arn.KindReference + "/"
	}
	if rest, ok := strings.CutPrefix(prefix, st.prefix+kind); ok && strings.Contains(rest, "/") {
		id, _, _ := strings.Cut(rest, "/")
		objs, err := b.filesOf(ctx, st, id)
		if err != nil {
			return err
		}
		slices.SortFunc(objs, func(a, b *s3read.Object) int { return strings.Compare(a.Key, b.Key) })
		for _, o := range objs {
			if strings.HasPrefix(o.Key, prefix) && o.Key > after {
				if err := fn(o); err != nil {
					return stopped(err)
				}
			}
		}
		return nil
	}
	for {
		batch := &smallest{max: cmp.Or(b.batch, listBatch)}
		err := b.each(ctx, st, func(objs []*s3read.Object) {
			for _, o := range objs {
				if strings.HasPrefix(o.Key, prefix) && o.Key > after {
					batch.offer(o)
				}
			}
		})
		if err != nil {
			return err
		}
		for _, o := range batch.sorted() {
			if err := fn(o); err != nil {
				return stopped(err)
			}
			after = o.Key
		}
		if !batch.full {
			return nil
		}
	}
}

func stopped(err error) error {
	if err == s3read.ErrStop {
		return nil
	}
	return err
}

// listBatch is how many keys one pass of a listing keeps: a page of
// ListObjectsV2 and then some, so most pages take one pass.
const listBatch = 2048

// smallest keeps the max objects of smallest key it is offered, in a
// max-heap on the key.
type smallest struct {
	max  int
	heap []*s3read.Object
	// full is true once an object was turned away or dropped: there are
	// more after the kept ones.
	full bool
}

func (s *smallest) offer(o *s3read.Object) {
	if len(s.heap) < s.max {
		s.heap = append(s.heap, o)
		s.up(len(s.heap) - 1)
		return
	}
	s.full = true
	if o.Key >= s.heap[0].Key {
		return
	}
	s.heap[0] = o
	s.down(0)
}

func (s *smallest) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if s.heap[parent].Key >= s.heap[i].Key {
			return
		}
		s.heap[parent], s.heap[i] = s.heap[i], s.heap[parent]
		i = parent
	}
}

func (s *smallest) down(i int) {
	for {
		largest := i
		for _, c := range []int{2*i + 1, 2*i + 2} {
			if c < len(s.heap) && s.heap[c].Key > s.heap[largest].Key {
				largest = c
			}
		}
		if largest == i {
			return
		}
		s.heap[i], s.heap[largest] = s.heap[largest], s.heap[i]
		i = largest
	}
}

// sorted returns the kept objects in key order.
func (s *smallest) sorted() []*s3read.Object {
	slices.SortFunc(s.heap, func(a, b *s3read.Object) int { return strings.Compare(a.Key, b.Key) })
	return s.heap
}

// each hands the objects of every read set or reference of a store to
// keep, a page of records at a time.
func (b *Backend) each(ctx context.Context, st *store, keep func([]*s3read.Object)) error {
	page := meta.Page{Limit: listPage}
	for {
		var next string
		if st.reference {
			refs, n, err := b.Meta.ReferenceList(ctx, st.account, st.id, meta.ReferenceFilter{}, page)
			if err != nil {
				return err
			}
			for _, r := range refs {
				keep(referenceObjects(r))
			}
			next = n
		} else {
			sets, n, err := b.Meta.ReadSetList(ctx, st.account, st.id, meta.ReadSetFilter{}, page)
			if err != nil {
				return err
			}
			for _, rs := range sets {
				keep(readSetObjects(rs))
			}
			next = n
		}
		if next == "" {
			return nil
		}
		page.After = next
	}
}

// Open reads a range of a file and records the read.
func (b *Backend) Open(ctx context.Context, bk *s3read.Bucket, o *s3read.Object, offset, length int64) (io.ReadCloser, error) {
	f, ok := o.Ref.(*file)
	if !ok {
		return nil, fmt.Errorf("s3stores: object %s was not described by this backend", o.Key)
	}
	if f.readSet != nil {
		return b.ReadSets.OpenFileRange(ctx, f.readSet, f.stored, offset, length)
	}
	return b.References.OpenFileRange(ctx, f.ref, f.stored, offset, length)
}
