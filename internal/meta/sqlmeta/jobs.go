package sqlmeta

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

const jobColumns = `id, account_id, store_id, kind, status, status_message, role_arn, destination, created_at, completed_at`

func scanJob(row scanner) (*seqstore.Job, error) {
	var j seqstore.Job
	var created, completed int64
	if err := row.Scan(&j.ID, &j.AccountID, &j.StoreID, &j.Kind, &j.Status, &j.StatusMessage, &j.RoleArn, &j.Destination,
		&created, &completed); err != nil {
		return nil, translate(err)
	}
	j.CreatedAt, j.CompletedAt = fromMillis(created), fromMillis(completed)
	return &j, nil
}

const jobItemColumns = `job_id, item_index, status, status_message, spec, read_set_id, updated_at`

func scanJobItem(row scanner) (*seqstore.JobItem, error) {
	return scanJobItemAnd(row)
}

// scanJobItemAnd scans an item's columns followed by extra ones.
func scanJobItemAnd(row scanner, extra ...any) (*seqstore.JobItem, error) {
	var it seqstore.JobItem
	var updated int64
	dest := []any{&it.JobID, &it.Index, &it.Status, &it.StatusMessage, &it.Spec, &it.ReadSetID, &updated}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, translate(err)
	}
	if len(it.Spec) == 0 {
		it.Spec = nil
	}
	it.UpdatedAt = fromMillis(updated)
	return &it, nil
}

// jobStoreTable names the table of the store a job of the kind works in.
// A job has no foreign key to its store, since the table depends on the
// kind: JobCreate checks the store instead, and a store's delete takes its
// jobs with it.
func jobStoreTable(kind string) (string, error) {
	switch kind {
	case seqstore.JobKindReadSetImport, seqstore.JobKindReadSetExport,
		seqstore.JobKindReadSetActivation, seqstore.JobKindReadSetArchive:
		return "sequence_stores", nil
	case seqstore.JobKindReferenceImport:
		return "reference_stores", nil
	}
	return "", fmt.Errorf("sqlmeta: jobs of kind %q belong to no kind of store this version knows", kind)
}

