package metrics

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

// Meta wraps a metadata store so that every call is timed, and ingestion's
// claims and outcomes are counted: a read set claimed on a later attempt is
// a lease takeover, and the update that moves a read set out of
// PROCESSING_UPLOAD ends its ingestion. Methods added to meta.Store later
// pass through, untimed, until they are added here.
func (m *Metrics) Meta(next meta.Store) meta.Store {
	return &metaStore{Store: next, m: m, claims: map[string]claim{}, jobKinds: map[string]string{}}
}

type metaStore struct {
	meta.Store
	m *Metrics

	mu       sync.Mutex
	claims   map[string]claim  // read sets this node is ingesting, by ID
	jobKinds map[string]string // kinds of the jobs whose items this node claimed, by job ID
}

// claim is when this node claimed a read set, and its uploaded bytes.
type claim struct {
	at    time.Time
	bytes int64
}

// maxClaims bounds the claims remembered: a node ingests a few read sets at
// once, and a claim whose ingestion was cut short is never ended.
const maxClaims = 4096

func (d *metaStore) observe(op string, start time.Time, err *error) {
	d.m.metaLatency.WithLabelValues(op, metaOutcome(*err)).Observe(time.Since(start).Seconds())
}

func metaOutcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, meta.ErrNotFound):
		return "not_found"
	case errors.Is(err, meta.ErrConflict):
		return "conflict"
	}
	return "error"
}

func (d *metaStore) IngestClaim(ctx context.Context, owner string, now, leaseUntil time.Time) (rs *seqstore.ReadSet, attempt int, err error) {
	defer d.observe("IngestClaim", time.Now(), &err)
	rs, attempt, err = d.Store.IngestClaim(ctx, owner, now, leaseUntil)
	if err != nil {
		return rs, attempt, err
	}
	if attempt > 1 {
		d.m.takeovers.Inc()
	}
	var size int64
	for _, p := range rs.SourceParts {
		size += p.Size
	}
	d.mu.Lock()
	if len(d.claims) >= maxClaims {
		clear(d.claims)
	}
	d.claims[rs.ID] = claim{at: time.Now(), bytes: size}
	d.mu.Unlock()
	return rs, attempt, err
}

func (d *metaStore) ReadSetUpdate(ctx context.Context, r *seqstore.ReadSet, fromStatus string) (err error) {
	defer d.observe("ReadSetUpdate", time.Now(), &err)
	err = d.Store.ReadSetUpdate(ctx, r, fromStatus)
	if err != nil || fromStatus != seqstore.ReadSetStatusProcessingUpload || r.Status == fromStatus {
		return err
	}
	d.mu.Lock()
	c, ok := d.claims[r.ID]
	delete(d.claims, r.ID)
	d.mu.Unlock()
	if r.Status != seqstore.ReadSetStatusActive && r.Status != seqstore.ReadSetStatusUploadFailed {
		return nil // deleted while waiting or being ingested: no outcome
	}
	d.m.ingests.WithLabelValues(r.FileType, r.Status).Inc()
	if !ok {
		return nil // failed before it was ever claimed here (a bad upload)
	}
	took := time.Since(c.at)
	d.m.ingestTime.WithLabelValues(r.FileType, r.Status).Observe(took.Seconds())
	d.m.ingestBytes.WithLabelValues(r.FileType).Add(float64(c.bytes))
	if r.Status == seqstore.ReadSetStatusActive && took > 0 {
		d.m.ingestRate.WithLabelValues(r.FileType).Observe(float64(c.bytes) / took.Seconds())
	}
	return nil
}

func (d *metaStore) JobCreate(ctx context.Context, j *seqstore.Job) (err error) {
	defer d.observe("JobCreate", time.Now(), &err)
	if err = d.Store.JobCreate(ctx, j); err == nil {
		d.m.jobsStarted.WithLabelValues(j.Kind).Inc()
	}
	return err
}

func (d *metaStore) JobGet(ctx context.Context, accountID, storeID, kind, id string) (r0 *seqstore.Job, err error) {
	defer d.observe("JobGet", time.Now(), &err)
	return d.Store.JobGet(ctx, accountID, storeID, kind, id)
}

