// Package throttle holds each account to a request rate per operation, as
// AWS's API quotas hold each account in a Region: a caller past its rate is
// told to slow down (the API answers ThrottlingException, which every AWS
// client retries with backoff) instead of taking the server from everyone
// else. Each node counts on its own, so behind a load balancer over n nodes
// an account gets up to n times the rate.
package throttle

import (
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// AWSQuotas are the API quotas of HealthOmics storage in requests a second
// per account, by operation; every operation not named has DefaultQuota.
var AWSQuotas = map[string]float64{
	"CreateSequenceStore":            1,
	"UpdateSequenceStore":            1,
	"DeleteSequenceStore":            1,
	"CreateReferenceStore":           1,
	"DeleteReferenceStore":           1,
	"BatchDeleteReadSet":             1,
	"DeleteReference":                1,
	"CreateMultipartReadSetUpload":   1,
	"CompleteMultipartReadSetUpload": 1,
	"AbortMultipartReadSetUpload":    1,
	"GetS3AccessPolicy":              1,
	"PutS3AccessPolicy":              1,
	"DeleteS3AccessPolicy":           1,
	"GetReference":                   10,
	"UploadReadSetPart":              10,
	"GetReadSet":                     30,
}

// DefaultQuota is the AWS quota of every storage Get, List and Start
// operation and the tag operations not in AWSQuotas.
const DefaultQuota = 5

// Limiter keeps a token bucket per account and operation. Each bucket fills
// at the operation's rate and holds one second's worth (at least one
// request), so a client may send a second's requests at once.
type Limiter struct {
	scale float64
	// Throttled, when set, is told of every refusal (for metrics).
	Throttled func(operation string)

	mu      sync.Mutex
	buckets map[bucketKey]*rate.Limiter
}

type bucketKey struct{ account, operation string }

// maxBuckets bounds the buckets kept. Only signed requests of known
// accounts reach the limiter, so the map grows with accounts times
// operations; past the bound it starts again empty, which forgives, for
// once, every account's recent requests.
const maxBuckets = 100_000

// NewAWS returns a limiter at AWS's quotas times scale (2: twice as many
// requests a second).
func NewAWS(scale float64) (*Limiter, error) {
	if !(scale > 0) || math.IsInf(scale, 0) {
		return nil, fmt.Errorf("the throttle scale %v must be a positive number", scale)
	}
	return &Limiter{scale: scale, buckets: map[bucketKey]*rate.Limiter{}}, nil
}

// Rate is an operation's requests a second per account.
func (l *Limiter) Rate(operation string) float64 {
	q, ok := AWSQuotas[operation]
	if !ok {
		q = DefaultQuota
	}
	return q * l.scale
}

// Allow takes a token for one request of account to operation at now, and
// reports whether there was one.
func (l *Limiter) Allow(account, operation string, now time.Time) bool {
	k := bucketKey{account, operation}
	l.mu.Lock()
	b := l.buckets[k]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			clear(l.buckets)
		}
		r := l.Rate(operation)
		b = rate.NewLimiter(rate.Limit(r), max(1, int(math.Ceil(r))))
		l.buckets[k] = b
	}
	l.mu.Unlock()
	if b.AllowN(now, 1) {
		return true
	}
	if l.Throttled != nil {
		l.Throttled(operation)
	}
	return false
}
