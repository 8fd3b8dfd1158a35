package metatest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

const storeArn = "arn:aws:omics:us-east-1:111111111111:sequenceStore/1000000001"

func (f *fixture) wantTags(t *testing.T, account, arn string, want map[string]string) {
	t.Helper()
	got, err := f.s.TagsGet(f.ctx, account, arn)
	must(t, "TagsGet", err)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	equal(t, "tags of "+arn+" in account "+account, got, want)
}

var tagCases = []suiteCase{
	{"tags are set, overwritten and removed by key", func(t *testing.T, f *fixture) {
		f.wantTags(t, accountA, storeArn, nil)
		must(t, "TagsSet", f.s.TagsSet(f.ctx, accountA, storeArn, map[string]string{"a": "1", "b": "2"}))
		f.wantTags(t, accountA, storeArn, map[string]string{"a": "1", "b": "2"})
		must(t, "TagsSet overwriting", f.s.TagsSet(f.ctx, accountA, storeArn, map[string]string{"b": "20", "c": "3"}))
		f.wantTags(t, accountA, storeArn, map[string]string{"a": "1", "b": "20", "c": "3"})
		must(t, "TagsSet of nothing", f.s.TagsSet(f.ctx, accountA, storeArn, nil))
		f.wantTags(t, accountA, storeArn, map[string]string{"a": "1", "b": "20", "c": "3"})
		must(t, "TagsRemove", f.s.TagsRemove(f.ctx, accountA, storeArn, []string{"a", "c", "never-set"}))
		f.wantTags(t, accountA, storeArn, map[string]string{"b": "20"})
		must(t, "TagsRemove of nothing", f.s.TagsRemove(f.ctx, accountA, storeArn, nil))
		f.wantTags(t, accountA, storeArn, map[string]string{"b": "20"})
		must(t, "TagsRemove of the last", f.s.TagsRemove(f.ctx, accountA, storeArn, []string{"b"}))
		f.wantTags(t, accountA, storeArn, nil)
	}},
	{"tag keys and values keep their case, spaces and empty values", func(t *testing.T, f *fixture) {
		tags := map[string]string{"Key": "Value", "key": "value", "with space": "a b", "empty": "", "unicode ü": "ß→"}
		must(t, "TagsSet", f.s.TagsSet(f.ctx, accountA, storeArn, tags))
		f.wantTags(t, accountA, storeArn, tags)
	}},
	{"deleting all tags of a resource removes those of the resources under it and no others", func(t *testing.T, f *fixture) {
		readSet := storeArn + "/readSet/1000000002"
		sibling := storeArn + "0"       // shares the store ARN as a prefix, but is another store
		underscore := storeArn + "_x/y" // LIKE would take _ as a wildcard
		all := []string{storeArn, readSet, readSet + "/deeper", sibling, sibling + "/readSet/1", underscore}
		for _, arn := range all {
			must(t, "TagsSet", f.s.TagsSet(f.ctx, accountA, arn, map[string]string{"k": arn}))
		}
		must(t, "TagsSet in B", f.s.TagsSet(f.ctx, accountB, readSet, map[string]string{"k": "b"}))
		must(t, "TagsDeleteAll", f.s.TagsDeleteAll(f.ctx, accountA, storeArn))
		for _, arn := range all[:3] {
			f.wantTags(t, accountA, arn, nil)
		}
		for _, arn := range all[3:] {
			f.wantTags(t, accountA, arn, map[string]string{"k": arn})
		}
		f.wantTags(t, accountB, readSet, map[string]string{"k": "b"})
	}},
	{"deleting all tags under an ARN with non-ASCII letters removes its children", func(t *testing.T, f *fixture) {
		parent := "arn:aws:omics:us-east-1:111111111111:sequenceStore/ünïcödé"
		child := parent + "/readSet/1"
		for _, arn := range []string{parent, child} {
			must(t, "TagsSet", f.s.TagsSet(f.ctx, accountA, arn, map[string]string{"k": "v"}))
		}
		must(t, "TagsDeleteAll", f.s.TagsDeleteAll(f.ctx, accountA, parent))
		f.wantTags(t, accountA, parent, nil)
		f.wantTags(t, accountA, child, nil)
	}},
	{"deleting all tags of an untagged resource is no error", func(t *testing.T, f *fixture) {
		must(t, "TagsDeleteAll", f.s.TagsDeleteAll(f.ctx, accountA, storeArn))
	}},
}

