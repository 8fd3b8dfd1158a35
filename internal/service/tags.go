package service

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/arn"
	"github.com/seqstore/seqstore/internal/meta"
)

// MaxTags is the most tags one resource may carry.
const MaxTags = 50

// checkTags rejects tag keys that AWS reserves for itself.
func checkTags(tags map[string]string) error {
	if len(tags) > MaxTags {
		return seqstore.Errorf(seqstore.CodeValidation, "%d tags given; a resource may have at most %d", len(tags), MaxTags)
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return seqstore.Errorf(seqstore.CodeValidation, "tag key %q uses the reserved prefix aws:", k)
		}
	}
	return nil
}

// resolveTaggable checks that resourceArn names a resource of the account
// that exists, and returns its canonical ARN.
func (s *Service) resolveTaggable(ctx context.Context, account, resourceArn string) (string, error) {
	r, err := arn.Parse(resourceArn)
	if err != nil {
		return "", seqstore.Errorf(seqstore.CodeValidation, "resourceArn: %v", err)
	}
	missing := seqstore.Errorf(seqstore.CodeNotFound, "resource %s does not exist in this account", resourceArn)
	// Another account's ARN, or another region's, is as good as absent: the
	// caller learns nothing about resources that are not theirs.
	if r.AccountID != account || r.Region != s.ARN.Region || r.Partition != s.ARN.Partition {
		return "", missing
	}
	switch r.Kind {
	case arn.KindSequenceStore:
		_, err = s.Meta.SequenceStoreGet(ctx, account, r.StoreID)
	case arn.KindReadSet:
		var rs *seqstore.ReadSet
		rs, err = s.Meta.ReadSetGet(ctx, account, r.StoreID, r.ID)
		if err == nil && rs.Status == seqstore.ReadSetStatusDeleted {
			err = meta.ErrNotFound
		}
	case arn.KindReferenceStore:
		_, err = s.Meta.ReferenceStoreGet(ctx, account, r.StoreID)
	case arn.KindReference:
		var ref *seqstore.Reference
		ref, err = s.Meta.ReferenceGet(ctx, account, r.StoreID, r.ID)
		if err == nil && ref.Status == seqstore.ReferenceStatusDeleted {
			err = meta.ErrNotFound
		}
	}
	if errors.Is(err, meta.ErrNotFound) {
		return "", missing
	}
	if err != nil {
		return "", err
	}
	return resourceArn, nil
}

// TagResource adds or overwrites tags.
func (s *Service) TagResource(ctx context.Context, account, resourceArn string, tags map[string]string) error {
	a, err := s.resolveTaggable(ctx, account, resourceArn)
	if err != nil {
		return err
	}
	if err := checkTags(tags); err != nil {
		return err
	}
	// Counted and written in one transaction: concurrent calls that each
	// fit alone must not together pass the limit.
	total, err := s.Meta.TagsAdd(ctx, account, a, tags, MaxTags)
	if errors.Is(err, meta.ErrTagLimit) {
		return seqstore.Errorf(seqstore.CodeQuotaExceeded, "%s would have %d tags; a resource may have at most %d", resourceArn, total, MaxTags)
	}
	return err
}

// UntagResource removes tags; keys that are not set are ignored.
func (s *Service) UntagResource(ctx context.Context, account, resourceArn string, keys []string) error {
	a, err := s.resolveTaggable(ctx, account, resourceArn)
	if err != nil {
		return err
	}
	return s.Meta.TagsRemove(ctx, account, a, keys)
}

// ListTagsForResource returns a resource's tags.
func (s *Service) ListTagsForResource(ctx context.Context, account, resourceArn string) (map[string]string, error) {
	a, err := s.resolveTaggable(ctx, account, resourceArn)
	if err != nil {
		return nil, err
	}
	return s.Meta.TagsGet(ctx, account, a)
}
