// Package arn builds and parses the Amazon Resource Names seqstore hands out,
// in the layout AWS HealthOmics uses, so that clients which pick ARNs apart
// keep working.
package arn

import (
	"fmt"
	"strings"
)

// Resource kinds that can carry tags or be named by an ARN.
const (
	KindSequenceStore  = "sequenceStore"
	KindReadSet        = "readSet"
	KindReferenceStore = "referenceStore"
	KindReference      = "reference"
)

// Resource is a parsed omics ARN.
type Resource struct {
	Partition string
	Region    string
	AccountID string
	Kind      string // one of the Kind constants
	StoreID   string // the sequence or reference store
	ID        string // the read set or reference; empty for a store
}

// Builder builds ARNs for one region.
type Builder struct {
	Partition string // "aws"
	Region    string
}

func (b Builder) prefix(account string) string {
	return "arn:" + b.Partition + ":omics:" + b.Region + ":" + account + ":"
}

// SequenceStore returns arn:aws:omics:{region}:{account}:sequenceStore/{id}.
func (b Builder) SequenceStore(account, id string) string {
	return b.prefix(account) + "sequenceStore/" + id
}

// ReadSet returns the ARN of a read set.
func (b Builder) ReadSet(account, storeID, id string) string {
	return b.SequenceStore(account, storeID) + "/readSet/" + id
}

// ReferenceStore returns the ARN of a reference store.
func (b Builder) ReferenceStore(account, id string) string {
	return b.prefix(account) + "referenceStore/" + id
}

// Reference returns the ARN of a reference.
func (b Builder) Reference(account, storeID, id string) string {
	return b.ReferenceStore(account, storeID) + "/reference/" + id
}

// S3AccessPoint returns the ARN of a sequence store's S3 access point, in
// AWS's layout: arn:aws:s3:{region}:{account}:accesspoint/{account}-{storeId}.
func (b Builder) S3AccessPoint(account, storeID string) string {
	return "arn:" + b.Partition + ":s3:" + b.Region + ":" + account + ":accesspoint/" + account + "-" + storeID
}

// ParseS3AccessPoint returns the account and store ID an access-point ARN
// names.
func ParseS3AccessPoint(s string) (account, storeID string, err error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "s3" || !strings.HasPrefix(parts[5], "accesspoint/") {
		return "", "", fmt.Errorf("%q is not an S3 access point ARN (arn:aws:s3:REGION:ACCOUNT:accesspoint/ACCOUNT-STOREID)", s)
	}
	name := strings.TrimPrefix(parts[5], "accesspoint/")
	acct, store, ok := strings.Cut(name, "-")
	if !ok || acct != parts[4] || !digits(store) {
		return "", "", fmt.Errorf("access point %q does not name a store of this service (expected ACCOUNT-STOREID)", name)
	}
	return parts[4], store, nil
}

// Parse parses an omics resource ARN.
func Parse(s string) (Resource, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "omics" {
		return Resource{}, fmt.Errorf("%q is not an omics ARN (arn:aws:omics:REGION:ACCOUNT:RESOURCE)", s)
	}
	r := Resource{Partition: parts[1], Region: parts[3], AccountID: parts[4]}
	seg := strings.Split(parts[5], "/")
	switch {
	case len(seg) == 2 && seg[0] == KindSequenceStore:
		r.Kind, r.StoreID = KindSequenceStore, seg[1]
	case len(seg) == 4 && seg[0] == KindSequenceStore && seg[2] == KindReadSet:
		r.Kind, r.StoreID, r.ID = KindReadSet, seg[1], seg[3]
	case len(seg) == 2 && seg[0] == KindReferenceStore:
		r.Kind, r.StoreID = KindReferenceStore, seg[1]
	case len(seg) == 4 && seg[0] == KindReferenceStore && seg[2] == KindReference:
		r.Kind, r.StoreID, r.ID = KindReference, seg[1], seg[3]
	default:
		return Resource{}, fmt.Errorf("%q names no resource seqstore keeps (sequenceStore/ID, sequenceStore/ID/readSet/ID, referenceStore/ID or referenceStore/ID/reference/ID)", s)
	}
	if !digits(r.StoreID) || (r.ID != "" && !digits(r.ID)) {
		return Resource{}, fmt.Errorf("%q has a malformed resource ID: IDs are decimal digits", s)
	}
	return r, nil
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// The middle of the access-point aliases seqstore hands out, where AWS puts
// random letters: it names seqstore as the alias's owner, and tells a
// sequence store's alias from a reference store's.
const (
	aliasSequenceStore  = "-seqstore-s3alias"
	aliasReferenceStore = "-seqstoreref-s3alias"
)

// S3Alias returns the alias of a sequence store's access point, the bucket
// of its s3Uri: {account}-{storeId}-seqstore-s3alias.
func S3Alias(account, storeID string) string {
	return account + "-" + storeID + aliasSequenceStore
}

// ReferenceS3Alias returns the alias of a reference store's access point:
// {account}-{storeId}-seqstoreref-s3alias.
func ReferenceS3Alias(account, storeID string) string {
	return account + "-" + storeID + aliasReferenceStore
}

// ParseS3Alias returns the account and store an alias names, and whether
// the store is a reference store; ok is false for any other name.
func ParseS3Alias(alias string) (account, storeID string, reference, ok bool) {
	rest, found := strings.CutSuffix(alias, aliasReferenceStore)
	if found {
		reference = true
	} else if rest, found = strings.CutSuffix(alias, aliasSequenceStore); !found {
		return "", "", false, false
	}
	account, storeID, found = strings.Cut(rest, "-")
	if !found || !digits(account) || !digits(storeID) {
		return "", "", false, false
	}
	return account, storeID, reference, true
}

// S3KeyPrefix returns where a store's files lie under its alias, as
// HealthOmics lays them out: {account}/sequenceStore/{storeId}/ or
// {account}/referenceStore/{storeId}/.
func S3KeyPrefix(account, storeID string, reference bool) string {
	if reference {
		return account + "/" + KindReferenceStore + "/" + storeID + "/"
	}
	return account + "/" + KindSequenceStore + "/" + storeID + "/"
}

// ReadSetS3Key returns the key of a read set's file under its store's alias.
func ReadSetS3Key(account, storeID, readSetID, name string) string {
	return S3KeyPrefix(account, storeID, false) + KindReadSet + "/" + readSetID + "/" + name
}

// ReferenceS3Key returns the key of a reference's file under its store's
// alias.
func ReferenceS3Key(account, storeID, referenceID, name string) string {
	return S3KeyPrefix(account, storeID, true) + KindReference + "/" + referenceID + "/" + name
}
