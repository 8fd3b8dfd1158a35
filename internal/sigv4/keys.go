package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"sync"
)

// signingKey is the key SigV4 derives for one secret and scope,
//
//	HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")
//
// kept as the two padded blocks of HMAC-SHA256 (RFC 2104), so that signing
// a string costs two SHA-256 sums and no allocation.
type signingKey struct {
	// secret, region and service are what the key was derived from: a hit
	// whose secret differs (a rotated key) is derived again.
	secret, region, service string
	innerPad, outerPad      [sha256.BlockSize]byte
}

func newSigningKey(secret, date, region, service string) *signingKey {
	mac := func(key []byte, data string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(data))
		return m.Sum(nil)
	}
	k := mac([]byte("AWS4"+secret), date)
	k = mac(k, region)
	k = mac(k, service)
	k = mac(k, terminator)
	sk := &signingKey{secret: secret, region: region, service: service}
	// k is 32 bytes, shorter than a block, so it is used as it is, padded
	// with zeros.
	for i := range sk.innerPad {
		var b byte
		if i < len(k) {
			b = k[i]
		}
		sk.innerPad[i] = b ^ 0x36
		sk.outerPad[i] = b ^ 0x5c
	}
	return sk
}

// sign returns HMAC-SHA256(key, msg). scratch must hold msg after
// sha256.BlockSize bytes of room; it is overwritten.
func (k *signingKey) sign(scratch []byte) [sha256.Size]byte {
	copy(scratch, k.innerPad[:])
	inner := sha256.Sum256(scratch)
	var outer [sha256.BlockSize + sha256.Size]byte
	copy(outer[:], k.outerPad[:])
	copy(outer[sha256.BlockSize:], inner[:])
	return sha256.Sum256(outer[:])
}

// keyCache holds derived signing keys by access key ID and date, so that
// the four HMACs of the derivation run once a day per key, not per request.
type keyCache struct {
	mu   sync.RWMutex
	keys map[keyCacheID]*signingKey
}

type keyCacheID struct{ accessKey, date string }

// maxCachedKeys bounds the cache; when full it starts again, which costs one
// derivation per active key.
const maxCachedKeys = 4096

func (c *keyCache) get(accessKey, secret, date, region, service string) *signingKey {
	id := keyCacheID{accessKey, date}
	c.mu.RLock()
	k := c.keys[id]
	c.mu.RUnlock()
	if k != nil && k.secret == secret && k.region == region && k.service == service {
		return k
	}
	k = newSigningKey(secret, date, region, service)
	// The strings may point into a request's headers; copies keep the
	// cache from holding those alive.
	id = keyCacheID{string([]byte(accessKey)), string([]byte(date))}
	k.region, k.service = string([]byte(region)), string([]byte(service))
	c.mu.Lock()
	if c.keys == nil || len(c.keys) >= maxCachedKeys {
		c.keys = make(map[keyCacheID]*signingKey)
	}
	c.keys[id] = k
	c.mu.Unlock()
	return k
}
