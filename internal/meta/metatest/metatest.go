// Package metatest is the conformance suite of the metadata store: one
// black-box test of the meta.Store contract that every driver must pass, so
// that SQLite and PostgreSQL (and any later driver) behave the same to the
// service above them. Driver packages call Run from their tests with a
// function that opens a fresh, empty store, and RunPersistence with one that
// reopens the same database; BenchmarkSequenceStoreGet and
// BenchmarkReadSetGet time the two lookups behind most API requests. The
// suite runs as well on a store that wraps another, such as a cache.
package metatest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

// Two accounts: every test writes as A, and B tries to reach A's things.
const (
	accountA = "111111111111"
	accountB = "222222222222"
)

// epoch is the suite's clock origin; times are whole milliseconds after it,
// since that is the precision the store keeps.
var epoch = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// at returns epoch plus ms milliseconds.
func at(ms int) time.Time { return epoch.Add(time.Duration(ms) * time.Millisecond) }

// suiteCase is one conformance test. Each runs on a store of its own.
type suiteCase struct {
	name string
	run  func(t *testing.T, f *fixture)
}

// Run runs the conformance suite. open must return a fresh, empty store for
// the test it is given and close it when that test ends.
func Run(t *testing.T, open func(t *testing.T) meta.Store) {
	var cases []suiteCase
	for _, group := range [][]suiteCase{
		accountCases, keyRotationCases, bearerTokenCases, sequenceStoreCases, readSetCases, lifecycleCases, uploadCases, referenceCases,
		tagCases, tagLimitCases, policyCases, idempotencyCases, idempotencyTakeoverCases, ingestCases, jobCases, pagingCases, isolationCases, parentCases, timeCases,
		sessionCases,
	} {
		cases = append(cases, group...)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, newFixture(t, open(t)))
		})
	}
}

// fixture is the state one test case works with.
type fixture struct {
	t    *testing.T
	s    meta.Store
	ctx  context.Context
	next *int // the last ID handed out, shared with subtests' fixtures
}

func newFixture(t *testing.T, s meta.Store) *fixture {
	f := &fixture{t: t, s: s, ctx: context.Background(), next: new(int)}
	for _, a := range []seqstore.Account{{ID: accountA, Name: "alice", CreatedAt: at(0)}, {ID: accountB, Name: "bob", CreatedAt: at(0)}} {
		if err := s.AccountPut(f.ctx, a); err != nil {
			t.Fatalf("AccountPut(%s): %v", a.ID, err)
		}
	}
	return f
}

// id returns a new 10-digit ID, the shape AWS gives stores and read sets.
// IDs are unique across the whole store, whatever the account.
func (f *fixture) id() string {
	*f.next++
	return fmt.Sprintf("%010d", 1000000000+*f.next)
}

// in returns the fixture for a subtest: the same store and IDs, reporting
// to t.
func (f *fixture) in(t *testing.T) *fixture {
	g := *f
	g.t = t
	return &g
}

// The constructors below fill every field, so that a round trip that drops
// or mixes up a column shows.

func (f *fixture) newSequenceStore(account string, created time.Time) *seqstore.SequenceStore {
	id := f.id()
	return &seqstore.SequenceStore{
		AccountID:              account,
		ID:                     id,
		Name:                   "store-" + id,
		Description:            "description of " + id,
		SSEType:                "KMS",
		SSEKeyArn:              "arn:aws:kms:us-east-1:" + account + ":key/" + id,
		ETagAlgorithmFamily:    "MD5up",
		FallbackLocation:       "s3://fallback/" + id,
		PropagatedSetLevelTags: []string{"project", "owner"},
		AccessLogLocation:      "s3://logs/" + id,
		Status:                 seqstore.StoreStatusActive,
		StatusMessage:          "ready",
		CreatedAt:              created,
		UpdatedAt:              created.Add(time.Millisecond),
	}
}

