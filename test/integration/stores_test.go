package integration

import (
	"context"
	"errors"
	"fmt"
	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/auth"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"
	"github.com/aws/smithy-go"
)

// forEachBackend runs fn against a fresh server on every backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend, in *instance)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			fn(t, b, start(t, b, nil))
		})
	}
}

// apiErrorCode returns the AWS error code of err, failing the test when err
// is not an API error.
func apiErrorCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want an API error", err)
	}
	return ae.ErrorCode()
}

func TestSequenceStoreLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend, in *instance) {
		ctx := context.Background()
		c := in.goClient(in.rootKey())
		created, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{
			Name:                   aws.String("lifecycle"),
			Description:            aws.String("a store for the lifecycle test"),
			ETagAlgorithmFamily:    types.ETagAlgorithmFamilySha256up,
			PropagatedSetLevelTags: []string{"project"},
			FallbackLocation:       aws.String("s3://fallback-bucket/prefix/"),
			Tags:                   map[string]string{"team": "genomics"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if created.SseConfig != nil {
			t.Errorf("a store created without sseConfig reports %+v; it is not encrypted", created.SseConfig)
		}
		if len(*created.Id) != 10 {
			t.Errorf("id %q is not 10 digits", *created.Id)
		}
		if want := "arn:aws:omics:us-east-1:123456789012:sequenceStore/" + *created.Id; *created.Arn != want {
			t.Errorf("arn = %s, want %s", *created.Arn, want)
		}
		if created.ETagAlgorithmFamily != types.ETagAlgorithmFamilySha256up {
			t.Errorf("family = %s", created.ETagAlgorithmFamily)
		}
		if created.Status != types.SequenceStoreStatusActive {
			t.Errorf("status = %s", created.Status)
		}
		if created.S3Access == nil || !strings.HasSuffix(*created.S3Access.S3AccessPointArn, ":accesspoint/123456789012-"+*created.Id) ||
			!strings.HasPrefix(*created.S3Access.S3Uri, "s3://123456789012-"+*created.Id+"-seqstore-s3alias/123456789012/sequenceStore/"+*created.Id+"/") {
			t.Errorf("s3Access = %+v", created.S3Access)
		}
		if time.Since(*created.CreationTime) > time.Minute {
			t.Errorf("creationTime %v is not now", created.CreationTime)
		}

		got, err := c.GetSequenceStore(ctx, &omics.GetSequenceStoreInput{Id: created.Id})
		if err != nil {
			t.Fatal(err)
		}
		if *got.Name != "lifecycle" || *got.Description != "a store for the lifecycle test" || *got.FallbackLocation != "s3://fallback-bucket/prefix/" ||
			len(got.PropagatedSetLevelTags) != 1 || got.SseConfig != nil {
			t.Errorf("get returned %+v", got)
		}

		updated, err := c.UpdateSequenceStore(ctx, &omics.UpdateSequenceStoreInput{Id: created.Id, Name: aws.String("renamed"), Description: aws.String("changed")})
		if err != nil {
			t.Fatal(err)
		}
		if *updated.Name != "renamed" || *updated.Description != "changed" || updated.UpdateTime == nil {
			t.Errorf("update returned %+v", updated)
		}

		tags, err := c.ListTagsForResource(ctx, &omics.ListTagsForResourceInput{ResourceArn: created.Arn})
		if err != nil {
			t.Fatal(err)
		}
		if tags.Tags["team"] != "genomics" {
			t.Errorf("tags = %v", tags.Tags)
		}
		if _, err := c.TagResource(ctx, &omics.TagResourceInput{ResourceArn: created.Arn, Tags: map[string]string{"stage": "test", "team": "bio"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.UntagResource(ctx, &omics.UntagResourceInput{ResourceArn: created.Arn, TagKeys: []string{"stage", "absent"}}); err != nil {
			t.Fatal(err)
		}
		tags, err = c.ListTagsForResource(ctx, &omics.ListTagsForResourceInput{ResourceArn: created.Arn})
		if err != nil {
			t.Fatal(err)
		}
		if len(tags.Tags) != 1 || tags.Tags["team"] != "bio" {
			t.Errorf("after tag and untag, tags = %v", tags.Tags)
		}

		if _, err := c.DeleteSequenceStore(ctx, &omics.DeleteSequenceStoreInput{Id: created.Id}); err != nil {
			t.Fatal(err)
		}
		_, err = c.GetSequenceStore(ctx, &omics.GetSequenceStoreInput{Id: created.Id})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("get after delete: %v, want ResourceNotFoundException", err)
		}
		_, err = c.ListTagsForResource(ctx, &omics.ListTagsForResourceInput{ResourceArn: created.Arn})
		if !errors.As(err, &nf) {
			t.Fatalf("tags after delete: %v, want ResourceNotFoundException", err)
		}
	})
}

func TestListSequenceStoresPaginatesAndFilters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend, in *instance) {
		ctx := context.Background()
		c := in.goClient(in.rootKey())
		ids := map[string]bool{}
		for i := range 7 {
			name := "even"
			if i%2 == 1 {
				name = "odd"
			}
			out, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			ids[*out.Id] = true
		}
		seen := map[string]bool{}
		pages := 0
		p := omics.NewListSequenceStoresPaginator(c, &omics.ListSequenceStoresInput{MaxResults: aws.Int32(3)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(page.SequenceStores) > 3 {
				t.Fatalf("page of %d stores, maxResults 3", len(page.SequenceStores))
			}
			for _, s := range page.SequenceStores {
				if seen[*s.Id] {
					t.Fatalf("store %s listed twice", *s.Id)
				}
				seen[*s.Id] = true
			}
		}
		if pages != 3 || len(seen) != 7 {
			t.Fatalf("%d pages, %d stores; want 3 pages of 7 stores", pages, len(seen))
		}
		odd, err := c.ListSequenceStores(ctx, &omics.ListSequenceStoresInput{Filter: &types.SequenceStoreFilter{Name: aws.String("odd")}})
		if err != nil {
			t.Fatal(err)
		}
		if len(odd.SequenceStores) != 3 {
			t.Fatalf("name filter: %d stores, want 3", len(odd.SequenceStores))
		}
		future := time.Now().Add(time.Hour)
		none, err := c.ListSequenceStores(ctx, &omics.ListSequenceStoresInput{Filter: &types.SequenceStoreFilter{CreatedAfter: &future}})
		if err != nil {
			t.Fatal(err)
		}
		if len(none.SequenceStores) != 0 {
			t.Fatalf("createdAfter in the future: %d stores", len(none.SequenceStores))
		}

		first, err := c.ListSequenceStores(ctx, &omics.ListSequenceStoresInput{MaxResults: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{*first.NextToken + "x", "bm90IGEgdG9rZW4", strings.ToUpper(*first.NextToken)} {
			_, err := c.ListSequenceStores(ctx, &omics.ListSequenceStoresInput{NextToken: aws.String(tok)})
			if code := apiErrorCode(t, err); code != "ValidationException" {
				t.Errorf("tampered token %q: %s, want ValidationException", tok, code)
			}
		}
		// A token from one filter does not serve another.
		_, err = c.ListSequenceStores(ctx, &omics.ListSequenceStoresInput{NextToken: first.NextToken, Filter: &types.SequenceStoreFilter{Name: aws.String("odd")}})
		if code := apiErrorCode(t, err); code != "ValidationException" {
			t.Errorf("token with another filter: %s, want ValidationException", code)
		}
		for _, bad := range []int32{0, 101} {
			_, err := c.ListSequenceStores(ctx, &omics.ListSequenceStoresInput{MaxResults: aws.Int32(bad)})
			if code := apiErrorCode(t, err); code != "ValidationException" {
				t.Errorf("maxResults %d: %s, want ValidationException", bad, code)
			}
		}
	})
}

func TestValidationErrorsNameTheMember(t *testing.T) {
	in := start(t, backends[0], nil)
	ctx := context.Background()
	c := in.goClient(in.rootKey())
	tests := []struct {
		name   string
		call   func() error
		member string
	}{
		{"a name that is too long", func() error {
			_, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String(strings.Repeat("n", 128))})
			return err
		}, "name"},
		{"an unknown ETag family", func() error {
			_, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("x"), ETagAlgorithmFamily: "CRC32up"})
			return err
		}, "eTagAlgorithmFamily"},
		{"a malformed store ID", func() error {
			_, err := c.GetSequenceStore(ctx, &omics.GetSequenceStoreInput{Id: aws.String("12ab567890")})
			return err
		}, "id"},
		{"a store ID that is too short", func() error {
			_, err := c.GetSequenceStore(ctx, &omics.GetSequenceStoreInput{Id: aws.String("123")})
			return err
		}, "id"},
		{"a fallback location that is not S3", func() error {
			_, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("x"), FallbackLocation: aws.String("http://example.com/x")})
			return err
		}, "fallbackLocation"},
		{"too many propagated tags", func() error {
			_, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("x"), PropagatedSetLevelTags: []string{"a", "b", "c", "d", "e", "f"}})
			return err
		}, "propagatedSetLevelTags"},
		{"a reserved tag key", func() error {
			_, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("x"), Tags: map[string]string{"aws:owner": "me"}})
			return err
		}, "aws:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ve *types.ValidationException
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want ValidationException", err)
			}
			if !strings.Contains(ve.ErrorMessage(), tt.member) {
				t.Fatalf("message %q does not name %q", ve.ErrorMessage(), tt.member)
			}
		})
	}
}

