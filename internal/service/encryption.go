package service

import (
	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/keyring"
)

// checkSSE accepts a store's sseConfig only when the server can keep its
// promise: a keyring that holds the key it names. A store never claims an
// encryption it does not have.
func (s *Service) checkSSE(sseType, keyArn string) error {
	if sseType == "" && keyArn == "" {
		return nil
	}
	if sseType != "KMS" {
		return seqstore.Errorf(seqstore.CodeValidation, "sseConfig type %q is not supported; the one type is KMS", sseType)
	}
	if s.Keyring == nil {
		return seqstore.Errorf(seqstore.CodeValidation, "sseConfig asks for encryption at rest, but this server has no keyring to encrypt with: its operator must start it with -keyring naming a keyring that holds the key (see \"Encryption at rest\" in seqstore's README), or create the store without sseConfig")
	}
	name := keyring.NameFor(keyArn)
	if s.Keyring.Has(name) {
		return nil
	}
	if keyArn == "" {
		return seqstore.Errorf(seqstore.CodeValidation, "sseConfig gives no keyArn, and this server's keyring has no key named %q to use instead: give the keyArn of a key in the keyring, or ask the operator to add a %q key", keyring.DefaultName, keyring.DefaultName)
	}
	return seqstore.Errorf(seqstore.CodeValidation, "sseConfig keyArn %s names no key of this server's keyring: ask its operator to add that key, or give the keyArn of one it holds", keyArn)
}
