package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

const rmUsage = `Usage: seqstore rm -store ID [flags] READSET...

Deletes read sets. Those the store refuses to delete are listed with the
reason, and the command exits 1.

Flags:
`

func runRm(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cf := newClientCommand("rm", rmUsage, stderr)
	store := sequenceStoreFlag(fs)
	ids, err := parseArgs(fs, args)
	if err != nil {
		return helpRequested(err)
	}
	if len(ids) == 0 || *store == "" {
		fs.Usage()
		return errors.New("rm takes -store and at least one read set ID")
	}
	// The result below says what was deleted.
	c, err := cf.quietClient(ctx, 1)
	if err != nil {
		return err
	}
	failed, err := c.Delete(ctx, *store, ids)
	if err != nil {
		return err
	}
	if cf.json {
		if err := printJSON(stdout, map[string]any{"failed": failed}); err != nil {
			return err
		}
	} else {
		refused := map[string]bool{}
		for _, f := range failed {
			refused[f.ID] = true
			fmt.Fprintf(stderr, "seqstore: read set %s not deleted: %s: %s\n", f.ID, f.Code, f.Message)
		}
		for _, id := range ids {
			if !refused[id] && !cf.quiet {
				fmt.Fprintf(stdout, "deleted %s\n", id)
			}
		}
	}
	if len(failed) > 0 {
		return errSilentFailure
	}
	return nil
}
