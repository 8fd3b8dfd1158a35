package service

import (
	"context"
	"errors"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/arn"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/s3policy"
)

// MaxS3AccessPolicyBytes is HealthOmics' fixed quota on a policy's size.
const MaxS3AccessPolicyBytes = 15 * 1024

// StoreTypeSequence is the storeType of a sequence store's access point.
const StoreTypeSequence = "SEQUENCE_STORE"

// accessPointStore checks that an access-point ARN names a sequence store of
// the account.
func (s *Service) accessPointStore(ctx context.Context, account, accessPointArn string) (*seqstore.SequenceStore, error) {
	acct, storeID, err := arn.ParseS3AccessPoint(accessPointArn)
	if err != nil {
		return nil, seqstore.Errorf(seqstore.CodeValidation, "s3AccessPointArn: %v", err)
	}
	missing := seqstore.Errorf(seqstore.CodeNotFound, "access point %s does not belong to a sequence store of this account", accessPointArn)
	if acct != account {
		return nil, missing
	}
	st, err := s.Meta.SequenceStoreGet(ctx, account, storeID)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, missing
	}
	return st, err
}

// PutS3AccessPolicy sets the resource policy of a store's access point.
func (s *Service) PutS3AccessPolicy(ctx context.Context, account, accessPointArn, policy string) (*seqstore.S3AccessPolicy, error) {
	st, err := s.accessPointStore(ctx, account, accessPointArn)
	if err != nil {
		return nil, err
	}
	if len(policy) > MaxS3AccessPolicyBytes {
		return nil, seqstore.Errorf(seqstore.CodeValidation, "s3AccessPolicy is %d bytes; the limit is %d", len(policy), MaxS3AccessPolicyBytes)
	}
	// A policy the S3 endpoint could not evaluate as written is refused
	// now, rather than stored to grant less, or more, than was meant.
	if _, err := s3policy.Parse(policy); err != nil {
		return nil, seqstore.Errorf(seqstore.CodeValidation, "s3AccessPolicy: %v", err)
	}
	p := &seqstore.S3AccessPolicy{
		AccountID:      account,
		AccessPointArn: s.ARN.S3AccessPoint(account, st.ID),
		StoreID:        st.ID,
		StoreType:      StoreTypeSequence,
		Policy:         policy,
		UpdatedAt:      s.now(),
	}
	if err := s.Meta.S3AccessPolicyPut(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// GetS3AccessPolicy returns the policy of a store's access point.
func (s *Service) GetS3AccessPolicy(ctx context.Context, account, accessPointArn string) (*seqstore.S3AccessPolicy, error) {
	st, err := s.accessPointStore(ctx, account, accessPointArn)
	if err != nil {
		return nil, err
	}
	p, err := s.Meta.S3AccessPolicyGet(ctx, account, s.ARN.S3AccessPoint(account, st.ID))
	if err != nil {
		return nil, notFound(err, "access point %s has no policy; set one with PutS3AccessPolicy", accessPointArn)
	}
	return p, nil
}

// DeleteS3AccessPolicy removes the policy of a store's access point.
func (s *Service) DeleteS3AccessPolicy(ctx context.Context, account, accessPointArn string) error {
	st, err := s.accessPointStore(ctx, account, accessPointArn)
	if err != nil {
		return err
	}
	err = s.Meta.S3AccessPolicyDelete(ctx, account, s.ARN.S3AccessPoint(account, st.ID))
	return notFound(err, "access point %s has no policy", accessPointArn)
}
