package metatest

import (
	"testing"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

// world is one of everything that account A owns.
type world struct {
	store      *seqstore.SequenceStore
	readSet    *seqstore.ReadSet
	upload     *seqstore.Upload
	part       *seqstore.UploadPart
	refStore   *seqstore.ReferenceStore
	reference  *seqstore.Reference
	key        seqstore.AccessKey
	tagArn     string
	tags       map[string]string
	policy     *seqstore.S3AccessPolicy
	idempotent *meta.IdempotencyRecord
	job        *seqstore.Job
}

const (
	isolationOp    = "CreateSequenceStore"
	isolationToken = "token-a"
)

// makeWorld stores one of everything for account.
func (f *fixture) makeWorld(account string) *world {
	w := &world{}
	w.store = f.createSequenceStore(account, at(1))
	w.readSet = f.createReadSet(account, w.store.ID, at(2), processing)
	w.upload = f.createUpload(account, w.store.ID, at(3))
	w.part = newPart(w.upload.ID, seqstore.FileSource1, 1, at(4))
	f.putPart(w.part)
	w.refStore = f.createReferenceStore(account, at(5))
	w.reference = f.createReference(account, w.refStore.ID, at(6), nil)
	w.key = seqstore.AccessKey{ID: "AKIA" + account, Secret: "s", AccountID: account, CreatedAt: at(7)}
	must(f.t, "AccessKeyPut", f.s.AccessKeyPut(f.ctx, w.key))
	w.tagArn = "arn:aws:omics:us-east-1:" + account + ":sequenceStore/" + w.store.ID
	w.tags = map[string]string{"owner": account}
	must(f.t, "TagsSet", f.s.TagsSet(f.ctx, account, w.tagArn, w.tags))
	w.policy = &seqstore.S3AccessPolicy{
		AccountID: account, AccessPointArn: "arn:aws:s3:us-east-1:" + account + ":accesspoint/" + w.store.ID,
		StoreID: w.store.ID, StoreType: "SEQUENCE_STORE", Policy: `{"owner":"` + account + `"}`, UpdatedAt: at(8),
	}
	must(f.t, "S3AccessPolicyPut", f.s.S3AccessPolicyPut(f.ctx, w.policy))
	w.idempotent = &meta.IdempotencyRecord{AccountID: account, Operation: isolationOp, Token: isolationToken, RequestHash: "hash-" + account, CreatedAt: at(9)}
	existing, err := f.s.IdempotencyClaim(f.ctx, w.idempotent)
	must(f.t, "IdempotencyClaim", err)
	if existing != nil {
		f.t.Fatalf("IdempotencyClaim found %+v", existing)
	}
	w.job = f.createJob(account, w.store.ID, seqstore.JobKindReadSetImport, at(10), 2)
	return w
}

// checkWorld fails the test unless w reads back exactly as it was made.
func (f *fixture) checkWorld(t *testing.T, w *world) {
	t.Helper()
	account := w.store.AccountID
	st, err := f.s.SequenceStoreGet(f.ctx, account, w.store.ID)
	must(t, "SequenceStoreGet", err)
	equal(t, "sequence store", st, w.store)
	rs, err := f.s.ReadSetGet(f.ctx, account, w.store.ID, w.readSet.ID)
	must(t, "ReadSetGet", err)
	equal(t, "read set", rs, w.readSet)
	u, err := f.s.UploadGet(f.ctx, account, w.store.ID, w.upload.ID)
	must(t, "UploadGet", err)
	equal(t, "upload", u, w.upload)
	parts, err := f.s.UploadPartsAll(f.ctx, w.upload.ID)
	must(t, "UploadPartsAll", err)
	equal(t, "upload parts", parts, []*seqstore.UploadPart{w.part})
	rst, err := f.s.ReferenceStoreGet(f.ctx, account, w.refStore.ID)
	must(t, "ReferenceStoreGet", err)
	equal(t, "reference store", rst, w.refStore)
	ref, err := f.s.ReferenceGet(f.ctx, account, w.refStore.ID, w.reference.ID)
	must(t, "ReferenceGet", err)
	equal(t, "reference", ref, w.reference)
	keys, err := f.s.AccessKeyList(f.ctx, account)
	must(t, "AccessKeyList", err)
	equal(t, "access keys", keys, []seqstore.AccessKey{w.key})
	f.wantTags(t, account, w.tagArn, w.tags)
	p, err := f.s.S3AccessPolicyGet(f.ctx, account, w.policy.AccessPointArn)
	must(t, "S3AccessPolicyGet", err)
	equal(t, "S3 access policy", p, w.policy)
	// A repeated claim shows the record without changing it.
	existing, err := f.s.IdempotencyClaim(f.ctx, &meta.IdempotencyRecord{AccountID: account, Operation: isolationOp, Token: isolationToken, RequestHash: "probe", CreatedAt: at(99)})
	must(t, "IdempotencyClaim", err)
	if existing == nil {
		t.Errorf("the idempotency token of account %s is gone", account)
	} else {
		equal(t, "idempotency record hash", existing.RequestHash, w.idempotent.RequestHash)
	}
	job, err := f.s.JobGet(f.ctx, account, w.store.ID, w.job.Kind, w.job.ID)
	must(t, "JobGet", err)
	equal(t, "job", job, w.job)
}

// asB returns a copy of a value of A's with B as its account.
func asB[T any](v *T, set func(*T)) *T {
	c := *v
	set(&c)
	return &c
}

var isolationCases = []suiteCase{
	{"account B can neither read nor change nor list account A's things", func(t *testing.T, f *fixture) {
		a := f.makeWorld(accountA)
		// B owns stores of its own, so its lists are not empty by accident.
		stB := f.createSequenceStore(accountB, at(1))
		refStB := f.createReferenceStore(accountB, at(1))
		forB := func(r *seqstore.ReadSet) { r.AccountID = accountB }
		completeB := f.newReadSet(accountB, a.store.ID, at(50))

		for _, c := range []struct {
			name string
			try  func() error
			want error
		}{
			{"get A's sequence store", func() error { _, err := f.s.SequenceStoreGet(f.ctx, accountB, a.store.ID); return err }, meta.ErrNotFound},
			{"update A's sequence store", func() error {
				return f.s.SequenceStoreUpdate(f.ctx, asB(a.store, func(s *seqstore.SequenceStore) { s.AccountID, s.Name = accountB, "stolen" }))
			}, meta.ErrNotFound},
			{"delete A's sequence store", func() error { return f.s.SequenceStoreDelete(f.ctx, accountB, a.store.ID) }, meta.ErrNotFound},
			{"get A's read set", func() error { _, err := f.s.ReadSetGet(f.ctx, accountB, a.store.ID, a.readSet.ID); return err }, meta.ErrNotFound},
			{"update A's read set", func() error {
				return f.s.ReadSetUpdate(f.ctx, asB(a.readSet, forB), seqstore.ReadSetStatusProcessingUpload)
			}, meta.ErrNotFound},
			{"delete A's read set", func() error { return f.s.ReadSetDelete(f.ctx, accountB, a.store.ID, a.readSet.ID) }, meta.ErrNotFound},
			{"renew a lease on A's read set", func() error {
				return f.s.IngestRenew(f.ctx, accountB, a.store.ID, a.readSet.ID, "", at(1000))
			}, meta.ErrConflict},
			{"release a lease on A's read set", func() error {
				return f.s.IngestRelease(f.ctx, accountB, a.store.ID, a.readSet.ID, "")
			}, meta.ErrConflict},
			{"get A's upload", func() error { _, err := f.s.UploadGet(f.ctx, accountB, a.store.ID, a.upload.ID); return err }, meta.ErrNotFound},
			{"abort A's upload", func() error {
				return f.s.UploadSetStatus(f.ctx, accountB, a.store.ID, a.upload.ID, seqstore.UploadStatusInProgress, seqstore.UploadStatusAborted)
			}, meta.ErrNotFound},
			{"complete A's upload", func() error {
				return f.s.UploadComplete(f.ctx, asB(a.upload, func(u *seqstore.Upload) { u.AccountID = accountB }), completeB)
			}, meta.ErrNotFound},
			{"get A's reference store", func() error { _, err := f.s.ReferenceStoreGet(f.ctx, accountB, a.refStore.ID); return err }, meta.ErrNotFound},
			{"delete A's reference store", func() error { return f.s.ReferenceStoreDelete(f.ctx, accountB, a.refStore.ID) }, meta.ErrNotFound},
			{"get A's reference", func() error {
				_, err := f.s.ReferenceGet(f.ctx, accountB, a.refStore.ID, a.reference.ID)
				return err
			}, meta.ErrNotFound},
			{"update A's reference", func() error {
				return f.s.ReferenceUpdate(f.ctx, asB(a.reference, func(r *seqstore.Reference) { r.AccountID, r.Name = accountB, "stolen" }))
			}, meta.ErrNotFound},
			{"delete A's reference", func() error { return f.s.ReferenceDelete(f.ctx, accountB, a.refStore.ID, a.reference.ID) }, meta.ErrNotFound},
			{"get A's S3 access policy", func() error {
				_, err := f.s.S3AccessPolicyGet(f.ctx, accountB, a.policy.AccessPointArn)
				return err
			}, meta.ErrNotFound},
			{"delete A's S3 access policy", func() error { return f.s.S3AccessPolicyDelete(f.ctx, accountB, a.policy.AccessPointArn) }, meta.ErrNotFound},
			{"get A's job", func() error {
				_, err := f.s.JobGet(f.ctx, accountB, a.store.ID, a.job.Kind, a.job.ID)
				return err
			}, meta.ErrNotFound},
			{"create a job in A's store", func() error {
				return f.s.JobCreate(f.ctx, f.newJob(accountB, a.store.ID, seqstore.JobKindReadSetExport, at(50), 1))
			}, meta.ErrNotFound},
			{"finish A's idempotency token", func() error {
				return f.s.IdempotencyFinish(f.ctx, accountB, isolationOp, isolationToken, []byte("{}"))
			}, meta.ErrNotFound},
			// The writes below succeed in B's own space and leave A's alone.
			{"set tags on A's ARN", func() error {
				return f.s.TagsSet(f.ctx, accountB, a.tagArn, map[string]string{"owner": "b", "extra": "b"})
			}, nil},
			{"remove tags from A's ARN", func() error { return f.s.TagsRemove(f.ctx, accountB, a.tagArn, []string{"owner"}) }, nil},
			{"delete all tags under A's ARN", func() error { return f.s.TagsDeleteAll(f.ctx, accountB, a.tagArn) }, nil},
			{"put a policy on A's access point ARN", func() error {
				return f.s.S3AccessPolicyPut(f.ctx, asB(a.policy, func(p *seqstore.S3AccessPolicy) { p.AccountID, p.Policy = accountB, "{}" }))
			}, nil},
			{"release A's idempotency token", func() error { return f.s.IdempotencyRelease(f.ctx, accountB, isolationOp, isolationToken) }, nil},
			{"claim A's idempotency token as a new one", func() error {
				existing, err := f.s.IdempotencyClaim(f.ctx, &meta.IdempotencyRecord{AccountID: accountB, Operation: isolationOp, Token: isolationToken, RequestHash: "b", CreatedAt: at(60)})
				if err == nil && existing != nil {
					t.Errorf("B's claim found %+v", existing)
				}
				return err
			}, nil},
		} {
			wantErr(t, "B tries to "+c.name, c.try(), c.want)
		}
		_, err := f.s.ReadSetGet(f.ctx, accountB, a.store.ID, completeB.ID)
		wantErr(t, "the read set of B's completion of A's upload", err, meta.ErrNotFound)

		lists := []struct {
			name string
			list func() ([]string, error)
			want []string
		}{
			{"sequence stores", func() ([]string, error) {
				items, _, err := f.s.SequenceStoreList(f.ctx, accountB, meta.SequenceStoreFilter{}, meta.Page{})
				return ids(items, sequenceStoreID), err
			}, []string{stB.ID}},
			{"read sets in A's store", func() ([]string, error) {
				items, _, err := f.s.ReadSetList(f.ctx, accountB, a.store.ID, meta.ReadSetFilter{}, meta.Page{})
				return ids(items, readSetID), err
			}, []string{}},
			{"read sets awaiting ingestion in A's store", func() ([]string, error) {
				items, _, err := f.s.ReadSetList(f.ctx, accountB, a.store.ID, meta.ReadSetFilter{Status: seqstore.ReadSetStatusProcessingUpload}, meta.Page{})
				return ids(items, readSetID), err
			}, []string{}},
			{"uploads in A's store", func() ([]string, error) {
				items, _, err := f.s.UploadList(f.ctx, accountB, a.store.ID, meta.UploadFilter{}, meta.Page{})
				return ids(items, uploadID), err
			}, []string{}},
			{"jobs in A's store", func() ([]string, error) {
				items, _, err := f.s.JobList(f.ctx, accountB, a.store.ID, a.job.Kind, meta.JobFilter{}, meta.Page{})
				return ids(items, jobID), err
			}, []string{}},
			{"reference stores", func() ([]string, error) {
				items, _, err := f.s.ReferenceStoreList(f.ctx, accountB, "", meta.TimeRange{}, meta.Page{})
				return ids(items, referenceStoreID), err
			}, []string{refStB.ID}},
			{"references in A's reference store", func() ([]string, error) {
				items, _, err := f.s.ReferenceList(f.ctx, accountB, a.refStore.ID, meta.ReferenceFilter{}, meta.Page{})
				return ids(items, referenceID), err
			}, []string{}},
			{"access keys", func() ([]string, error) {
				keys, err := f.s.AccessKeyList(f.ctx, accountB)
				return ids(keys, func(k seqstore.AccessKey) string { return k.ID }), err
			}, []string{}},
		}
		for _, l := range lists {
			got, err := l.list()
			must(t, "B lists "+l.name, err)
			equal(t, "B lists "+l.name, got, l.want)
		}
		n, err := f.s.ReadSetCountByReference(f.ctx, accountB, a.readSet.ReferenceArn)
		must(t, "ReadSetCountByReference", err)
		equal(t, "B's count of read sets naming A's reference", n, 0)

		f.checkWorld(t, a)
		// A's read set still awaits ingestion and nobody holds its lease.
		claimed, _, err := f.s.IngestClaim(f.ctx, "probe", at(100), at(101))
		must(t, "IngestClaim", err)
		equal(t, "claimable read set", claimed.ID, a.readSet.ID)
	}},
	{"two accounts' worlds live side by side", func(t *testing.T, f *fixture) {
		a := f.makeWorld(accountA)
		b := f.makeWorld(accountB)
		f.checkWorld(t, a)
		f.checkWorld(t, b)
	}},
}
