package service

import (
	"context"
	"errors"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/arn"
	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/meta"
)

// MaxPropagatedSetLevelTags is HealthOmics' fixed quota on the tag keys a
// store propagates to its objects.
const MaxPropagatedSetLevelTags = 5

// CreateSequenceStoreParams are the settings of a new store.
type CreateSequenceStoreParams struct {
	Name                   string
	Description            string
	SSEType                string
	SSEKeyArn              string
	FallbackLocation       string
	ETagAlgorithmFamily    string
	PropagatedSetLevelTags []string
	AccessLogLocation      string
	Tags                   map[string]string
}

// CreateSequenceStore creates a store, ACTIVE at once.
func (s *Service) CreateSequenceStore(ctx context.Context, account string, p CreateSequenceStoreParams) (*seqstore.SequenceStore, error) {
	family := p.ETagAlgorithmFamily
	if family == "" {
		family = string(etag.MD5up)
	}
	if _, err := etag.ParseFamily(family); err != nil {
		return nil, seqstore.Errorf(seqstore.CodeValidation, "%v", err)
	}
	if err := s.checkSSE(p.SSEType, p.SSEKeyArn); err != nil {
		return nil, err
	}
	if err := checkPropagatedTags(p.PropagatedSetLevelTags); err != nil {
		return nil, err
	}
	if err := checkTags(p.Tags); err != nil {
		return nil, err
	}
	now := s.now()
	st := &seqstore.SequenceStore{
		AccountID:              account,
		Name:                   p.Name,
		Description:            p.Description,
		SSEType:                p.SSEType,
		SSEKeyArn:              p.SSEKeyArn,
		ETagAlgorithmFamily:    family,
		FallbackLocation:       p.FallbackLocation,
		PropagatedSetLevelTags: p.PropagatedSetLevelTags,
		AccessLogLocation:      p.AccessLogLocation,
		Status:                 seqstore.StoreStatusActive,
		CreatedAt:              now,
		UpdatedAt:              now,
	}
	_, err := createWithNewID(func(id string) error {
		st.ID = id
		return s.Meta.SequenceStoreCreate(ctx, st)
	})
	if err != nil {
		return nil, err
	}
	if len(p.Tags) > 0 {
		if err := s.Meta.TagsSet(ctx, account, s.ARN.SequenceStore(account, st.ID), p.Tags); err != nil {
			return nil, err
		}
	}
	s.Log.InfoContext(ctx, "sequence store created", "account", account, "store", st.ID, "name", st.Name)
	return st, nil
}

// GetSequenceStore returns a store of the account.
func (s *Service) GetSequenceStore(ctx context.Context, account, id string) (*seqstore.SequenceStore, error) {
	st, err := s.Meta.SequenceStoreGet(ctx, account, id)
	if err != nil {
		return nil, notFound(err, "sequence store %s does not exist in this account", id)
	}
	return st, nil
}

// UpdateSequenceStoreParams are the changes to a store; nil fields stay.
type UpdateSequenceStoreParams struct {
	Name                   *string
	Description            *string
	FallbackLocation       *string
	PropagatedSetLevelTags []string // nil: unchanged
	AccessLogLocation      *string
}

// UpdateSequenceStore changes a store's settings.
func (s *Service) UpdateSequenceStore(ctx context.Context, account, id string, p UpdateSequenceStoreParams) (*seqstore.SequenceStore, error) {
	st, err := s.GetSequenceStore(ctx, account, id)
	if err != nil {
		return nil, err
	}
	if p.Name != nil {
		st.Name = *p.Name
	}
	if p.Description != nil {
		st.Description = *p.Description
	}
	if p.FallbackLocation != nil {
		st.FallbackLocation = *p.FallbackLocation
	}
	if p.PropagatedSetLevelTags != nil {
		if err := checkPropagatedTags(p.PropagatedSetLevelTags); err != nil {
			return nil, err
		}
		st.PropagatedSetLevelTags = p.PropagatedSetLevelTags
	}
	if p.AccessLogLocation != nil {
		st.AccessLogLocation = *p.AccessLogLocation
	}
	st.UpdatedAt = s.now()
	if err := s.Meta.SequenceStoreUpdate(ctx, st); err != nil {
		return nil, notFound(err, "sequence store %s does not exist in this account", id)
	}
	return st, nil
}