func (d *metaStore) JobList(ctx context.Context, accountID, storeID, kind string, f meta.JobFilter, p meta.Page) (items []*seqstore.Job, nextKey string, err error) {
	defer d.observe("JobList", time.Now(), &err)
	return d.Store.JobList(ctx, accountID, storeID, kind, f, p)
}

// JobItemClaim counts a claim on a later attempt as a lease takeover, as
// IngestClaim does for read sets.
func (d *metaStore) JobItemClaim(ctx context.Context, kinds []string, maxJobs int, owner string, now, leaseUntil time.Time) (c *meta.JobClaim, err error) {
	defer d.observe("JobItemClaim", time.Now(), &err)
	c, err = d.Store.JobItemClaim(ctx, kinds, maxJobs, owner, now, leaseUntil)
	if err != nil {
		return c, err
	}
	if c.Attempt > 1 {
		d.m.itemTakeovers.WithLabelValues(c.Job.Kind).Inc()
	}
	d.mu.Lock()
	if len(d.jobKinds) >= maxClaims {
		clear(d.jobKinds)
	}
	d.jobKinds[c.Job.ID] = c.Job.Kind
	d.mu.Unlock()
	return c, err
}

// jobKind is the kind of a job one of whose items this node claimed.
func (d *metaStore) jobKind(jobID string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if kind, ok := d.jobKinds[jobID]; ok {
		return kind
	}
	return "unknown"
}

func (d *metaStore) JobItemRenew(ctx context.Context, jobID string, index int, owner string, leaseUntil time.Time) (err error) {
	defer d.observe("JobItemRenew", time.Now(), &err)
	return d.Store.JobItemRenew(ctx, jobID, index, owner, leaseUntil)
}

func (d *metaStore) JobItemRelease(ctx context.Context, jobID string, index int, owner string) (err error) {
	defer d.observe("JobItemRelease", time.Now(), &err)
	return d.Store.JobItemRelease(ctx, jobID, index, owner)
}

// JobItemEnd counts the item's outcome by its job's kind, which the item
// itself does not carry: the kind is looked up among this node's claims.
func (d *metaStore) JobItemEnd(ctx context.Context, item *seqstore.JobItem, owner string, now time.Time) (err error) {
	defer d.observe("JobItemEnd", time.Now(), &err)
	if err = d.Store.JobItemEnd(ctx, item, owner, now); err == nil {
		d.m.jobItems.WithLabelValues(d.jobKind(item.JobID), item.Status).Inc()
	}
	return err
}

func (d *metaStore) AccountPut(ctx context.Context, a seqstore.Account) (err error) {
	defer d.observe("AccountPut", time.Now(), &err)
	return d.Store.AccountPut(ctx, a)
}

func (d *metaStore) AccountGet(ctx context.Context, id string) (r0 *seqstore.Account, err error) {
	defer d.observe("AccountGet", time.Now(), &err)
	return d.Store.AccountGet(ctx, id)
}

func (d *metaStore) AccountList(ctx context.Context) (r0 []seqstore.Account, err error) {
	defer d.observe("AccountList", time.Now(), &err)
	return d.Store.AccountList(ctx)
}

func (d *metaStore) AccessKeyPut(ctx context.Context, k seqstore.AccessKey) (err error) {
	defer d.observe("AccessKeyPut", time.Now(), &err)
	return d.Store.AccessKeyPut(ctx, k)
}

func (d *metaStore) AccessKeyGet(ctx context.Context, id string) (r0 *seqstore.AccessKey, err error) {
	defer d.observe("AccessKeyGet", time.Now(), &err)
	return d.Store.AccessKeyGet(ctx, id)
}

func (d *metaStore) AccessKeyList(ctx context.Context, accountID string) (r0 []seqstore.AccessKey, err error) {
	defer d.observe("AccessKeyList", time.Now(), &err)
	return d.Store.AccessKeyList(ctx, accountID)
}

