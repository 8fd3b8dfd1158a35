package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"text/tabwriter"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/auth"
	"github.com/seqstore/seqstore/internal/config"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/server"
)

const adminUsage = `Usage: seqstore admin COMMAND [flags]

Commands (each takes the serve flags that locate the metadata store, such as -data or -metadata):
  account create -name NAME [-id ID]   add an account and print its first access key
  account list                          list accounts
  key create -account ID                add an access key to an account and print it
  key list -account ID                  list an account's access key IDs
  key delete KEYID                      revoke an access key (within 10 seconds on running servers)
`

func runAdmin(ctx context.Context, args []string, out io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(out, adminUsage)
		return errors.New("admin needs a command")
	}
	cmd := args[0] + " " + args[1]
	fs := flag.NewFlagSet("seqstore admin "+cmd, flag.ContinueOnError)
	cfg := config.Register(fs)
	name := fs.String("name", "", "account name")
	id := fs.String("id", "", "12-digit account ID (default: random)")
	account := fs.String("account", "", "account ID")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	if err := cfg.Finish(); err != nil {
		return err
	}
	m, err := server.OpenMeta(ctx, cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	switch cmd {
	case "account create":
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
		if _, err := m.AccountGet(ctx, acct); err == nil {
			return fmt.Errorf("account %s exists already", acct)
		}
		if err := m.AccountPut(ctx, seqstore.Account{ID: acct, Name: *name, CreatedAt: time.Now().UTC()}); err != nil {
			return err
		}
		return printNewKey(ctx, m, acct, out)
	case "account list":
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
	case "key create":
		if _, err := m.AccountGet(ctx, *account); err != nil {
			return fmt.Errorf("account %q: %w (see seqstore admin account list)", *account, err)
		}
		return printNewKey(ctx, m, *account, out)
	case "key list":
		keys, err := m.AccessKeyList(ctx, *account)
		if err != nil {
			return err
		}
		for _, k := range keys {
			fmt.Fprintf(out, "%s\t%s\n", k.ID, k.CreatedAt.Format(time.RFC3339))
		}
		return nil
	case "key delete":
		if fs.NArg() != 1 {
			return errors.New("key delete takes one access key ID")
		}
		if err := m.AccessKeyDelete(ctx, fs.Arg(0)); err != nil {
			if errors.Is(err, meta.ErrNotFound) {
				return fmt.Errorf("no access key %s", fs.Arg(0))
			}
			return err
		}
		fmt.Fprintf(out, "deleted %s\n", fs.Arg(0))
		return nil
	}
	fmt.Fprint(out, adminUsage)
	return fmt.Errorf("unknown admin command %q", cmd)
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
