// Package s3read answers the read side of the S3 REST API — HeadObject,
// GetObject with a byte range and conditions, ListObjectsV2 (and the older
// ListObjects), GetBucketLocation and HeadBucket — so that S3-aware tools
// (the AWS CLI, boto3, samtools, GATK) read the files of a store in place,
// under the s3Uri the omics API reports for them. It routes path-style and
// virtual-host-style requests, checks SigV4 signatures for the service s3
// (headers and presigned URLs), decides access from the bucket's owner and
// its access-point policy, and writes S3's XML answers and errors. Writes
// are refused as S3 refuses them.
//
// It knows nothing of file formats or of how stores are kept: a Backend
// maps bucket names and keys onto objects and opens byte ranges of them,
// and bodies are streamed from those range readers, so memory stays flat
// whatever the file size.
package s3read

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/seqstore/seqstore/internal/s3policy"
)

var (
	// ErrNoSuchBucket is wrapped by a Backend's error for a bucket name
	// that names no store.
	ErrNoSuchBucket = errors.New("s3read: no such bucket")
	// ErrNoSuchKey is wrapped by a Backend's error for a key that names no
	// object.
	ErrNoSuchKey = errors.New("s3read: no such key")
	// ErrStop, returned by a List callback, ends the listing without error.
	ErrStop = errors.New("s3read: stop listing")
)

// Backend is where buckets and objects come from.
type Backend interface {
	// Bucket resolves a bucket name (an access-point alias) or fails with
	// an error wrapping ErrNoSuchBucket.
	Bucket(ctx context.Context, name string) (*Bucket, error)
	// Object describes the object under key, or fails with an error
	// wrapping ErrNoSuchKey. Archived objects are described, marked so.
	Object(ctx context.Context, b *Bucket, key string) (*Object, error)
	// List calls fn for every object whose key starts with prefix and
	// sorts after after (byte-wise), in key order, until fn returns an
	// error; ErrStop ends it without one.
	List(ctx context.Context, b *Bucket, prefix, after string, fn func(*Object) error) error
	// Open reads length bytes of o from offset (both within o) and counts
	// as a read of its data.
	Open(ctx context.Context, b *Bucket, o *Object, offset, length int64) (io.ReadCloser, error)
}

// Bucket is one store seen through S3.
type Bucket struct {
	Name string
	// Owner is the account that owns the store: it may always read.
	Owner string
	// AccessPointArn is the ARN policies name as the bucket's resource;
	// objects are AccessPointArn + "/object/" + key.
	AccessPointArn string
	// Policy is the access point's policy; nil grants nothing.
	Policy *s3policy.Policy
	// Ref is the Backend's own.
	Ref any
}

// Object is one file.
type Object struct {
	Key          string
	Size         int64
	LastModified time.Time
	// ETag is the entity tag without quotes: it changes whenever the bytes
	// may have.
	ETag string
	// Archived objects are listed and described but cannot be read until
	// they are restored (S3's InvalidObjectState).
	Archived bool
	// Ref is the Backend's own.
	Ref any
}
