package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/keyring"
	"github.com/seqstore/seqstore/internal/server"
)

// runRewrap is `seqstore admin rewrap`: after a key version is added to the
// keyring, it wraps every encrypted object's data key with the newest
// version of its key, so that older versions can leave the keyring. The
// encrypted chunks are copied as they are, never decrypted.
func runRewrap(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("seqstore admin rewrap", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: seqstore admin rewrap -keyring FILE [flags]\n\n"+
			"Wraps the data key of every encrypted object with the newest version of its\n"+
			"key. Run it with the keyring, object and metadata flags serve uses; the\n"+
			"server may keep running.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	store := addStoreFlags(fs)
	cfg := &store.cfg
	cfg.RegisterObjects(fs)
	cfg.RegisterArchiveObjects(fs)
	positional, err := parseArgs(fs, args)
	if err != nil {
		return helpRequested(err)
	}
	if err := noArgs(positional); err != nil {
		return err
	}
	if cfg.Keyring == "" {
		return errors.New("rewrap needs the keyring: give -keyring (or SEQSTORE_KEYRING) as serve has it")
	}
	ring, err := server.OpenKeyring(cfg)
	if err != nil {
		return err
	}
	m, err := store.open(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := cfg.FinishObjects(); err != nil {
		return err
	}
	base, archive, err := openTiers(ctx, cfg)
	if err != nil {
		return err
	}
	defer base.Close()
	defer archive.Close()
	var rewrapped, unchanged, failed int
	// Both tiers: an archived read set's objects are encrypted with its
	// store's key as its active ones were.
	for _, tier := range []blob.Store{base, archive} {
		enc := server.EncryptedBlobs(m, tier, ring)
		err = tier.List(ctx, "", func(key string, _ blob.Attributes) error {
			changed, err := enc.Rewrap(ctx, key)
			switch {
			case errors.Is(err, blob.ErrNotFound):
				// Deleted since it was listed.
			case err != nil:
				failed++
				fmt.Fprintf(os.Stderr, "%s: %v\n", key, err)
			case changed:
				rewrapped++
			default:
				unchanged++
			}
			return ctx.Err()
		})
		if err != nil {
			break
		}
	}
	fmt.Fprintf(out, "rewrapped %d objects; %d were plaintext or already wrapped by their key's newest version\n", rewrapped, unchanged)
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d objects could not be rewrapped (listed above); the others were", failed)
	}
	return nil
}

// runKeyringAdd is `seqstore admin keyring add`: a new key, or a new
// version of one, with fresh random bytes.
func runKeyringAdd(_ context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("seqstore admin keyring add", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: seqstore admin keyring add -keyring FILE NAME\n\n"+
			"Appends a new random key NAME to the keyring file (mode 0600, made if missing),\n"+
			"or, when NAME is there, its next version, which wraps new objects after the\n"+
			"servers restart. NAME is the keyArn stores give, or \"default\".\n\nFlags:\n")
		fs.PrintDefaults()
	}
	path := fs.String("keyring", os.Getenv("SEQSTORE_KEYRING"), "keyring `file` to add to (SEQSTORE_KEYRING)")
	positional, err := parseArgs(fs, args)
	if err != nil {
		return helpRequested(err)
	}
	if len(positional) != 1 || *path == "" {
		fs.Usage()
		return errors.New("keyring add needs -keyring FILE and one NAME")
	}
	v, err := keyring.AddVersion(*path, positional[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "added %s version %d to %s; restart the servers to wrap new objects with it\n", positional[0], v, *path)
	return nil
}