func (d *metaStore) AccessKeyDelete(ctx context.Context, id string) (err error) {
	defer d.observe("AccessKeyDelete", time.Now(), &err)
	return d.Store.AccessKeyDelete(ctx, id)
}

func (d *metaStore) AccessKeyRotate(ctx context.Context, k seqstore.AccessKey, origin string) (retired []string, err error) {
	defer d.observe("AccessKeyRotate", time.Now(), &err)
	return d.Store.AccessKeyRotate(ctx, k, origin)
}

func (d *metaStore) SequenceStoreCreate(ctx context.Context, s *seqstore.SequenceStore) (err error) {
	defer d.observe("SequenceStoreCreate", time.Now(), &err)
	return d.Store.SequenceStoreCreate(ctx, s)
}

func (d *metaStore) SequenceStoreGet(ctx context.Context, accountID, id string) (r0 *seqstore.SequenceStore, err error) {
	defer d.observe("SequenceStoreGet", time.Now(), &err)
	return d.Store.SequenceStoreGet(ctx, accountID, id)
}

func (d *metaStore) SequenceStoreUpdate(ctx context.Context, s *seqstore.SequenceStore) (err error) {
	defer d.observe("SequenceStoreUpdate", time.Now(), &err)
	return d.Store.SequenceStoreUpdate(ctx, s)
}

func (d *metaStore) SequenceStoreDelete(ctx context.Context, accountID, id string) (err error) {
	defer d.observe("SequenceStoreDelete", time.Now(), &err)
	return d.Store.SequenceStoreDelete(ctx, accountID, id)
}

func (d *metaStore) SequenceStoreList(ctx context.Context, accountID string, f meta.SequenceStoreFilter, p meta.Page) (items []*seqstore.SequenceStore, nextKey string, err error) {
	defer d.observe("SequenceStoreList", time.Now(), &err)
	return d.Store.SequenceStoreList(ctx, accountID, f, p)
}

func (d *metaStore) ReadSetCreate(ctx context.Context, r *seqstore.ReadSet) (err error) {
	defer d.observe("ReadSetCreate", time.Now(), &err)
	return d.Store.ReadSetCreate(ctx, r)
}

func (d *metaStore) ReadSetGet(ctx context.Context, accountID, storeID, id string) (r0 *seqstore.ReadSet, err error) {
	defer d.observe("ReadSetGet", time.Now(), &err)
	return d.Store.ReadSetGet(ctx, accountID, storeID, id)
}

func (d *metaStore) ReadSetList(ctx context.Context, accountID, storeID string, f meta.ReadSetFilter, p meta.Page) (items []*seqstore.ReadSet, nextKey string, err error) {
	defer d.observe("ReadSetList", time.Now(), &err)
	return d.Store.ReadSetList(ctx, accountID, storeID, f, p)
}

func (d *metaStore) ReadSetDelete(ctx context.Context, accountID, storeID, id string) (err error) {
	defer d.observe("ReadSetDelete", time.Now(), &err)
	return d.Store.ReadSetDelete(ctx, accountID, storeID, id)
}

func (d *metaStore) ReadSetCountByReference(ctx context.Context, accountID, referenceArn string) (r0 int, err error) {
	defer d.observe("ReadSetCountByReference", time.Now(), &err)
	return d.Store.ReadSetCountByReference(ctx, accountID, referenceArn)
}

func (d *metaStore) IngestRenew(ctx context.Context, accountID, storeID, id, owner string, leaseUntil time.Time) (err error) {
	defer d.observe("IngestRenew", time.Now(), &err)
	return d.Store.IngestRenew(ctx, accountID, storeID, id, owner, leaseUntil)
}

func (d *metaStore) IngestRelease(ctx context.Context, accountID, storeID, id, owner string) (err error) {
	defer d.observe("IngestRelease", time.Now(), &err)
	return d.Store.IngestRelease(ctx, accountID, storeID, id, owner)
}

func (d *metaStore) UploadCreate(ctx context.Context, u *seqstore.Upload) (err error) {
	defer d.observe("UploadCreate", time.Now(), &err)
	return d.Store.UploadCreate(ctx, u)
}

