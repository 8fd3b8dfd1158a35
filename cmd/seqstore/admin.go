package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"text/tabwriter"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/auth"
	"github.com/seqstore/seqstore/internal/config"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/server"
)

const adminUsage = `Usage: seqstore admin COMMAND [flags]

Commands:
  account create -name NAME [-id ID]   add an account and print its first access key
  account list                          list accounts
  key create -account ID                add an access key to an account and print it
  key list -account ID                  list an account's access key IDs
  key delete KEYID                      revoke an access key for good (within 10 seconds
                                        on running servers; a deleted ID never comes back)
  token create -account ID [-ttl D] [-name LABEL]
                                        issue a bearer token for htsget and refget and
                                        print it (once: only its hash is kept)
  token list -account ID                list an account's bearer tokens
  token revoke TOKENID                  revoke a bearer token (at once on running servers)
  backup -to FILE                       copy the embedded SQLite database, consistently,
                                        while servers run
  restore -from FILE                    put a backup in place of the embedded database
                                        (stop every server first; the old one is kept)
  keyring add -keyring FILE NAME        add a key, or a new version of one, to a keyring file
  rewrap -keyring FILE                  wrap every encrypted object's data key with the
                                        newest version of its key
  usage                                 bytes each account and store keeps in each tier
                                        (active, archive, upload parts)

Each command but keyring add takes -data or -metadata to find the metadata
store, as serve does; rewrap also -objects, -archive-objects and -keyring;
usage -objects and -archive-objects. Its flags:
seqstore admin COMMAND -h
`

// adminCommand is one `seqstore admin` command: its flags and what it does
// with the metadata store.
type adminCommand struct {
	synopsis string                                                                                             // after "seqstore admin NAME "
	setup    func(fs *flag.FlagSet) func(ctx context.Context, m meta.Store, args []string, out io.Writer) error // registers the flags, returns the action
}

var adminCommands = map[string]adminCommand{
	"account create": {"-name NAME [-id ID]", adminAccountCreate},
	"account list":   {"", adminAccountList},
	"key create":     {"-account ID", adminKeyCreate},
	"key list":       {"-account ID", adminKeyList},
	"key delete":     {"KEYID", adminKeyDelete},
	"token create":   {"-account ID [-ttl DURATION] [-name LABEL]", adminTokenCreate},
	"token list":     {"-account ID", adminTokenList},
	"token revoke":   {"TOKENID", adminTokenRevoke},
}

func runAdmin(ctx context.Context, args []string, out io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(out, adminUsage)
		return nil
	}
	switch {
	case len(args) > 0 && (args[0] == "backup" || args[0] == "restore"):
		return runAdminFile(ctx, args[0], args[1:], out)
	case len(args) > 0 && args[0] == "rewrap":
		return runRewrap(ctx, args[1:], out)
	case len(args) > 0 && args[0] == "usage":
		return runUsage(ctx, args[1:], out)
	case len(args) > 1 && args[0] == "keyring" && args[1] == "add":
		return runKeyringAdd(ctx, args[2:], out)
	}
	if len(args) < 2 {
		fmt.Fprint(os.Stderr, adminUsage)
		return errors.New("admin needs a command")
	}
	name := args[0] + " " + args[1]
	c, ok := adminCommands[name]
	if !ok {
		fmt.Fprint(os.Stderr, adminUsage)
		return fmt.Errorf("unknown admin command %q", name)
	}
	fs := flag.NewFlagSet("seqstore admin "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: seqstore admin %s %s [flags]\n\nFlags:\n", name, c.synopsis)
		fs.PrintDefaults()
	}
	store := addStoreFlags(fs)
	run := c.setup(fs)
	positional, err := parseArgs(fs, args[2:])
	if err != nil {
		return helpRequested(err)
	}
	m, err := store.open(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	return run(ctx, m, positional, out)
}

// storeFlags locate the metadata store with serve's flags of the same names
// and environment variables.
type storeFlags struct{ cfg config.Config }

func addStoreFlags(fs *flag.FlagSet) *storeFlags {
	f := &storeFlags{}
	f.cfg.RegisterMetadata(fs)
	return f
}

// open opens the metadata store. It never makes a data directory: a
// mistyped -data would otherwise give an empty store that silently
// answers every question.
func (f *storeFlags) open(ctx context.Context) (meta.Store, error) {
	cfg := &f.cfg
	if err := cfg.FinishMetadata(); err != nil {
		return nil, err
	}
	if cfg.Metadata == "sqlite" {
		if info, err := os.Stat(cfg.DataDir); err != nil || !info.IsDir() {
			return nil, fmt.Errorf("no seqstore data directory at %s: point -data (or SEQSTORE_DATA) at the directory serve uses, or use -metadata for PostgreSQL", cfg.DataDir)
		}
	}
	return server.OpenMeta(ctx, cfg)
}

