// Package meta defines the metadata store: the durable record of accounts,
// stores, read sets, uploads, references, tags, idempotency tokens and jobs. The
// interface is implemented once over SQL (package sqlmeta) for two drivers: an
// embedded SQLite file, the default, and PostgreSQL for several nodes sharing
// one database. Package metatest holds the suite every driver must pass.
//
// Every method that names a resource takes the owning account, so a caller
// can never reach another account's data by ID alone. Drivers translate their
// native errors into ErrNotFound and ErrConflict; callers use errors.Is.
package meta

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/seqstore/seqstore"
)

var (
	// ErrNotFound reports a missing resource.
	ErrNotFound = errors.New("meta: not found")
	// ErrConflict reports a duplicate ID, a failed status guard, or a
	// delete of something still in use.
	ErrConflict = errors.New("meta: conflict")
	// ErrPartsChanged reports an upload completion whose list of parts no
	// longer matches the parts stored: one was uploaded again meanwhile.
	// It is also an ErrConflict.
	ErrPartsChanged = fmt.Errorf("%w: the upload's parts changed", ErrConflict)
	// ErrKeyDeleted reports a put of an access key ID that was deleted:
	// a deleted ID stays deleted. It is also an ErrConflict.
	ErrKeyDeleted = fmt.Errorf("%w: the access key ID was deleted", ErrConflict)
	// ErrBadPageKey reports a Page.After that no list produced.
	ErrBadPageKey = errors.New("meta: malformed page key")
	// ErrTagLimit reports that TagsAdd would leave a resource with more
	// tags than the limit it was given.
	ErrTagLimit = errors.New("meta: too many tags")
)

// Page asks for one page of a list. Lists are ordered by creation time, then
// ID; After is the NextKey of the previous page ("" for the first).
type Page struct {
	After string
	Limit int
}

// TimeRange filters on a timestamp; zero bounds are open.
type TimeRange struct {
	After  time.Time // inclusive
	Before time.Time // inclusive
}

// Store is the whole metadata store.
type Store interface {
	Accounts
	BearerTokens
	SequenceStores
	ReadSets
	Uploads
	ReferenceStores
	References
	Tags
	S3AccessPolicies
	Idempotency
	Jobs
	ConsoleSessions
	Close() error
}

// ConsoleSession is a web console sign-in. Only a hash of its ID is
// stored: the ID is the browser's credential, and a copy of the database
// must not hand it out.
type ConsoleSession struct {
	IDHash      string
	CSRFToken   string
	AccountID   string
	AccessKeyID string
	CreatedAt   time.Time
	ExpiresAt   time.Time // the end of its lifetime
	LastSeenAt  time.Time
}

// ConsoleSessions keeps the web console's sessions, so that every node of a
// deployment honours a session any of them opened.
type ConsoleSessions interface {
	// ConsoleSessionPut stores a new session: ErrConflict if its IDHash
	// exists.
	ConsoleSessionPut(ctx context.Context, s ConsoleSession) error
	// ConsoleSessionGet returns a session: ErrNotFound if there is none.
	ConsoleSessionGet(ctx context.Context, idHash string) (*ConsoleSession, error)
	// ConsoleSessionTouch records a use at: LastSeenAt becomes at unless it
	// is later already. ErrNotFound if there is no such session.
	ConsoleSessionTouch(ctx context.Context, idHash string, at time.Time) error
	// ConsoleSessionDelete removes a session; ErrNotFound if there is none.
	ConsoleSessionDelete(ctx context.Context, idHash string) error
	// ConsoleSessionsPurge removes the sessions whose lifetime ended before
	// now or that were last seen before idleBefore, and says how many.
	ConsoleSessionsPurge(ctx context.Context, now, idleBefore time.Time) (int64, error)
}