func TestConflictAndNotFound(t *testing.T) {
	in := start(t, backends[0], nil)
	ctx := context.Background()
	c := in.goClient(in.rootKey())
	var nf *types.ResourceNotFoundException
	if _, err := c.GetSequenceStore(ctx, &omics.GetSequenceStoreInput{Id: aws.String("1234567890")}); !errors.As(err, &nf) {
		t.Errorf("missing store: %v", err)
	}
	if _, err := c.DeleteSequenceStore(ctx, &omics.DeleteSequenceStoreInput{Id: aws.String("1234567890")}); !errors.As(err, &nf) {
		t.Errorf("delete missing store: %v", err)
	}
	if _, err := c.GetReferenceStore(ctx, &omics.GetReferenceStoreInput{Id: aws.String("1234567890")}); !errors.As(err, &nf) {
		t.Errorf("missing reference store: %v", err)
	}
	// One reference store per account.
	rs, err := c.CreateReferenceStore(ctx, &omics.CreateReferenceStoreInput{Name: aws.String("refs")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateReferenceStore(ctx, &omics.CreateReferenceStoreInput{Name: aws.String("more refs")})
	var sq *types.ServiceQuotaExceededException
	if !errors.As(err, &sq) {
		t.Errorf("second reference store: %v, want ServiceQuotaExceededException", err)
	}
	got, err := c.GetReferenceStore(ctx, &omics.GetReferenceStoreInput{Id: rs.Id})
	if err != nil || *got.Name != "refs" || *got.Arn != "arn:aws:omics:us-east-1:123456789012:referenceStore/"+*rs.Id {
		t.Fatalf("get reference store: %+v %v", got, err)
	}
	list, err := c.ListReferenceStores(ctx, &omics.ListReferenceStoresInput{Filter: &types.ReferenceStoreFilter{Name: aws.String("refs")}})
	if err != nil || len(list.ReferenceStores) != 1 {
		t.Fatalf("list reference stores: %+v %v", list, err)
	}
	if _, err := c.DeleteReferenceStore(ctx, &omics.DeleteReferenceStoreInput{Id: rs.Id}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteReferenceStore(ctx, &omics.DeleteReferenceStoreInput{Id: rs.Id}); !errors.As(err, &nf) {
		t.Errorf("second delete: %v", err)
	}
}

// TestReferenceStoresPerAccount: the operator may allow an account more
// reference stores than AWS's one, and the quota holds at the new number.
func TestReferenceStoresPerAccount(t *testing.T) {
	cfg := newConfig(t, backends[0])
	cfg.ReferenceStoresPerAccount = 2
	in := start(t, backends[0], cfg)
	ctx := context.Background()
	c := in.goClient(in.rootKey())
	for _, name := range []string{"first", "second"} {
		if _, err := c.CreateReferenceStore(ctx, &omics.CreateReferenceStoreInput{Name: aws.String(name)}); err != nil {
			t.Fatalf("reference store %s: %v", name, err)
		}
	}
	_, err := c.CreateReferenceStore(ctx, &omics.CreateReferenceStoreInput{Name: aws.String("third")})
	var sq *types.ServiceQuotaExceededException
	if !errors.As(err, &sq) || !strings.Contains(sq.ErrorMessage(), "already has 2 reference stores") {
		t.Errorf("third reference store: %v, want ServiceQuotaExceededException naming the quota of 2", err)
	}
}

func TestS3AccessPolicy(t *testing.T) {
	in := start(t, backends[0], nil)
	ctx := context.Background()
	c := in.goClient(in.rootKey())
	st, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("policy")})
	if err != nil {
		t.Fatal(err)
	}
	ap := st.S3Access.S3AccessPointArn
	var nf *types.ResourceNotFoundException
	if _, err := c.GetS3AccessPolicy(ctx, &omics.GetS3AccessPolicyInput{S3AccessPointArn: ap}); !errors.As(err, &nf) {
		t.Errorf("policy before put: %v, want ResourceNotFoundException", err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"*"}]}`
	put, err := c.PutS3AccessPolicy(ctx, &omics.PutS3AccessPolicyInput{S3AccessPointArn: ap, S3AccessPolicy: aws.String(policy)})
	if err != nil {
		t.Fatal(err)
	}
	if *put.StoreId != *st.Id || put.StoreType != types.StoreTypeSequenceStore {
		t.Errorf("put returned %+v", put)
	}
	got, err := c.GetS3AccessPolicy(ctx, &omics.GetS3AccessPolicyInput{S3AccessPointArn: ap})
	if err != nil {
		t.Fatal(err)
	}
	if *got.S3AccessPolicy != policy || got.UpdateTime == nil {
		t.Errorf("get returned %+v", got)
	}
	_, err = c.PutS3AccessPolicy(ctx, &omics.PutS3AccessPolicyInput{S3AccessPointArn: ap, S3AccessPolicy: aws.String("not json")})
	if code := apiErrorCode(t, err); code != "ValidationException" {
		t.Errorf("a policy that is not JSON: %s", code)
	}
	// A policy the S3 endpoint could not evaluate as written is refused,
	// saying why.
	for _, bad := range []struct{ policy, says string }{
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`, "Condition is not supported"},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Permit","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`, "Effect"},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"12345"},"Action":"s3:GetObject","Resource":"*"}]}`, "12345"},
	} {
		_, err = c.PutS3AccessPolicy(ctx, &omics.PutS3AccessPolicyInput{S3AccessPointArn: ap, S3AccessPolicy: aws.String(bad.policy)})
		if code := apiErrorCode(t, err); code != "ValidationException" || !strings.Contains(err.Error(), bad.says) {
			t.Errorf("policy %s: %v; want a ValidationException that says %q", bad.policy, err, bad.says)
		}
	}
	other := strings.Replace(*ap, *st.Id, "9999999999", 1)
	if _, err := c.GetS3AccessPolicy(ctx, &omics.GetS3AccessPolicyInput{S3AccessPointArn: aws.String(other)}); !errors.As(err, &nf) {
		t.Errorf("another store's access point: %v", err)
	}
	if _, err := c.DeleteS3AccessPolicy(ctx, &omics.DeleteS3AccessPolicyInput{S3AccessPointArn: ap}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetS3AccessPolicy(ctx, &omics.GetS3AccessPolicyInput{S3AccessPointArn: ap}); !errors.As(err, &nf) {
		t.Errorf("policy after delete: %v", err)
	}
}