// noArgs rejects positional arguments a command does not take.
func noArgs(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q (flags go with a '-')", args)
	}
	return nil
}

func adminAccountCreate(fs *flag.FlagSet) func(context.Context, meta.Store, []string, io.Writer) error {
	name := fs.String("name", "", "the account's `name`, unique among accounts (required)")
	id := fs.String("id", "", "12-digit account `ID` (default: random)")
	return func(ctx context.Context, m meta.Store, args []string, out io.Writer) error {
		if err := noArgs(args); err != nil {
			return err
		}
		if *name == "" {
			return errors.New("account create needs -name")
		}
		acct := *id
		if acct == "" {
			acct = randomAccountID()
		}
		if err := auth.CheckAccountID(acct); err != nil {
			return err
		}
		accounts, err := m.AccountList(ctx)
		if err != nil {
			return err
		}
		for _, a := range accounts {
			switch {
			case a.ID == acct:
				return fmt.Errorf("account %s exists already (named %q)", acct, a.Name)
			case a.Name == *name:
				return fmt.Errorf("an account named %q exists already: %s; choose another -name", a.Name, a.ID)
			}
		}
		if err := m.AccountPut(ctx, seqstore.Account{ID: acct, Name: *name, CreatedAt: time.Now().UTC()}); err != nil {
			return err
		}
		return printNewKey(ctx, m, acct, out)
	}
}

func adminAccountList(*flag.FlagSet) func(context.Context, meta.Store, []string, io.Writer) error {
	return func(ctx context.Context, m meta.Store, args []string, out io.Writer) error {
		if err := noArgs(args); err != nil {
			return err
		}
		accounts, err := m.AccountList(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCOUNT\tNAME\tCREATED")
		for _, a := range accounts {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", a.ID, a.Name, a.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	}
}

func adminKeyCreate(fs *flag.FlagSet) func(context.Context, meta.Store, []string, io.Writer) error {
	account := fs.String("account", "", "the account `ID` the key acts for (required)")
	return func(ctx context.Context, m meta.Store, args []string, out io.Writer) error {
		if err := noArgs(args); err != nil {
			return err
		}
		if err := accountExists(ctx, m, *account); err != nil {
			return err
		}
		return printNewKey(ctx, m, *account, out)
	}
}

func adminKeyList(fs *flag.FlagSet) func(context.Context, meta.Store, []string, io.Writer) error {
	account := fs.String("account", "", "the account `ID` whose keys to list (required)")
	return func(ctx context.Context, m meta.Store, args []string, out io.Writer) error {
		if err := noArgs(args); err != nil {
			return err
		}
		if err := accountExists(ctx, m, *account); err != nil {
			return err
		}
		keys, err := m.AccessKeyList(ctx, *account)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCESS KEY ID\tCREATED")
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%s\n", k.ID, k.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	}
}

func adminKeyDelete(*flag.FlagSet) func(context.Context, meta.Store, []string, io.Writer) error {
	return func(ctx context.Context, m meta.Store, args []string, out io.Writer) error {
		if len(args) != 1 {
			return fmt.Errorf("key delete takes one access key ID, got %d arguments", len(args))
		}
		if err := m.AccessKeyDelete(ctx, args[0]); err != nil {
			if errors.Is(err, meta.ErrNotFound) {
				return fmt.Errorf("no access key %s (see seqstore admin key list -account ID)", args[0])
			}
			return err
		}
		fmt.Fprintf(out, "deleted %s\n", args[0])
		return nil
	}
}

// accountExists says what to do when account is missing or unknown.
func accountExists(ctx context.Context, m meta.Store, account string) error {
	if account == "" {
		return errors.New("-account is required (see seqstore admin account list)")
	}
	_, err := m.AccountGet(ctx, account)
	if errors.Is(err, meta.ErrNotFound) {
		return fmt.Errorf("no account %s (see seqstore admin account list)", account)
	}
	return err
}

func printNewKey(ctx context.Context, m meta.Store, account string, out io.Writer) error {
	k := auth.NewAccessKey(account)
	if err := m.AccessKeyPut(ctx, k); err != nil {
		return err
	}
	fmt.Fprintf(out, "account %s\nexport AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n", account, k.ID, k.Secret)
	return nil
}

func randomAccountID() string {
	n, err := rand.Int(rand.Reader, big.NewInt(900_000_000_000))
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%012d", n.Int64()+100_000_000_000)
}