// Accounts keeps accounts and their access keys.
type Accounts interface {
	AccountPut(ctx context.Context, a seqstore.Account) error // insert or update
	AccountGet(ctx context.Context, id string) (*seqstore.Account, error)
	AccountList(ctx context.Context) ([]seqstore.Account, error)
	// AccessKeyPut adds a key: ErrConflict if the ID exists, ErrKeyDeleted
	// if it existed once and was deleted, ErrNotFound if the account does
	// not exist.
	AccessKeyPut(ctx context.Context, k seqstore.AccessKey) error
	AccessKeyGet(ctx context.Context, id string) (*seqstore.AccessKey, error)
	AccessKeyList(ctx context.Context, accountID string) ([]seqstore.AccessKey, error)
	// AccessKeyDelete revokes a key for good: its ID is remembered, and
	// no put or rotation stores it again (ErrNotFound if there is no such
	// key).
	AccessKeyDelete(ctx context.Context, id string) error
	// AccessKeyRotate stores k as its account's one key from origin (such
	// as "environment"): in one transaction it deletes the account's other
	// keys from that origin and puts k, replacing a key with k's ID. Keys
	// of other origins stay. It returns the IDs it deleted, which, unlike
	// those of AccessKeyDelete, may be stored again. ErrKeyDeleted if k's
	// ID was deleted with AccessKeyDelete.
	AccessKeyRotate(ctx context.Context, k seqstore.AccessKey, origin string) (retired []string, err error)
}

// BearerToken is a token an operator issues to an account, which htsget
// and refget accept in place of a signature. The store keeps the SHA-256
// of its secret, never the secret.
type BearerToken struct {
	ID         string
	AccountID  string
	Name       string // the operator's label; may be empty
	SecretHash []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never expires
	RevokedAt  time.Time // zero: not revoked
}

// BearerTokens keeps bearer tokens.
type BearerTokens interface {
	// BearerTokenPut adds a token: ErrConflict if its ID exists,
	// ErrNotFound if its account does not exist.
	BearerTokenPut(ctx context.Context, t BearerToken) error
	// BearerTokenGet returns a token by ID, whichever account it acts for,
	// revoked or not.
	BearerTokenGet(ctx context.Context, id string) (*BearerToken, error)
	// BearerTokenList lists an account's tokens, revoked ones too, oldest
	// first.
	BearerTokenList(ctx context.Context, accountID string) ([]BearerToken, error)
	// BearerTokenRevoke marks a token revoked at the given time; revoking
	// it again keeps the first time. ErrNotFound if there is no such
	// token.
	BearerTokenRevoke(ctx context.Context, id string, at time.Time) error
}

// SequenceStoreFilter narrows SequenceStoreList.
type SequenceStoreFilter struct {
	Name    string // exact match when set
	Status  string
	Created TimeRange
	Updated TimeRange
}

// SequenceStores keeps sequence stores.
type SequenceStores interface {
	SequenceStoreCreate(ctx context.Context, s *seqstore.SequenceStore) error // ErrConflict if the ID exists
	SequenceStoreGet(ctx context.Context, accountID, id string) (*seqstore.SequenceStore, error)
	SequenceStoreUpdate(ctx context.Context, s *seqstore.SequenceStore) error
	// SequenceStoreDelete fails with ErrConflict while the store holds read
	// sets (in any status but DELETED) or uploads in progress; otherwise it
	// removes the store's DELETED read sets and finished uploads with it.
	// Children are created only in an existing store of their account
	// (ErrNotFound otherwise), so a delete racing a create never strands one.
	SequenceStoreDelete(ctx context.Context, accountID, id string) error
	SequenceStoreList(ctx context.Context, accountID string, f SequenceStoreFilter, p Page) (items []*seqstore.SequenceStore, nextKey string, err error)
}

// ReadSetFilter narrows ReadSetList; empty fields match everything, except
// that an empty Status leaves out DELETED read sets.
type ReadSetFilter struct {
	Name          string
	Status        string
	ReferenceArn  string
	SampleID      string
	SubjectID     string
	GeneratedFrom string
	CreationType  string
	Created       TimeRange
}