func TestIdempotentCreate(t *testing.T) {
	in := start(t, backends[0], nil)
	ctx := context.Background()
	c := in.goClient(in.rootKey())
	in1 := &omics.CreateSequenceStoreInput{Name: aws.String("idem"), ClientToken: aws.String("token-1")}
	a, err := c.CreateSequenceStore(ctx, in1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.CreateSequenceStore(ctx, in1)
	if err != nil {
		t.Fatal(err)
	}
	if *a.Id != *b.Id {
		t.Fatalf("same token, same request: stores %s and %s", *a.Id, *b.Id)
	}
	_, err = c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("different"), ClientToken: aws.String("token-1")})
	if code := apiErrorCode(t, err); code != "ValidationException" && code != "ConflictException" {
		t.Fatalf("same token, other request: %s", code)
	}
	list, err := c.ListSequenceStores(ctx, &omics.ListSequenceStoresInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.SequenceStores) != 1 {
		t.Fatalf("%d stores after idempotent retries, want 1", len(list.SequenceStores))
	}
	// Without a token each call creates a store (the SDK fills a fresh
	// token in each time).
	if _, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("idem")}); err != nil {
		t.Fatal(err)
	}
}

func TestAccountsAreIsolated(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend, in *instance) {
		ctx := context.Background()
		alice := in.goClient(in.rootKey())
		bobKey := in.newAccount(t, "210987654321")
		bob := in.goClient(bobKey)
		st, err := alice.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("alice's")})
		if err != nil {
			t.Fatal(err)
		}
		var nf *types.ResourceNotFoundException
		checks := []struct {
			name string
			call func() error
		}{
			{"get", func() error { _, err := bob.GetSequenceStore(ctx, &omics.GetSequenceStoreInput{Id: st.Id}); return err }},
			{"update", func() error {
				_, err := bob.UpdateSequenceStore(ctx, &omics.UpdateSequenceStoreInput{Id: st.Id, Name: aws.String("mine")})
				return err
			}},
			{"delete", func() error {
				_, err := bob.DeleteSequenceStore(ctx, &omics.DeleteSequenceStoreInput{Id: st.Id})
				return err
			}},
			{"tag", func() error {
				_, err := bob.TagResource(ctx, &omics.TagResourceInput{ResourceArn: st.Arn, Tags: map[string]string{"x": "y"}})
				return err
			}},
			{"untag", func() error {
				_, err := bob.UntagResource(ctx, &omics.UntagResourceInput{ResourceArn: st.Arn, TagKeys: []string{"x"}})
				return err
			}},
			{"list tags", func() error {
				_, err := bob.ListTagsForResource(ctx, &omics.ListTagsForResourceInput{ResourceArn: st.Arn})
				return err
			}},
			{"get policy", func() error {
				_, err := bob.GetS3AccessPolicy(ctx, &omics.GetS3AccessPolicyInput{S3AccessPointArn: st.S3Access.S3AccessPointArn})
				return err
			}},
		}
		for _, c := range checks {
			if err := c.call(); !errors.As(err, &nf) {
				t.Errorf("bob's %s of alice's store: %v, want ResourceNotFoundException", c.name, err)
			}
		}
		list, err := bob.ListSequenceStores(ctx, &omics.ListSequenceStoresInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.SequenceStores) != 0 {
			t.Errorf("bob lists %d stores, want 0", len(list.SequenceStores))
		}
		if _, err := alice.GetSequenceStore(ctx, &omics.GetSequenceStoreInput{Id: st.Id}); err != nil {
			t.Errorf("alice lost her store: %v", err)
		}
		mine, err := bob.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("bob's")})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(*mine.Arn, ":210987654321:") {
			t.Errorf("bob's store ARN %s does not carry his account", *mine.Arn)
		}
	})
}