func (f *fixture) newReadSet(account, storeID string, created time.Time) *seqstore.ReadSet {
	id := f.id()
	return &seqstore.ReadSet{
		AccountID:     account,
		StoreID:       storeID,
		ID:            id,
		Name:          "readset-" + id,
		Description:   "reads of " + id,
		SubjectID:     "subject-1",
		SampleID:      "sample-1",
		Status:        seqstore.ReadSetStatusActive,
		StatusMessage: "ingested",
		FileType:      seqstore.FileTypeFASTQ,
		ReferenceArn:  "arn:aws:omics:us-east-1:" + account + ":referenceStore/9999999999/reference/8888888888",
		GeneratedFrom: "sequencer-1",
		CreationType:  seqstore.CreationTypeUpload,
		CreationJobID: "job-" + id,
		UploadID:      "upload-" + id,
		SequenceInformation: &seqstore.SequenceInformation{
			TotalReadCount: 1000, TotalBaseCount: 150000, GeneratedFrom: "sequencer-1", Alignment: "UNALIGNED",
		},
		ETag: &seqstore.ETag{Algorithm: "FASTQ_MD5up", Source1: "aa11", Source2: "bb22"},
		Files: []seqstore.StoredFile{
			{Kind: seqstore.FileSource1, Key: "rs/" + id + "/1", Name: "r_1.fastq.gz", ContentLength: 12345, PartSize: 100 << 20},
			{Kind: seqstore.FileSource2, Key: "rs/" + id + "/2", Name: "r_2.fastq.gz", ContentLength: 12346, PartSize: 100 << 20},
		},
		SourceParts: []seqstore.UploadPart{
			{UploadID: "upload-" + id, Source: seqstore.FileSource1, Number: 1, Size: 100, Checksum: "c1", Key: "parts/" + id + "/1", CreatedAt: created, UpdatedAt: created},
			{UploadID: "upload-" + id, Source: seqstore.FileSource2, Number: 1, Size: 101, Checksum: "c2", Key: "parts/" + id + "/2", CreatedAt: created, UpdatedAt: created},
		},
		Tags:       map[string]string{"project": "p1", "owner": "o1"},
		CreatedAt:  created,
		UpdatedAt:  created.Add(time.Millisecond),
		LastReadAt: created,
	}
}

// newUploadReadSet makes the read set that completes upload u, carrying
// the parts u holds now as its frozen list.
func (f *fixture) newUploadReadSet(u *seqstore.Upload, created time.Time) *seqstore.ReadSet {
	f.t.Helper()
	r := f.newReadSet(u.AccountID, u.StoreID, created)
	r.Status, r.UploadID, r.SourceParts = seqstore.ReadSetStatusProcessingUpload, u.ID, nil
	parts, err := f.s.UploadPartsAll(f.ctx, u.ID)
	must(f.t, "UploadPartsAll", err)
	for _, p := range parts {
		r.SourceParts = append(r.SourceParts, *p)
	}
	return r
}

func (f *fixture) newUpload(account, storeID string, created time.Time) *seqstore.Upload {
	id := f.id()
	return &seqstore.Upload{
		AccountID:      account,
		StoreID:        storeID,
		ID:             id,
		Status:         seqstore.UploadStatusInProgress,
		SourceFileType: seqstore.FileTypeBAM,
		SubjectID:      "subject-2",
		SampleID:       "sample-2",
		GeneratedFrom:  "sequencer-2",
		ReferenceArn:   "arn:aws:omics:us-east-1:" + account + ":referenceStore/9999999999/reference/7777777777",
		Name:           "upload-" + id,
		Description:    "upload " + id,
		Tags:           map[string]string{"k": "v"},
		CreatedAt:      created,
	}
}

func newPart(uploadID, source string, number int, created time.Time) *seqstore.UploadPart {
	return &seqstore.UploadPart{
		UploadID:  uploadID,
		Source:    source,
		Number:    number,
		Size:      int64(1000 + number),
		Checksum:  fmt.Sprintf("checksum-%s-%d", source, number),
		Key:       fmt.Sprintf("parts/%s/%s/%d", uploadID, source, number),
		CreatedAt: created,
		UpdatedAt: created,
	}
}

func (f *fixture) newReferenceStore(account string, created time.Time) *seqstore.ReferenceStore {
	id := f.id()
	return &seqstore.ReferenceStore{
		AccountID:   account,
		ID:          id,
		Name:        "refstore-" + id,
		Description: "references " + id,
		SSEType:     "KMS",
		SSEKeyArn:   "arn:aws:kms:us-east-1:" + account + ":key/" + id,
		CreatedAt:   created,
	}
}