// ReadSets keeps read sets, including the lease that lets one node at a time
// ingest a read set.
type ReadSets interface {
	ReadSetCreate(ctx context.Context, r *seqstore.ReadSet) error // ErrConflict if the ID exists, ErrNotFound if the store does not
	ReadSetGet(ctx context.Context, accountID, storeID, id string) (*seqstore.ReadSet, error)
	// ReadSetUpdate writes every field of r, provided the stored status is
	// fromStatus; otherwise it returns ErrConflict and changes nothing.
	ReadSetUpdate(ctx context.Context, r *seqstore.ReadSet, fromStatus string) error
	ReadSetList(ctx context.Context, accountID, storeID string, f ReadSetFilter, p Page) (items []*seqstore.ReadSet, nextKey string, err error)
	// ReadSetDelete removes the row for good, its QC report with it.
	ReadSetDelete(ctx context.Context, accountID, storeID, id string) error
	// ReadSetQCPut stores a read set's quality-control report (JSON),
	// replacing any it had: ErrNotFound if the read set does not exist.
	ReadSetQCPut(ctx context.Context, accountID, storeID, id string, report []byte) error
	// ReadSetQCGet returns the report ReadSetQCPut stored: ErrNotFound if
	// there is none (or no such read set).
	ReadSetQCGet(ctx context.Context, accountID, storeID, id string) ([]byte, error)
	// ReadSetCountByReference counts read sets, in any account-visible
	// status but DELETED, that name the reference ARN.
	ReadSetCountByReference(ctx context.Context, accountID, referenceArn string) (int, error)
	// ReadSetTouch records that the read set's data was read at: its
	// LastReadAt becomes at unless it is later already. ErrNotFound if
	// there is no such read set.
	ReadSetTouch(ctx context.Context, accountID, storeID, id string, at time.Time) error
	// ReadSetsIdle returns up to limit ACTIVE read sets, across accounts,
	// whose LastReadAt is before before, the longest unread first.
	ReadSetsIdle(ctx context.Context, before time.Time, limit int) ([]*seqstore.ReadSet, error)
	// ReadSetsPurgeDeleted removes, across accounts, the rows of DELETED
	// read sets last updated (deleted) before before, and says how many.
	ReadSetsPurgeDeleted(ctx context.Context, before time.Time) (int64, error)
	// IngestClaim hands one read set in PROCESSING_UPLOAD whose ingest lease
	// is free or expired (at now) to owner until leaseUntil, across all
	// accounts; it returns ErrNotFound when there is none. Read sets made
	// by an import (creation type IMPORT) are never handed out: the
	// import's job item ingests them itself. Two callers never
	// get the same read set while a lease holds.
	//
	// The choice is fair across accounts: a read set of an account with
	// fewer ingestions running (leases held at now) and fewer read sets
	// waiting ahead of it goes first, the oldest among equals, so no
	// account's queue holds up another's.
	//
	// Each claim counts as an attempt, in the same transaction: attempt is
	// how often the read set has been claimed, this claim included, less
	// the claims given back with IngestRelease. A read set claimed again and
	// again was abandoned each time, by a node that crashed or hung.
	IngestClaim(ctx context.Context, owner string, now, leaseUntil time.Time) (rs *seqstore.ReadSet, attempt int, err error)
	// IngestRenew extends owner's lease; ErrConflict if owner lost it.
	IngestRenew(ctx context.Context, accountID, storeID, id, owner string, leaseUntil time.Time) error
	// IngestRelease frees owner's lease at once and takes back the attempt
	// its claim counted, for an ingestion stopped by a shutdown rather than
	// by the read set; ErrConflict if owner lost the lease.
	IngestRelease(ctx context.Context, accountID, storeID, id, owner string) error
}

// UploadFilter narrows UploadList.
type UploadFilter struct {
	Status string
}

// UploadPartFilter narrows UploadPartList.
type UploadPartFilter struct {
	Source  string // required: SOURCE1 or SOURCE2
	Created TimeRange
}

// Uploads keeps multipart uploads and their parts.
type Uploads interface {
	UploadCreate(ctx context.Context, u *seqstore.Upload) error // ErrConflict if the ID exists, ErrNotFound if the store does not
	UploadGet(ctx context.Context, accountID, storeID, id string) (*seqstore.Upload, error)
	// UploadSetStatus moves an upload from one status to another;
	// ErrConflict if it is not in fromStatus.
	UploadSetStatus(ctx context.Context, accountID, storeID, id, fromStatus, toStatus string) error
	// UploadComplete marks the upload COMPLETED and creates its read set in
	// one transaction; ErrConflict if the upload is no longer IN_PROGRESS,
	// ErrPartsChanged if the upload's stored parts are not those of
	// r.SourceParts (same sources, numbers, object keys and checksums).
	UploadComplete(ctx context.Context, u *seqstore.Upload, r *seqstore.ReadSet) error
	UploadList(ctx context.Context, accountID, storeID string, f UploadFilter, p Page) (items []*seqstore.Upload, nextKey string, err error)
	// UploadPartPut inserts or replaces a part and returns the part it
	// replaced (nil if none), so the caller can delete the old bytes;
	// ErrNotFound if the upload does not exist, ErrConflict if it is no
	// longer IN_PROGRESS. The status is checked in the same transaction as
	// the write, so no part lands in an upload once it is completed or
	// aborted.
	UploadPartPut(ctx context.Context, part *seqstore.UploadPart) (replaced *seqstore.UploadPart, err error)
	// UploadPartList lists parts in part-number order.
	UploadPartList(ctx context.Context, uploadID string, f UploadPartFilter, p Page) (items []*seqstore.UploadPart, nextKey string, err error)
	// UploadPartsAll returns every part of an upload, both sources, ordered
	// by source then part number.
	UploadPartsAll(ctx context.Context, uploadID string) ([]*seqstore.UploadPart, error)
	UploadPartsDelete(ctx context.Context, uploadID string) error
}