// ListSequenceStores lists the account's stores.
func (s *Service) ListSequenceStores(ctx context.Context, account string, f meta.SequenceStoreFilter, p meta.Page) ([]*seqstore.SequenceStore, string, error) {
	return s.Meta.SequenceStoreList(ctx, account, f, p)
}

// DeleteSequenceStore deletes an empty store and its tags and policy.
func (s *Service) DeleteSequenceStore(ctx context.Context, account, id string) error {
	err := s.Meta.SequenceStoreDelete(ctx, account, id)
	switch {
	case errors.Is(err, meta.ErrConflict):
		return seqstore.Errorf(seqstore.CodeConflict, "sequence store %s still holds read sets or uploads in progress; delete them first (BatchDeleteReadSet, AbortMultipartReadSetUpload)", id)
	case err != nil:
		return notFound(err, "sequence store %s does not exist in this account", id)
	}
	if err := s.Meta.TagsDeleteAll(ctx, account, s.ARN.SequenceStore(account, id)); err != nil {
		return err
	}
	if err := s.Meta.S3AccessPolicyDelete(ctx, account, s.ARN.S3AccessPoint(account, id)); err != nil && !errors.Is(err, meta.ErrNotFound) {
		return err
	}
	s.Log.InfoContext(ctx, "sequence store deleted", "account", account, "store", id)
	return nil
}

// S3Access describes how a store's files are addressed, in AWS's layout: an
// access point named ACCOUNT-STOREID whose alias names seqstore as its
// owner.
type S3Access struct {
	AccessPointArn    string
	S3URI             string
	AccessLogLocation string
}

// SequenceStoreS3Access returns the S3 addressing of a store.
func (s *Service) SequenceStoreS3Access(st *seqstore.SequenceStore) S3Access {
	return S3Access{
		AccessPointArn:    s.ARN.S3AccessPoint(st.AccountID, st.ID),
		S3URI:             s.StoreS3URI(st.AccountID, st.ID),
		AccessLogLocation: st.AccessLogLocation,
	}
}

// StoreS3URI returns s3://ACCOUNT-STOREID-seqstore-s3alias/ACCOUNT/sequenceStore/STOREID/.
func (s *Service) StoreS3URI(account, storeID string) string {
	return "s3://" + arn.S3Alias(account, storeID) + "/" + arn.S3KeyPrefix(account, storeID, false)
}

// ReadSetFileS3URI returns the s3Uri of one file of a read set.
func (s *Service) ReadSetFileS3URI(account, storeID, readSetID, name string) string {
	return "s3://" + arn.S3Alias(account, storeID) + "/" + arn.ReadSetS3Key(account, storeID, readSetID, name)
}

// ReferenceFileS3URI returns the s3Uri of one file of a reference.
func (s *Service) ReferenceFileS3URI(account, storeID, referenceID, name string) string {
	return "s3://" + arn.ReferenceS3Alias(account, storeID) + "/" + arn.ReferenceS3Key(account, storeID, referenceID, name)
}

func checkPropagatedTags(keys []string) error {
	if len(keys) > MaxPropagatedSetLevelTags {
		return seqstore.Errorf(seqstore.CodeValidation, "propagatedSetLevelTags has %d keys; at most %d may be propagated", len(keys), MaxPropagatedSetLevelTags)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			return seqstore.Errorf(seqstore.CodeValidation, "propagatedSetLevelTags lists %q twice", k)
		}
		seen[k] = true
	}
	return nil
}