func TestRestartKeepsEverything(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			in := start(t, b, nil)
			ctx := context.Background()
			c := in.goClient(in.rootKey())
			st, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("durable"), Tags: map[string]string{"k": "v"}})
			if err != nil {
				t.Fatal(err)
			}
			key := in.rootKey()
			in = in.restart(b)
			if k := in.rootKey(); k.ID != key.ID || k.Secret != key.Secret {
				t.Fatalf("root key changed across a restart")
			}
			c = in.goClient(key)
			got, err := c.GetSequenceStore(ctx, &omics.GetSequenceStoreInput{Id: st.Id})
			if err != nil {
				t.Fatal(err)
			}
			if *got.Name != "durable" || !got.CreationTime.Equal(*st.CreationTime) {
				t.Errorf("after restart: %+v", got)
			}
			tags, err := c.ListTagsForResource(ctx, &omics.ListTagsForResourceInput{ResourceArn: st.Arn})
			if err != nil || tags.Tags["k"] != "v" {
				t.Errorf("tags after restart: %v %v", tags, err)
			}
		})
	}
}

// A restart with a new SEQSTORE_ACCESS_KEY_ID retires the root key the
// environment gave before; keys made with `admin`, in the root account too,
// stay.
func TestRootKeyRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend, in *instance) {
		ctx := context.Background()
		in.stop()
		cfg := in.cfg
		cfg.AccessKeyID, cfg.SecretAccessKey = "ROOTKEYONE", "first secret"
		in = start(t, b, cfg)
		old := in.rootKey()
		if _, err := in.goClient(old).ListSequenceStores(ctx, &omics.ListSequenceStoresInput{}); err != nil {
			t.Fatalf("the first environment key: %v", err)
		}
		admin := auth.NewAccessKey(cfg.AccountID)
		if err := in.srv.Meta.AccessKeyPut(ctx, admin); err != nil {
			t.Fatal(err)
		}

		in.stop()
		cfg.AccessKeyID, cfg.SecretAccessKey = "ROOTKEYTWO", "second secret"
		in = start(t, b, cfg)
		if _, err := in.goClient(old).ListSequenceStores(ctx, &omics.ListSequenceStoresInput{}); apiErrorCode(t, err) != "UnrecognizedClientException" {
			t.Fatalf("the replaced root key: %v, want UnrecognizedClientException", err)
		}
		for _, k := range []seqstore.AccessKey{in.rootKey(), admin} {
			if _, err := in.goClient(k).ListSequenceStores(ctx, &omics.ListSequenceStoresInput{}); err != nil {
				t.Fatalf("key %s after the rotation: %v", k.ID, err)
			}
		}
	})
}