var policyCases = []suiteCase{
	{"an S3 access policy is put, overwritten and deleted", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		apArn := "arn:aws:s3:us-east-1:111111111111:accesspoint/" + st.ID + "-abc"
		p := &seqstore.S3AccessPolicy{
			AccountID: accountA, AccessPointArn: apArn, StoreID: st.ID, StoreType: "SEQUENCE_STORE",
			Policy: `{"Version":"2012-10-17","Statement":[]}`, UpdatedAt: at(10),
		}
		_, err := f.s.S3AccessPolicyGet(f.ctx, accountA, apArn)
		wantErr(t, "S3AccessPolicyGet before put", err, meta.ErrNotFound)
		must(t, "S3AccessPolicyPut", f.s.S3AccessPolicyPut(f.ctx, p))
		got, err := f.s.S3AccessPolicyGet(f.ctx, accountA, apArn)
		must(t, "S3AccessPolicyGet", err)
		equal(t, "the policy", got, p)

		next := *p
		next.Policy, next.UpdatedAt = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny"}]}`, at(20)
		must(t, "S3AccessPolicyPut again", f.s.S3AccessPolicyPut(f.ctx, &next))
		got, err = f.s.S3AccessPolicyGet(f.ctx, accountA, apArn)
		must(t, "S3AccessPolicyGet", err)
		equal(t, "the overwritten policy", got, &next)

		must(t, "S3AccessPolicyDelete", f.s.S3AccessPolicyDelete(f.ctx, accountA, apArn))
		_, err = f.s.S3AccessPolicyGet(f.ctx, accountA, apArn)
		wantErr(t, "S3AccessPolicyGet after delete", err, meta.ErrNotFound)
		wantErr(t, "S3AccessPolicyDelete again", f.s.S3AccessPolicyDelete(f.ctx, accountA, apArn), meta.ErrNotFound)
	}},
}

var idempotencyCases = []suiteCase{
	{"an idempotency token is claimed once, finished, and remembered", func(t *testing.T, f *fixture) {
		rec := &meta.IdempotencyRecord{AccountID: accountA, Operation: "CreateSequenceStore", Token: "tok-1", RequestHash: "hash-1", CreatedAt: at(10)}
		existing, err := f.s.IdempotencyClaim(f.ctx, rec)
		must(t, "first IdempotencyClaim", err)
		if existing != nil {
			t.Fatalf("first IdempotencyClaim found %+v", existing)
		}
		again := &meta.IdempotencyRecord{AccountID: accountA, Operation: "CreateSequenceStore", Token: "tok-1", RequestHash: "hash-2", CreatedAt: at(20)}
		existing, err = f.s.IdempotencyClaim(f.ctx, again)
		must(t, "second IdempotencyClaim", err)
		if existing == nil {
			t.Fatal("second IdempotencyClaim found nothing")
		}
		equal(t, "the running claim", *existing, meta.IdempotencyRecord{
			AccountID: accountA, Operation: "CreateSequenceStore", Token: "tok-1", RequestHash: "hash-1", Response: existing.Response, CreatedAt: at(10),
		})
		equal(t, "response of a running claim", len(existing.Response), 0)

		response := []byte(`{"id":"1000000001","name":"ünï"}`)
		must(t, "IdempotencyFinish", f.s.IdempotencyFinish(f.ctx, accountA, "CreateSequenceStore", "tok-1", response))
		existing, err = f.s.IdempotencyClaim(f.ctx, again)
		must(t, "IdempotencyClaim after finish", err)
		if existing == nil {
			t.Fatal("IdempotencyClaim after finish found nothing")
		}
		equal(t, "the finished claim", *existing, meta.IdempotencyRecord{
			AccountID: accountA, Operation: "CreateSequenceStore", Token: "tok-1", RequestHash: "hash-1", Response: response, CreatedAt: at(10),
		})
	}},
	{"a released idempotency token can be claimed again", func(t *testing.T, f *fixture) {
		rec := &meta.IdempotencyRecord{AccountID: accountA, Operation: "StartReadSetImportJob", Token: "tok", RequestHash: "h1", CreatedAt: at(10)}
		existing, err := f.s.IdempotencyClaim(f.ctx, rec)
		must(t, "IdempotencyClaim", err)
		equal(t, "first claim found", existing, (*meta.IdempotencyRecord)(nil))
		must(t, "IdempotencyRelease", f.s.IdempotencyRelease(f.ctx, accountA, "StartReadSetImportJob", "tok"))
		rec.RequestHash = "h2"
		existing, err = f.s.IdempotencyClaim(f.ctx, rec)
		must(t, "IdempotencyClaim after release", err)
		equal(t, "claim after release found", existing, (*meta.IdempotencyRecord)(nil))
		must(t, "IdempotencyRelease of an unknown token", f.s.IdempotencyRelease(f.ctx, accountA, "StartReadSetImportJob", "never"))
	}},
	{"finishing an unclaimed idempotency token is not found", func(t *testing.T, f *fixture) {
		wantErr(t, "IdempotencyFinish", f.s.IdempotencyFinish(f.ctx, accountA, "CreateSequenceStore", "never", []byte("{}")), meta.ErrNotFound)
	}},
	{"idempotency tokens are kept per operation", func(t *testing.T, f *fixture) {
		for _, op := range []string{"CreateSequenceStore", "CreateReferenceStore"} {
			existing, err := f.s.IdempotencyClaim(f.ctx, &meta.IdempotencyRecord{AccountID: accountA, Operation: op, Token: "same", RequestHash: op, CreatedAt: at(1)})
			must(t, "IdempotencyClaim "+op, err)
			equal(t, "claim of "+op+" found", existing, (*meta.IdempotencyRecord)(nil))
		}
	}},
	{"of 8 concurrent claims of one idempotency token exactly one wins", func(t *testing.T, f *fixture) {
		const racers = 8
		found := make([]*meta.IdempotencyRecord, racers)
		errs := make([]error, racers)
		race(racers, func(i int) {
			found[i], errs[i] = f.s.IdempotencyClaim(f.ctx, &meta.IdempotencyRecord{
				AccountID: accountA, Operation: "CreateSequenceStore", Token: "raced", RequestHash: "h", CreatedAt: at(i),
			})
		})
		winners := 0
		for i := range racers {
			switch {
			case errs[i] != nil:
				t.Errorf("claim %d: %v", i, errs[i])
			case found[i] == nil:
				winners++
			}
		}
		equal(t, "claims that won", winners, 1)
	}},
}

