package service

import (
	"context"
	"errors"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

// CreateReferenceStoreParams are the settings of a new reference store.
type CreateReferenceStoreParams struct {
	Name        string
	Description string
	SSEType     string
	SSEKeyArn   string
	Tags        map[string]string
}

// CreateReferenceStore creates a reference store of the account.
// HealthOmics allows one per account and region, and so does seqstore
// unless the operator allows more (ReferenceStoresPerAccount).
func (s *Service) CreateReferenceStore(ctx context.Context, account string, p CreateReferenceStoreParams) (*seqstore.ReferenceStore, error) {
	if err := checkTags(p.Tags); err != nil {
		return nil, err
	}
	if err := s.checkSSE(p.SSEType, p.SSEKeyArn); err != nil {
		return nil, err
	}
	quota := max(s.ReferenceStoresPerAccount, 1)
	existing, _, err := s.Meta.ReferenceStoreList(ctx, account, "", meta.TimeRange{}, meta.Page{Limit: quota})
	if err != nil {
		return nil, err
	}
	if len(existing) >= quota {
		if quota == 1 {
			return nil, seqstore.Errorf(seqstore.CodeQuotaExceeded, "this account already has reference store %s; an account may have one reference store per region (the server's -reference-stores-per-account)", existing[0].ID)
		}
		return nil, seqstore.Errorf(seqstore.CodeQuotaExceeded, "this account already has %d reference stores, the most the server allows (-reference-stores-per-account); delete one or ask the operator to raise it", quota)
	}
	st := &seqstore.ReferenceStore{
		AccountID:   account,
		Name:        p.Name,
		Description: p.Description,
		SSEType:     p.SSEType,
		SSEKeyArn:   p.SSEKeyArn,
		CreatedAt:   s.now(),
	}
	if _, err := createWithNewID(func(id string) error {
		st.ID = id
		return s.Meta.ReferenceStoreCreate(ctx, st)
	}); err != nil {
		return nil, err
	}
	if len(p.Tags) > 0 {
		if err := s.Meta.TagsSet(ctx, account, s.ARN.ReferenceStore(account, st.ID), p.Tags); err != nil {
			return nil, err
		}
	}
	s.Log.InfoContext(ctx, "reference store created", "account", account, "store", st.ID, "name", st.Name)
	return st, nil
}

// GetReferenceStore returns a reference store of the account.
func (s *Service) GetReferenceStore(ctx context.Context, account, id string) (*seqstore.ReferenceStore, error) {
	st, err := s.Meta.ReferenceStoreGet(ctx, account, id)
	if err != nil {
		return nil, notFound(err, "reference store %s does not exist in this account", id)
	}
	return st, nil
}

// ListReferenceStores lists the account's reference stores.
func (s *Service) ListReferenceStores(ctx context.Context, account, name string, created meta.TimeRange, p meta.Page) ([]*seqstore.ReferenceStore, string, error) {
	return s.Meta.ReferenceStoreList(ctx, account, name, created, p)
}

// DeleteReferenceStore deletes an empty reference store and its tags.
func (s *Service) DeleteReferenceStore(ctx context.Context, account, id string) error {
	err := s.Meta.ReferenceStoreDelete(ctx, account, id)
	switch {
	case errors.Is(err, meta.ErrConflict):
		return seqstore.Errorf(seqstore.CodeConflict, "reference store %s still holds references; delete them first (DeleteReference)", id)
	case err != nil:
		return notFound(err, "reference store %s does not exist in this account", id)
	}
	if err := s.Meta.TagsDeleteAll(ctx, account, s.ARN.ReferenceStore(account, id)); err != nil {
		return err
	}
	if err := s.Meta.S3AccessPolicyDelete(ctx, account, s.ARN.S3AccessPoint(account, id)); err != nil && !errors.Is(err, meta.ErrNotFound) {
		return err
	}
	s.Log.InfoContext(ctx, "reference store deleted", "account", account, "store", id)
	return nil
}