func (f *fixture) newReference(account, storeID string, created time.Time) *seqstore.Reference {
	id := f.id()
	return &seqstore.Reference{
		AccountID:     account,
		StoreID:       storeID,
		ID:            id,
		Name:          "reference-" + id,
		Description:   "genome " + id,
		MD5:           "md5-" + id,
		Status:        seqstore.ReferenceStatusActive,
		CreationJobID: "job-" + id,
		Files: []seqstore.StoredFile{
			{Kind: seqstore.FileSource, Key: "ref/" + id + "/fa", Name: "ref.fa", ContentLength: 5000, PartSize: 100 << 20},
			{Kind: seqstore.FileIndex, Key: "ref/" + id + "/fai", Name: "ref.fa.fai", ContentLength: 50, PartSize: 100 << 20},
		},
		Sequences: []seqstore.ReferenceSequence{
			{Name: "chr1", Length: 4000, MD5: "0123456789abcdef0123456789abcdef"},
			{Name: "chrM", Length: 16, MD5: "fedcba9876543210fedcba9876543210"},
		},
		CreatedAt: created,
		UpdatedAt: created.Add(time.Millisecond),
	}
}

// The create helpers store what the constructors make and fail the test on
// any error.

func (f *fixture) createSequenceStore(account string, created time.Time) *seqstore.SequenceStore {
	f.t.Helper()
	st := f.newSequenceStore(account, created)
	must(f.t, "SequenceStoreCreate", f.s.SequenceStoreCreate(f.ctx, st))
	return st
}

func (f *fixture) createReadSet(account, storeID string, created time.Time, edit func(*seqstore.ReadSet)) *seqstore.ReadSet {
	f.t.Helper()
	r := f.newReadSet(account, storeID, created)
	if edit != nil {
		edit(r)
	}
	must(f.t, "ReadSetCreate", f.s.ReadSetCreate(f.ctx, r))
	return r
}

func (f *fixture) createUpload(account, storeID string, created time.Time) *seqstore.Upload {
	f.t.Helper()
	u := f.newUpload(account, storeID, created)
	must(f.t, "UploadCreate", f.s.UploadCreate(f.ctx, u))
	return u
}

func (f *fixture) putPart(p *seqstore.UploadPart) {
	f.t.Helper()
	replaced, err := f.s.UploadPartPut(f.ctx, p)
	must(f.t, "UploadPartPut", err)
	if replaced != nil {
		f.t.Fatalf("UploadPartPut of new part %s/%d replaced %+v", p.Source, p.Number, replaced)
	}
}

func (f *fixture) createReferenceStore(account string, created time.Time) *seqstore.ReferenceStore {
	f.t.Helper()
	st := f.newReferenceStore(account, created)
	must(f.t, "ReferenceStoreCreate", f.s.ReferenceStoreCreate(f.ctx, st))
	return st
}

func (f *fixture) createReference(account, storeID string, created time.Time, edit func(*seqstore.Reference)) *seqstore.Reference {
	f.t.Helper()
	r := f.newReference(account, storeID, created)
	if edit != nil {
		edit(r)
	}
	must(f.t, "ReferenceCreate", f.s.ReferenceCreate(f.ctx, r))
	return r
}

// race runs do(0) ... do(n-1) at once: every goroutine waits at a start
// line until all have been started, so that they contend rather than run
// one after another. It returns when all have finished.
func race(n int, do func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			do(i)
		})
	}
	close(start)
	wg.Wait()
}

// must fails the test now when err is not nil.
func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantErr checks that err matches want with errors.Is; a nil want asks for
// success.
func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

// equal compares got and want deeply and shows both as JSON when they
// differ.
func equal[T any](t testing.TB, what string, got, want T) bool {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return true
	}
	t.Errorf("%s:\n got  %s\n want %s", what, show(got), show(want))
	return false
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

// ids returns the IDs of items, in order.
func ids[T any](items []T, id func(T) string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}

func sequenceStoreID(s *seqstore.SequenceStore) string   { return s.ID }
func readSetID(r *seqstore.ReadSet) string               { return r.ID }
func uploadID(u *seqstore.Upload) string                 { return u.ID }
func referenceStoreID(s *seqstore.ReferenceStore) string { return s.ID }
func referenceID(r *seqstore.Reference) string           { return r.ID }
func partNumber(p *seqstore.UploadPart) string           { return fmt.Sprint(p.Number) }