// JobCreate stores a job as SUBMITTED with its items NOT_STARTED, numbered
// from 0 in the order given, and sets those statuses and numbers in j. The
// job's store is read under a shared lock (on PostgreSQL; SQLite's
// transaction holds the write lock), so a store delete either comes first
// and the job is refused, or waits and deletes the job with the store.
func (s *Store) JobCreate(ctx context.Context, j *seqstore.Job) error {
	table, err := jobStoreTable(j.Kind)
	if err != nil {
		return err
	}
	j.Status, j.CompletedAt = seqstore.JobStatusSubmitted, time.Time{}
	for i := range j.Items {
		it := &j.Items[i]
		it.JobID, it.Index, it.Status = j.ID, i, seqstore.JobItemStatusNotStarted
	}
	return s.tx(ctx, func(t *txRunner) error {
		var one int
		if err := t.queryRow(ctx, `SELECT 1 FROM `+table+` WHERE account_id = $1 AND id = $2`+s.d.forShare, j.AccountID, j.StoreID).Scan(&one); err != nil {
			return translate(err)
		}
		if _, err := t.exec(ctx, `INSERT INTO jobs (`+jobColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			j.ID, j.AccountID, j.StoreID, j.Kind, j.Status, j.StatusMessage, j.RoleArn, j.Destination, millis(j.CreatedAt), int64(0)); err != nil {
			return err
		}
		for _, it := range j.Items {
			spec := it.Spec
			if spec == nil {
				spec = []byte{}
			}
			if _, err := t.exec(ctx, `INSERT INTO job_items (`+jobItemColumns+`, account_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				it.JobID, it.Index, it.Status, it.StatusMessage, spec, it.ReadSetID, millis(it.UpdatedAt), j.AccountID); err != nil {
				return err
			}
		}
		return nil
	})
}

// JobGet returns a job of the account, store and kind with its items. The
// job is read before its items, so the items are never older than the
// job's status.
func (s *Store) JobGet(ctx context.Context, accountID, storeID, kind, id string) (*seqstore.Job, error) {
	j, err := scanJob(s.read.queryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE account_id = $1 AND store_id = $2 AND kind = $3 AND id = $4`,
		accountID, storeID, kind, id))
	if err != nil {
		return nil, err
	}
	rows, err := s.read.query(ctx, `SELECT `+jobItemColumns+` FROM job_items WHERE job_id = $1 ORDER BY item_index`, id)
	items, err := collect(rows, err, scanJobItem)
	if err != nil {
		return nil, err
	}
	j.Items = make([]seqstore.JobItem, len(items))
	for i, it := range items {
		j.Items[i] = *it
	}
	return j, nil
}

// JobList lists a store's jobs of one kind, without their items.
func (s *Store) JobList(ctx context.Context, accountID, storeID, kind string, f meta.JobFilter, p meta.Page) ([]*seqstore.Job, string, error) {
	var w where
	w.eq("account_id", accountID)
	w.eq("store_id", storeID)
	w.eq("kind", kind)
	w.eq("status", f.Status)
	w.timeRange("created_at", f.Created)
	if err := w.after(p.After); err != nil {
		return nil, "", err
	}
	rows, err := s.read.query(ctx, `SELECT `+jobColumns+` FROM jobs`+w.String()+orderPage(p), w.args...)
	items, err := collect(rows, err, scanJob)
	if err != nil {
		return nil, "", err
	}
	items, next := trimPage(items, pageLimit(p), func(j *seqstore.Job) string { return pageKey(j.CreatedAt, j.ID) })
	return items, next, nil
}

// nextJobItem picks the item a claim takes ($1: the item status
// IN_PROGRESS, $2: now in unix milliseconds, $3: NOT_STARTED, $4 and $5:
// the job statuses SUBMITTED and IN_PROGRESS, the first %s: the kinds'
// placeholders from $6, the second: the limit on jobs at once, if any),
// fairly. The items of accounts and jobs with the fewest items
// running (under a lease that holds at now) go first. Among equals, the
// account and then the job whose item was claimed least recently go first
// (last_served, a counter every claim raises), so that accounts, and each
// account's jobs, take turns even on a node with one worker, where nothing
// else is running at any claim. Then the oldest job's lowest index.
//
// An item is open while NOT_STARTED, or IN_PROGRESS under a lease that ran
// out before now (its node died, or gave the lease back).
const nextJobItem = `SELECT i.job_id, i.item_index FROM job_items i
	JOIN jobs j ON j.id = i.job_id
	JOIN (SELECT account_id, MAX(last_served) AS served FROM jobs
		WHERE status = $4 OR status = $5 GROUP BY account_id) sa ON sa.account_id = i.account_id
	LEFT JOIN (SELECT job_id, COUNT(*) AS running FROM job_items
		WHERE status = $1 AND lease_until >= $2 GROUP BY job_id) rj ON rj.job_id = i.job_id
	LEFT JOIN (SELECT account_id, COUNT(*) AS running FROM job_items
		WHERE status = $1 AND lease_until >= $2 GROUP BY account_id) ra ON ra.account_id = i.account_id
	WHERE (i.status = $3 OR (i.status = $1 AND i.lease_until < $2)) AND j.kind IN (%s)%s
		AND NOT (j.kind = '` + seqstore.JobKindReferenceImport + `' AND EXISTS (` + runningReferenceImport + `))
	ORDER BY COALESCE(ra.running, 0) + COALESCE(rj.running, 0), sa.served, j.last_served, j.created_at, j.id, i.item_index
	LIMIT 1`

// runningReferenceImport finds an item of a reference import into j's
// store that runs under a live lease: HealthOmics imports one reference at
// a time into a store, and the claim keeps to that on every node together.
const runningReferenceImport = `SELECT 1 FROM job_items oi JOIN jobs oj ON oj.id = oi.job_id
	WHERE oj.store_id = j.store_id AND oj.kind = '` + seqstore.JobKindReferenceImport + `' AND oi.status = $1 AND oi.lease_until >= $2`

// maxClaimRetries bounds how often a claim looks again after the item it
// picked was taken by another node between the pick and the lock.
const maxClaimRetries = 3

// JobItemClaim leases the item nextJobItem picks, in one transaction with
// the item's new status and attempt count and its job's IN_PROGRESS and
// last_served. On SQLite the transaction holds the database's write lock
// from its start, so no other claim, of this process or another, reads in
// between. On PostgreSQL the pick locks the item, skipping items other
// nodes are claiming this instant (FOR UPDATE SKIP LOCKED), and the update
// checks again that it is open; an item taken between the statement's
// snapshot and the lock is passed over and the pick runs again.
//
// With maxJobs above zero, an item of a job still SUBMITTED is taken only
// while fewer than maxJobs jobs of kinds are IN_PROGRESS, so the jobs
// started beyond the limit wait their turn instead of all moving at once.
// On PostgreSQL such claims take one advisory lock first, so two nodes do
// not both start the last job the limit allows.
//
// An item of a reference import is passed over while another item of a
// reference import into the same store runs (awaitReferenceTurn closes
// the gap between two nodes on PostgreSQL).
func (s *Store) JobItemClaim(ctx context.Context, kinds []string, maxJobs int, owner string, now, leaseUntil time.Time) (*meta.JobClaim, error) {
	if len(kinds) == 0 {
		return nil, meta.ErrNotFound
	}
	args := []any{seqstore.JobItemStatusInProgress, now.UnixMilli(), seqstore.JobItemStatusNotStarted,
		seqstore.JobStatusSubmitted, seqstore.JobStatusInProgress}
	marks := make([]string, len(kinds))
	for i, k := range kinds {
		args = append(args, k)
		marks[i] = fmt.Sprintf("$%d", len(args))
	}
	kindList := strings.Join(marks, ", ")
	limit := ""
	if maxJobs > 0 {
		args = append(args, maxJobs)
		limit = fmt.Sprintf(` AND (j.status = $5 OR (SELECT COUNT(*) FROM jobs WHERE status = $5 AND kind IN (%s)) < $%d)`, kindList, len(args))
	}
	pick := fmt.Sprintf(nextJobItem, kindList, limit)
	if s.d == &postgresDialect {
		pick += ` FOR UPDATE OF i SKIP LOCKED`
	}
	var claim *meta.JobClaim
	for range maxClaimRetries {
		err := s.tx(ctx, func(t *txRunner) error {
			claim = nil
			if maxJobs > 0 && s.d == &postgresDialect {
				if _, err := t.exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('seqstore job starts', 0))`); err != nil {
					return err
				}
			}
			var jobID string
			var index int
			if err := t.queryRow(ctx, pick, args...).Scan(&jobID, &index); err != nil {
				return translate(err)
			}
			if s.d == &postgresDialect {
				if err := s.awaitReferenceTurn(ctx, t, jobID, now); err != nil {
					return err
				}
			}
			var attempt int
			item, err := scanJobItemAnd(t.queryRow(ctx, `UPDATE job_items SET status = $1, lease_owner = $4, lease_until = $5,
				attempts = attempts + 1, updated_at = $2
				WHERE job_id = $6 AND item_index = $7 AND (status = $3 OR (status = $1 AND lease_until < $2))
				RETURNING `+jobItemColumns+`, attempts`,
				seqstore.JobItemStatusInProgress, now.UnixMilli(), seqstore.JobItemStatusNotStarted, owner, leaseUntil.UnixMilli(),
				jobID, index), &attempt)
			if errors.Is(err, meta.ErrNotFound) {
				return errTaken
			}
			if err != nil {
				return err
			}
			job, err := scanJob(t.queryRow(ctx, `UPDATE jobs SET
				status = CASE WHEN status = $2 THEN $3 ELSE status END,
				last_served = (SELECT COALESCE(MAX(last_served), 0) + 1 FROM jobs)
				WHERE id = $1 RETURNING `+jobColumns,
				jobID, seqstore.JobStatusSubmitted, seqstore.JobStatusInProgress))
			if err != nil {
				return err
			}
			claim = &meta.JobClaim{Job: job, Item: item, Attempt: attempt}
			return nil
		})
		if !errors.Is(err, errTaken) {
			return claim, err
		}
	}
	return nil, meta.ErrNotFound
}

// awaitReferenceTurn makes a PostgreSQL claim of a reference import item
// take the store's advisory lock and look again for another import of the
// store running: two nodes may pick items of one store in the same
// instant, each before the other's claim commits. The lock lasts to the end
// of the claim's transaction; the second to take it sees the first's claim
// and picks again (errTaken), now passing the store over.
func (s *Store) awaitReferenceTurn(ctx context.Context, t *txRunner, jobID string, now time.Time) error {
	var kind, storeID string
	if err := t.queryRow(ctx, `SELECT kind, store_id FROM jobs WHERE id = $1`, jobID).Scan(&kind, &storeID); err != nil {
		return translate(err)
	}
	if kind != seqstore.JobKindReferenceImport {
		return nil
	}
	if _, err := t.exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('seqstore reference import ' || $1::text, 0))`, storeID); err != nil {
		return err
	}
	var running int
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM job_items ri JOIN jobs rj ON rj.id = ri.job_id
		WHERE rj.store_id = $1 AND rj.kind = $2 AND ri.status = $3 AND ri.lease_until >= $4`,
		storeID, seqstore.JobKindReferenceImport, seqstore.JobItemStatusInProgress, now.UnixMilli()).Scan(&running)
	if err != nil {
		return err
	}
	if running > 0 {
		return errTaken
	}
	return nil
}

// errTaken reports an item another node claimed between a claim's pick and
// its update.
var errTaken = errors.New("sqlmeta: the job item was claimed meanwhile")

// JobItemRenew moves owner's lease to leaseUntil; ErrConflict if owner no
// longer holds it or the item ended. A free lease (after JobItemRelease)
// has the owner "", which names no one: no call with owner "" matches it.
func (s *Store) JobItemRenew(ctx context.Context, jobID string, index int, owner string, leaseUntil time.Time) error {
	err := affected(s.write.exec(ctx, `UPDATE job_items SET lease_until = $4
		WHERE job_id = $1 AND item_index = $2 AND lease_owner = $3 AND lease_owner <> '' AND status = $5`,
		jobID, index, owner, leaseUntil.UnixMilli(), seqstore.JobItemStatusInProgress))
	if errors.Is(err, meta.ErrNotFound) {
		return conflictf("%s does not hold the lease of item %d of job %s", owner, index, jobID)
	}
	return err
}

// JobItemRelease frees owner's lease at once and takes back the attempt its
// claim counted; the item stays IN_PROGRESS, open to the next claim.
// ErrConflict if owner no longer holds the lease or the item ended.
func (s *Store) JobItemRelease(ctx context.Context, jobID string, index int, owner string) error {
	err := affected(s.write.exec(ctx, `UPDATE job_items SET lease_owner = '', lease_until = 0,
		attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
		WHERE job_id = $1 AND item_index = $2 AND lease_owner = $3 AND lease_owner <> '' AND status = $4`,
		jobID, index, owner, seqstore.JobItemStatusInProgress))
	if errors.Is(err, meta.ErrNotFound) {
		return conflictf("%s does not hold the lease of item %d of job %s", owner, index, jobID)
	}
	return err
}

// JobItemEnd records an item's end and, when no item of its job is left
// open, the job's end, in one transaction. The job's row is locked before
// its items are counted (on PostgreSQL; SQLite's transaction holds the
// write lock), so of two items ending at once the second counts the first
// as ended, and exactly one of them ends the job.
func (s *Store) JobItemEnd(ctx context.Context, item *seqstore.JobItem, owner string, now time.Time) error {
	if item.Status != seqstore.JobItemStatusFinished && item.Status != seqstore.JobItemStatusFailed {
		return fmt.Errorf("sqlmeta: a job item ends FINISHED or FAILED, not %q", item.Status)
	}
	return s.tx(ctx, func(t *txRunner) error {
		err := affected(t.exec(ctx, `UPDATE job_items SET status = $4, status_message = $5, read_set_id = $6, updated_at = $7,
			lease_owner = '', lease_until = 0
			WHERE job_id = $1 AND item_index = $2 AND lease_owner = $3 AND lease_owner <> '' AND status = $8`,
			item.JobID, item.Index, owner, item.Status, item.StatusMessage, item.ReadSetID, now.UnixMilli(), seqstore.JobItemStatusInProgress))
		if errors.Is(err, meta.ErrNotFound) {
			return conflictf("%s does not hold the lease of item %d of job %s, or it ended", owner, item.Index, item.JobID)
		}
		if err != nil {
			return err
		}
		var status string
		if err := t.queryRow(ctx, `SELECT status FROM jobs WHERE id = $1`+s.d.forUpdate, item.JobID).Scan(&status); err != nil {
			return translate(err)
		}
		var open, finished, failed int
		if err := t.queryRow(ctx, `SELECT
			COALESCE(SUM(CASE WHEN status = $2 OR status = $3 THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN status = $4 THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN status = $5 THEN 1 ELSE 0 END), 0)
			FROM job_items WHERE job_id = $1`,
			item.JobID, seqstore.JobItemStatusNotStarted, seqstore.JobItemStatusInProgress,
			seqstore.JobItemStatusFinished, seqstore.JobItemStatusFailed).Scan(&open, &finished, &failed); err != nil {
			return translate(err)
		}
		if open > 0 || seqstore.JobStatusTerminal(status) {
			return nil
		}
		end := seqstore.JobStatusCompletedWithFailures
		switch {
		case failed == 0:
			end = seqstore.JobStatusCompleted
		case finished == 0:
			end = seqstore.JobStatusFailed
		}
		_, err = t.exec(ctx, `UPDATE jobs SET status = $2, completed_at = $3 WHERE id = $1`, item.JobID, end, now.UnixMilli())
		return err
	})
}