// ReferenceStores keeps reference stores.
type ReferenceStores interface {
	ReferenceStoreCreate(ctx context.Context, s *seqstore.ReferenceStore) error
	ReferenceStoreGet(ctx context.Context, accountID, id string) (*seqstore.ReferenceStore, error)
	// ReferenceStoreDelete fails with ErrConflict while the store holds
	// references that are not DELETED.
	ReferenceStoreDelete(ctx context.Context, accountID, id string) error
	ReferenceStoreList(ctx context.Context, accountID string, name string, created TimeRange, p Page) (items []*seqstore.ReferenceStore, nextKey string, err error)
}

// ReferenceFilter narrows ReferenceList.
type ReferenceFilter struct {
	Name    string
	MD5     string
	Created TimeRange
	// Sequence keeps the references holding a sequence whose MD5 or GA4GH
	// digest is this, exactly (seqstore.ReferenceSequence: lower-case hex,
	// or "SQ." and base64url).
	Sequence string
}

// References keeps references.
type References interface {
	ReferenceCreate(ctx context.Context, r *seqstore.Reference) error // ErrConflict if the ID exists, ErrNotFound if the store does not
	ReferenceGet(ctx context.Context, accountID, storeID, id string) (*seqstore.Reference, error)
	ReferenceUpdate(ctx context.Context, r *seqstore.Reference) error
	// ReferenceSequencesSet replaces the sequences of a reference that is
	// ACTIVE, and of no other: ErrNotFound when it is not (or no longer)
	// there and ACTIVE. It fills in what a reference imported by an older
	// version lacks without writing back the rest of a record read earlier.
	ReferenceSequencesSet(ctx context.Context, accountID, storeID, id string, seqs []seqstore.ReferenceSequence) error
	ReferenceDelete(ctx context.Context, accountID, storeID, id string) error
	// ReferenceList lists the references of one store, or of all the
	// account's stores when storeID is empty.
	ReferenceList(ctx context.Context, accountID, storeID string, f ReferenceFilter, p Page) (items []*seqstore.Reference, nextKey string, err error)
}

// Tags keeps resource tags by ARN.
type Tags interface {
	// TagsSet adds or overwrites tags on arn.
	TagsSet(ctx context.Context, accountID, arn string, tags map[string]string) error
	// TagsAdd is TagsSet for a resource that may carry at most limit tags:
	// it counts the tags arn would have and writes them in one
	// transaction, so concurrent calls never pass the limit together. It
	// returns that count; over the limit it writes nothing and returns an
	// error wrapping ErrTagLimit.
	TagsAdd(ctx context.Context, accountID, arn string, tags map[string]string, limit int) (total int, err error)
	TagsRemove(ctx context.Context, accountID, arn string, keys []string) error
	TagsGet(ctx context.Context, accountID, arn string) (map[string]string, error)
	// TagsDeleteAll removes every tag of arn and of the resources under it
	// (ARNs that start with arn + "/").
	TagsDeleteAll(ctx context.Context, accountID, arn string) error
}

// S3AccessPolicies keeps access-point policies.
type S3AccessPolicies interface {
	S3AccessPolicyPut(ctx context.Context, p *seqstore.S3AccessPolicy) error
	S3AccessPolicyGet(ctx context.Context, accountID, accessPointArn string) (*seqstore.S3AccessPolicy, error)
	S3AccessPolicyDelete(ctx context.Context, accountID, accessPointArn string) error
}

// JobFilter narrows JobList; empty fields match everything.
type JobFilter struct {
	Status  string
	Created TimeRange
}

// JobClaim is one job item handed to a worker, with the job it belongs to
// (without its items).
type JobClaim struct {
	Job  *seqstore.Job
	Item *seqstore.JobItem
	// Attempt is how often the item has been claimed, this claim
	// included, less the claims given back with JobItemRelease.
	Attempt int
}

