package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seqstore/seqstore/internal/bearer"
	"github.com/seqstore/seqstore/internal/meta"
)

// The bearer tokens htsget and refget accept: `seqstore admin token ...`.

func adminTokenCreate(fs *flag.FlagSet) func(context.Context, meta.Store, []string, io.Writer) error {
	account := fs.String("account", "", "the account `ID or name` the token acts for (required)")
	var ttl ttlFlag
	fs.Var(&ttl, "ttl", "the `DURATION` the token works, such as 12h or 90d (default: until revoked)")
	name := fs.String("name", "", "a `label` for the token, shown by token list")
	return func(ctx context.Context, m meta.Store, args []string, out io.Writer) error {
		if err := noArgs(args); err != nil {
			return err
		}
		id, err := accountByIDOrName(ctx, m, *account)
		if err != nil {
			return err
		}
		token, rec := bearer.New(id, *name, time.Duration(ttl), time.Now())
		if err := m.BearerTokenPut(ctx, rec); err != nil {
			return err
		}
		fmt.Fprintf(out, "account %s\ntoken %s, expires %s\n", id, rec.ID, expiry(rec.ExpiresAt))
		fmt.Fprintln(out, "# shown once: only its hash is kept. For samtools and htslib, put it in the file HTS_AUTH_LOCATION names.")
		fmt.Fprintln(out, token)
		return nil
	}
}

func adminTokenList(fs *flag.FlagSet) func(context.Context, meta.Store, []string, io.Writer) error {
	account := fs.String("account", "", "the account `ID or name` whose tokens to list (required)")
	return func(ctx context.Context, m meta.Store, args []string, out io.Writer) error {
		if err := noArgs(args); err != nil {
			return err
		}
		id, err := accountByIDOrName(ctx, m, *account)
		if err != nil {
			return err
		}
		tokens, err := m.BearerTokenList(ctx, id)
		if err != nil {
			return err
		}
		now := time.Now()
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TOKEN ID\tNAME\tCREATED\tEXPIRES\tSTATE")
		for _, t := range tokens {
			state := "active"
			switch {
			case !t.RevokedAt.IsZero():
				state = "revoked " + t.RevokedAt.Format(time.RFC3339)
			case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
				state = "expired"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.CreatedAt.Format(time.RFC3339), expiry(t.ExpiresAt), state)
		}
		return tw.Flush()
	}
}

func adminTokenRevoke(*flag.FlagSet) func(context.Context, meta.Store, []string, io.Writer) error {
	return func(ctx context.Context, m meta.Store, args []string, out io.Writer) error {
		if len(args) != 1 {
			return fmt.Errorf("token revoke takes one token ID, got %d arguments", len(args))
		}
		if err := m.BearerTokenRevoke(ctx, args[0], time.Now()); err != nil {
			if errors.Is(err, meta.ErrNotFound) {
				return fmt.Errorf("no token %s (see seqstore admin token list -account ID)", args[0])
			}
			return err
		}
		fmt.Fprintf(out, "revoked %s\n", args[0])
		return nil
	}
}

// accountByIDOrName returns the ID of the account named by its ID or its
// name.
func accountByIDOrName(ctx context.Context, m meta.Store, account string) (string, error) {
	if account == "" {
		return "", errors.New("-account is required (see seqstore admin account list)")
	}
	if _, err := m.AccountGet(ctx, account); err == nil {
		return account, nil
	} else if !errors.Is(err, meta.ErrNotFound) {
		return "", err
	}
	accounts, err := m.AccountList(ctx)
	if err != nil {
		return "", err
	}
	for _, a := range accounts {
		if a.Name == account {
			return a.ID, nil
		}
	}
	return "", fmt.Errorf("no account %s (see seqstore admin account list)", account)
}

func expiry(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format(time.RFC3339)
}

// maxTTLDays bounds -ttl's days, well within a time.Duration.
const maxTTLDays = 100 * 366

// ttlFlag is a Go duration, or a whole number of days such as 90d.
type ttlFlag time.Duration

func (f *ttlFlag) String() string { return time.Duration(*f).String() }

func (f *ttlFlag) Set(s string) error {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > maxTTLDays {
			return fmt.Errorf("%q is not a whole number of days from 1 to %d, such as 90d", s, maxTTLDays)
		}
		*f = ttlFlag(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q is not a positive duration, such as 12h or 90d", s)
	}
	*f = ttlFlag(d)
	return nil
}
