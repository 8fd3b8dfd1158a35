package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// pageTokens seals the metadata store's page keys into opaque nextTokens.
// A token is bound to the operation, the account and the request's filter,
// and signed, so a token that was tampered with, made up, or carried over to
// another list is refused instead of silently listing the wrong things.
type pageTokens struct {
	key []byte
}

type tokenBody struct {
	Op      string `json:"o"`
	Account string `json:"a"`
	Scope   string `json:"s"` // digest of what the list is of: store, filter
	Key     string `json:"k"`
}

var errBadToken = errors.New("nextToken is not valid for this request: pass back, unchanged, the nextToken of the previous page of the same list with the same filter")

// seal makes the nextToken for page key k ("" means no more pages).
func (p *pageTokens) seal(op, account, scope, k string) string {
	if k == "" {
		return ""
	}
	body, _ := json.Marshal(tokenBody{Op: op, Account: account, Scope: digest(scope), Key: k})
	enc := base64.RawURLEncoding.EncodeToString(body)
	return enc + "." + p.sign(enc)
}

// open returns the page key inside token ("" for no token).
func (p *pageTokens) open(op, account, scope, token string) (string, error) {
	if token == "" {
		return "", nil
	}
	enc, sig, ok := strings.Cut(token, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(p.sign(enc))) {
		return "", errBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", errBadToken
	}
	var b tokenBody
	if err := json.Unmarshal(raw, &b); err != nil || b.Op != op || b.Account != account || b.Scope != digest(scope) || b.Key == "" {
		return "", errBadToken
	}
	return b.Key, nil
}

func (p *pageTokens) sign(s string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(s))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}