// Jobs keeps durable jobs and their items, and the leases under which
// workers on any node do the items. A job's status follows its items: it is
// SUBMITTED until an item is first claimed, IN_PROGRESS until every item has
// ended, and then COMPLETED (every item FINISHED), FAILED (every item
// FAILED) or COMPLETED_WITH_FAILURES, with CompletedAt set, in the same
// transaction as the last item's end.
type Jobs interface {
	// JobCreate stores a job (status SUBMITTED) and its items (status
	// NOT_STARTED, indexes 0..n-1) in one transaction: ErrConflict if the ID
	// exists, ErrNotFound if the job's store does not exist (a sequence
	// store for read-set jobs).
	JobCreate(ctx context.Context, j *seqstore.Job) error
	// JobGet returns a job of the kind with its items in index order.
	JobGet(ctx context.Context, accountID, storeID, kind, id string) (*seqstore.Job, error)
	// JobList lists a store's jobs of one kind, without their items.
	JobList(ctx context.Context, accountID, storeID, kind string, f JobFilter, p Page) (items []*seqstore.Job, nextKey string, err error)
	// JobItemClaim hands owner, until leaseUntil, one item of a job of one
	// of kinds whose item is NOT_STARTED, or IN_PROGRESS with a lease that
	// ran out before now; ErrNotFound when there is none. The item becomes
	// IN_PROGRESS and its job IN_PROGRESS, and the claim counts as an
	// attempt, in the same transaction. Two callers never get the same item
	// while a lease holds. The choice is fair: items of accounts and jobs
	// with fewer items running go first; among equals the account, then
	// the job, served least recently (so they take turns even when nothing
	// else is running), then the oldest job's lowest index. So one large
	// job does not hold up the others. With maxJobs above zero, items of a
	// job not yet started are handed out only while fewer than maxJobs jobs
	// of kinds are IN_PROGRESS (on every node together). An item of a
	// reference import waits while an item of a reference import into the
	// same store runs under a live lease, on any node: a store imports one
	// reference at a time.
	JobItemClaim(ctx context.Context, kinds []string, maxJobs int, owner string, now, leaseUntil time.Time) (*JobClaim, error)
	// JobItemRenew extends owner's lease; ErrConflict if owner lost it or
	// the item ended.
	JobItemRenew(ctx context.Context, jobID string, index int, owner string, leaseUntil time.Time) error
	// JobItemRelease frees owner's lease at once and takes back the
	// attempt its claim counted, for work stopped by a shutdown; the item
	// stays IN_PROGRESS for the next claim. ErrConflict if owner lost it.
	JobItemRelease(ctx context.Context, jobID string, index int, owner string) error
	// JobItemEnd records an item's end (status FINISHED or FAILED, with its
	// StatusMessage and ReadSetID) while owner holds its lease, and ends the
	// job when this was its last open item, with CompletedAt = now.
	// ErrConflict if owner lost the lease or the item already ended.
	JobItemEnd(ctx context.Context, item *seqstore.JobItem, owner string, now time.Time) error
}

// IdempotencyRecord remembers a request made with a client token.
type IdempotencyRecord struct {
	AccountID   string
	Operation   string
	Token       string
	RequestHash string // a digest of the request's members, without the token
	Response    []byte // the JSON response, empty while the request runs
	CreatedAt   time.Time
	// AbandonedBefore is read by IdempotencyClaim only: an unfinished
	// claim created before it belongs to a request that will never finish
	// (its node died mid-request), and the new claim replaces it. Zero
	// never replaces a claim.
	AbandonedBefore time.Time
}

// Idempotency keeps client tokens.
type Idempotency interface {
	// IdempotencyClaim stores rec unless a record with the same account,
	// operation and token exists; then it returns that record instead and
	// stores nothing. An unfinished record created before
	// rec.AbandonedBefore does not count: rec replaces it.
	IdempotencyClaim(ctx context.Context, rec *IdempotencyRecord) (existing *IdempotencyRecord, err error)
	// IdempotencyFinish saves the response of a claimed token.
	IdempotencyFinish(ctx context.Context, accountID, operation, token string, response []byte) error
	// IdempotencyRelease forgets a claim whose request failed.
	IdempotencyRelease(ctx context.Context, accountID, operation, token string) error
}
