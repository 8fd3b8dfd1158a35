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

// The storeType of an access point: a sequence store's or a reference
// store's.
const (
	StoreTypeSequence  = "SEQUENCE_STORE"
	StoreTypeReference = "REFERENCE_STORE"
)

// accessPointStore finds the store of the account an access-point ARN
// names: a sequence store, or else a reference store (both name their
// access points ACCOUNT-STOREID).
func (s *Service) accessPointStore(ctx context.Context, account, accessPointArn string) (storeID, storeType string, err error) {
	acct, storeID, err := arn.ParseS3AccessPoint(accessPointArn)
	if err != nil {
		return "", "", seqstore.Errorf(seqstore.CodeValidation, "s3AccessPointArn: %v", err)
	}
	missing := seqstore.Errorf(seqstore.CodeNotFound, "access point %s does not belong to a sequence or reference store of this account", accessPointArn)
	if acct != account {
		return "", "", missing
	}
	_, err = s.Meta.SequenceStoreGet(ctx, account, storeID)
	if err == nil {
		return storeID, StoreTypeSequence, nil
	}
	if !errors.Is(err, meta.ErrNotFound) {
		return "", "", err
	}
	_, err = s.Meta.ReferenceStoreGet(ctx, account, storeID)
	if errors.Is(err, meta.ErrNotFound) {
		return "", "", missing
	}
	if err != nil {
		return "", "", err
	}
	return storeID, StoreTypeReference, nil
}

// PutS3AccessPolicy sets the resource policy of a store's access point.
func (s *Service) PutS3AccessPolicy(ctx context.Context, account, accessPointArn, policy string) (*seqstore.S3AccessPolicy, error) {
	storeID, storeType, err := s.accessPointStore(ctx, account, accessPointArn)
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
		AccessPointArn: s.ARN.S3AccessPoint(account, storeID),
		StoreID:        storeID,
		StoreType:      storeType,
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
	storeID, _, err := s.accessPointStore(ctx, account, accessPointArn)
	if err != nil {
		return nil, err
	}
	p, err := s.Meta.S3AccessPolicyGet(ctx, account, s.ARN.S3AccessPoint(account, storeID))
	if err != nil {
		return nil, notFound(err, "access point %s has no policy; set one with PutS3AccessPolicy", accessPointArn)
	}
	return p, nil
}

// DeleteS3AccessPolicy removes the policy of a store's access point.
func (s *Service) DeleteS3AccessPolicy(ctx context.Context, account, accessPointArn string) error {
	storeID, _, err := s.accessPointStore(ctx, account, accessPointArn)
	if err != nil {
		return err
	}
	err = s.Meta.S3AccessPolicyDelete(ctx, account, s.ARN.S3AccessPoint(account, storeID))
	return notFound(err, "access point %s has no policy", accessPointArn)
}