var tagLimitCases = []suiteCase{
	{"tags added up to a limit are counted with those already set", func(t *testing.T, f *fixture) {
		must(t, "TagsSet", f.s.TagsSet(f.ctx, accountA, storeArn, map[string]string{"a": "1", "b": "2"}))
		total, err := f.s.TagsAdd(f.ctx, accountA, storeArn, map[string]string{"b": "20", "c": "3"}, 3)
		must(t, "TagsAdd within the limit", err)
		equal(t, "total", total, 3)
		total, err = f.s.TagsAdd(f.ctx, accountA, storeArn, map[string]string{"a": "10", "d": "4"}, 3)
		wantErr(t, "TagsAdd over the limit", err, meta.ErrTagLimit)
		equal(t, "total refused", total, 4)
		f.wantTags(t, accountA, storeArn, map[string]string{"a": "1", "b": "20", "c": "3"})
		total, err = f.s.TagsAdd(f.ctx, accountA, storeArn, map[string]string{"a": "10"}, 3)
		must(t, "TagsAdd overwriting at the limit", err)
		equal(t, "total", total, 3)
	}},
	{"concurrent tag additions never pass the limit together", func(t *testing.T, f *fixture) {
		const rounds, callers, each, limit = 8, 4, 25, 50
		for round := range rounds {
			arn := fmt.Sprintf("%s/readSet/%010d", storeArn, round)
			tags := make([]map[string]string, callers)
			for i := range callers {
				tags[i] = map[string]string{}
				for k := range each {
					tags[i][fmt.Sprintf("caller%d-key%d", i, k)] = "v"
				}
			}
			errs := make([]error, callers)
			race(callers, func(i int) {
				_, errs[i] = f.s.TagsAdd(f.ctx, accountA, arn, tags[i], limit)
			})
			ok := 0
			for i, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, meta.ErrTagLimit):
					t.Fatalf("round %d, caller %d: %v", round, i, err)
				}
			}
			got, err := f.s.TagsGet(f.ctx, accountA, arn)
			must(t, "TagsGet", err)
			if len(got) > limit || len(got) != ok*each || ok != limit/each {
				t.Fatalf("round %d: %d of %d callers succeeded and the resource has %d tags; want %d callers and %d tags", round, ok, callers, len(got), limit/each, limit)
			}
		}
	}},
}

var idempotencyTakeoverCases = []suiteCase{
	{"an unfinished client-token claim older than AbandonedBefore is taken over; a finished or newer one is not", func(t *testing.T, f *fixture) {
		claim := func(token, hash string, created, abandonedBefore int) *meta.IdempotencyRecord {
			t.Helper()
			existing, err := f.s.IdempotencyClaim(f.ctx, &meta.IdempotencyRecord{AccountID: accountA, Operation: "op", Token: token,
				RequestHash: hash, CreatedAt: at(created), AbandonedBefore: at(abandonedBefore)})
			must(t, "IdempotencyClaim", err)
			return existing
		}
		if claim("stuck", "first", 0, 0) != nil {
			t.Fatal("a fresh token was already claimed")
		}
		if ex := claim("stuck", "second", 50, 0); ex == nil || ex.RequestHash != "first" {
			t.Fatalf("a claim no older than AbandonedBefore was taken over; got %+v", ex)
		}
		if ex := claim("stuck", "retry", 100, 60); ex != nil {
			t.Fatalf("an abandoned claim was not taken over: %+v", ex)
		}
		if ex := claim("stuck", "again", 110, 60); ex == nil || ex.RequestHash != "retry" || !ex.CreatedAt.Equal(at(100)) {
			t.Fatalf("the claim that took over does not stand: %+v", ex)
		}
		must(t, "IdempotencyFinish", f.s.IdempotencyFinish(f.ctx, accountA, "op", "stuck", []byte("{}")))
		if ex := claim("stuck", "late", 1000, 900); ex == nil || string(ex.Response) != "{}" {
			t.Fatalf("a finished claim was taken over: %+v", ex)
		}
	}},
}
