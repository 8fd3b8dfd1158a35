package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

const rmUsage = `Usage: seqstore rm -store ID [flags] READSET...

Deletes read sets. Those the store refuses to delete are listed with the
reason, and the command exits 1.

Flags:
`

func runRm(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seqstore rm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), rmUsage); fs.PrintDefaults() }
	cf := addClientFlags(fs)
	store := fs.String("store", "", "sequence store `ID` (required)")
	ids, err := parseArgs(fs, args)
	if err != nil {
		return helpRequested(err)
	}
	if len(ids) == 0 || *store == "" {
		fs.Usage()
		return errors.New("rm takes -store and at least one read set ID")
	}
	c, closeProgress, err := cf.client(ctx, stderr, 1)
	if err != nil {
		return err
	}
	c.Progress = nil // the result below says what was deleted
	closeProgress()
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
