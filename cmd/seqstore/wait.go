package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/seqstore/seqstore/internal/transfer"
)

const waitUsage = `Usage: seqstore wait -store ID [flags] READSET

Waits until a read set settles: exits 0 once it is ACTIVE, or prints its
status and statusMessage (UPLOAD_FAILED, DELETED, ...) and exits 1.

Flags:
`

func runWait(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cf := newClientCommand("wait", waitUsage, stderr)
	store := sequenceStoreFlag(fs)
	timeout := fs.Duration("timeout", 0, "give up after this `duration`, such as 30m (default: never)")
	ids, err := parseArgs(fs, args)
	if err != nil {
		return helpRequested(err)
	}
	if len(ids) != 1 || *store == "" {
		fs.Usage()
		return errors.New("wait takes -store and one read set ID")
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, *timeout, fmt.Errorf("-timeout %s passed", *timeout))
		defer cancel()
	}
	c, closeProgress, err := cf.client(ctx, stderr, 1)
	if err != nil {
		return err
	}
	defer closeProgress()
	state, err := c.Wait(ctx, transfer.ReadSet{API: c.API, StoreID: *store, ID: ids[0]})
	var failed *transfer.FailedError
	if err != nil && !errors.As(err, &failed) {
		return err
	}
	closeProgress()
	if cf.json {
		if err := printJSON(stdout, state); err != nil {
			return err
		}
	} else if !cf.quiet {
		fmt.Fprintln(stdout, state.Status)
	}
	return err
}