// Four concurrent TagResource calls of 25 new keys each: the limit of 50
// tags holds, two calls succeed and two get ServiceQuotaExceededException.
func TestConcurrentTaggingKeepsTheLimit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend, in *instance) {
		c := in.goClient(in.rootKey())
		ctx := context.Background()
		for round := range 3 {
			st, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String(fmt.Sprintf("tags-%d", round))})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			codes := make([]string, 4)
			for i := range codes {
				tags := map[string]string{}
				for k := range 25 {
					tags[fmt.Sprintf("c%d-k%d", i, k)] = "v"
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, err := c.TagResource(ctx, &omics.TagResourceInput{ResourceArn: st.Arn, Tags: tags})
					var ae smithy.APIError
					switch {
					case errors.As(err, &ae):
						codes[i] = ae.ErrorCode()
					case err != nil:
						codes[i] = err.Error()
					}
				}()
			}
			close(start)
			wg.Wait()
			got, err := c.ListTagsForResource(ctx, &omics.ListTagsForResourceInput{ResourceArn: st.Arn})
			if err != nil {
				t.Fatal(err)
			}
			ok := 0
			for _, code := range codes {
				switch code {
				case "":
					ok++
				case "ServiceQuotaExceededException":
				default:
					t.Fatalf("TagResource: %s", code)
				}
			}
			if len(got.Tags) != 50 || ok != 2 {
				t.Fatalf("round %d: %d calls succeeded and the store has %d tags; want 2 and 50", round, ok, len(got.Tags))
			}
		}
	})
}