func (d *metaStore) UploadGet(ctx context.Context, accountID, storeID, id string) (r0 *seqstore.Upload, err error) {
	defer d.observe("UploadGet", time.Now(), &err)
	return d.Store.UploadGet(ctx, accountID, storeID, id)
}

func (d *metaStore) UploadSetStatus(ctx context.Context, accountID, storeID, id, fromStatus, toStatus string) (err error) {
	defer d.observe("UploadSetStatus", time.Now(), &err)
	return d.Store.UploadSetStatus(ctx, accountID, storeID, id, fromStatus, toStatus)
}

func (d *metaStore) UploadComplete(ctx context.Context, u *seqstore.Upload, r *seqstore.ReadSet) (err error) {
	defer d.observe("UploadComplete", time.Now(), &err)
	return d.Store.UploadComplete(ctx, u, r)
}

func (d *metaStore) UploadList(ctx context.Context, accountID, storeID string, f meta.UploadFilter, p meta.Page) (items []*seqstore.Upload, nextKey string, err error) {
	defer d.observe("UploadList", time.Now(), &err)
	return d.Store.UploadList(ctx, accountID, storeID, f, p)
}

func (d *metaStore) UploadPartPut(ctx context.Context, part *seqstore.UploadPart) (replaced *seqstore.UploadPart, err error) {
	defer d.observe("UploadPartPut", time.Now(), &err)
	return d.Store.UploadPartPut(ctx, part)
}

func (d *metaStore) UploadPartList(ctx context.Context, uploadID string, f meta.UploadPartFilter, p meta.Page) (items []*seqstore.UploadPart, nextKey string, err error) {
	defer d.observe("UploadPartList", time.Now(), &err)
	return d.Store.UploadPartList(ctx, uploadID, f, p)
}

func (d *metaStore) UploadPartsAll(ctx context.Context, uploadID string) (r0 []*seqstore.UploadPart, err error) {
	defer d.observe("UploadPartsAll", time.Now(), &err)
	return d.Store.UploadPartsAll(ctx, uploadID)
}

func (d *metaStore) UploadPartsDelete(ctx context.Context, uploadID string) (err error) {
	defer d.observe("UploadPartsDelete", time.Now(), &err)
	return d.Store.UploadPartsDelete(ctx, uploadID)
}

func (d *metaStore) ReferenceStoreCreate(ctx context.Context, s *seqstore.ReferenceStore) (err error) {
	defer d.observe("ReferenceStoreCreate", time.Now(), &err)
	return d.Store.ReferenceStoreCreate(ctx, s)
}

func (d *metaStore) ReferenceStoreGet(ctx context.Context, accountID, id string) (r0 *seqstore.ReferenceStore, err error) {
	defer d.observe("ReferenceStoreGet", time.Now(), &err)
	return d.Store.ReferenceStoreGet(ctx, accountID, id)
}

func (d *metaStore) ReferenceStoreDelete(ctx context.Context, accountID, id string) (err error) {
	defer d.observe("ReferenceStoreDelete", time.Now(), &err)
	return d.Store.ReferenceStoreDelete(ctx, accountID, id)
}

func (d *metaStore) ReferenceStoreList(ctx context.Context, accountID string, name string, created meta.TimeRange, p meta.Page) (items []*seqstore.ReferenceStore, nextKey string, err error) {
	defer d.observe("ReferenceStoreList", time.Now(), &err)
	return d.Store.ReferenceStoreList(ctx, accountID, name, created, p)
}

func (d *metaStore) ReferenceCreate(ctx context.Context, r *seqstore.Reference) (err error) {
	defer d.observe("ReferenceCreate", time.Now(), &err)
	return d.Store.ReferenceCreate(ctx, r)
}

func (d *metaStore) ReferenceGet(ctx context.Context, accountID, storeID, id string) (r0 *seqstore.Reference, err error) {
	defer d.observe("ReferenceGet", time.Now(), &err)
	return d.Store.ReferenceGet(ctx, accountID, storeID, id)
}

func (d *metaStore) ReferenceUpdate(ctx context.Context, r *seqstore.Reference) (err error) {
	defer d.observe("ReferenceUpdate", time.Now(), &err)
	return d.Store.ReferenceUpdate(ctx, r)
}

func (d *metaStore) ReferenceSequencesSet(ctx context.Context, accountID, storeID, id string, seqs []seqstore.ReferenceSequence) (err error) {
	defer d.observe("ReferenceSequencesSet", time.Now(), &err)
	return d.Store.ReferenceSequencesSet(ctx, accountID, storeID, id, seqs)
}

func (d *metaStore) ReferenceDelete(ctx context.Context, accountID, storeID, id string) (err error) {
	defer d.observe("ReferenceDelete", time.Now(), &err)
	return d.Store.ReferenceDelete(ctx, accountID, storeID, id)
}

func (d *metaStore) ReferenceList(ctx context.Context, accountID, storeID string, f meta.ReferenceFilter, p meta.Page) (items []*seqstore.Reference, nextKey string, err error) {
	defer d.observe("ReferenceList", time.Now(), &err)
	return d.Store.ReferenceList(ctx, accountID, storeID, f, p)
}

func (d *metaStore) TagsSet(ctx context.Context, accountID, arn string, tags map[string]string) (err error) {
	defer d.observe("TagsSet", time.Now(), &err)
	return d.Store.TagsSet(ctx, accountID, arn, tags)
}

func (d *metaStore) TagsAdd(ctx context.Context, accountID, arn string, tags map[string]string, limit int) (total int, err error) {
	defer d.observe("TagsAdd", time.Now(), &err)
	return d.Store.TagsAdd(ctx, accountID, arn, tags, limit)
}

func (d *metaStore) TagsRemove(ctx context.Context, accountID, arn string, keys []string) (err error) {
	defer d.observe("TagsRemove", time.Now(), &err)
	return d.Store.TagsRemove(ctx, accountID, arn, keys)
}

func (d *metaStore) TagsGet(ctx context.Context, accountID, arn string) (r0 map[string]string, err error) {
	defer d.observe("TagsGet", time.Now(), &err)
	return d.Store.TagsGet(ctx, accountID, arn)
}

func (d *metaStore) TagsDeleteAll(ctx context.Context, accountID, arn string) (err error) {
	defer d.observe("TagsDeleteAll", time.Now(), &err)
	return d.Store.TagsDeleteAll(ctx, accountID, arn)
}

func (d *metaStore) S3AccessPolicyPut(ctx context.Context, p *seqstore.S3AccessPolicy) (err error) {
	defer d.observe("S3AccessPolicyPut", time.Now(), &err)
	return d.Store.S3AccessPolicyPut(ctx, p)
}

func (d *metaStore) S3AccessPolicyGet(ctx context.Context, accountID, accessPointArn string) (r0 *seqstore.S3AccessPolicy, err error) {
	defer d.observe("S3AccessPolicyGet", time.Now(), &err)
	return d.Store.S3AccessPolicyGet(ctx, accountID, accessPointArn)
}

func (d *metaStore) S3AccessPolicyDelete(ctx context.Context, accountID, accessPointArn string) (err error) {
	defer d.observe("S3AccessPolicyDelete", time.Now(), &err)
	return d.Store.S3AccessPolicyDelete(ctx, accountID, accessPointArn)
}

func (d *metaStore) IdempotencyClaim(ctx context.Context, rec *meta.IdempotencyRecord) (existing *meta.IdempotencyRecord, err error) {
	defer d.observe("IdempotencyClaim", time.Now(), &err)
	return d.Store.IdempotencyClaim(ctx, rec)
}

func (d *metaStore) IdempotencyFinish(ctx context.Context, accountID, operation, token string, response []byte) (err error) {
	defer d.observe("IdempotencyFinish", time.Now(), &err)
	return d.Store.IdempotencyFinish(ctx, accountID, operation, token, response)
}

func (d *metaStore) IdempotencyRelease(ctx context.Context, accountID, operation, token string) (err error) {
	defer d.observe("IdempotencyRelease", time.Now(), &err)
	return d.Store.IdempotencyRelease(ctx, accountID, operation, token)
}
