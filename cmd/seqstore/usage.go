package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/config"
	"github.com/seqstore/seqstore/internal/diskusage"
	"github.com/seqstore/seqstore/internal/server"
)

// runUsage is `seqstore admin usage`: the bytes each account and store keeps
// in each tier (active files, archive, upload parts), counted in the object
// stores as they are, so an operator sees what archiving and deletion saved.
func runUsage(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("seqstore admin usage", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: seqstore admin usage [flags]\n\n"+
			"Counts the objects and bytes each account and store keeps in each tier.\n"+
			"Run it with the -data, -objects and -archive-objects serve uses; the server\n"+
			"may keep running.\n\nFlags:\n")
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
	if err := cfg.FinishObjects(); err != nil {
		return err
	}
	active, archive, err := openTiers(ctx, cfg)
	if err != nil {
		return err
	}
	defer active.Close()
	defer archive.Close()
	var report diskusage.Report
	for _, t := range []struct {
		tier  string
		store blob.Store
	}{{diskusage.TierActive, active}, {diskusage.TierArchive, archive}} {
		if err := report.Count(ctx, t.tier, t.store); err != nil {
			return fmt.Errorf("counting the %s tier: %w", t.tier, err)
		}
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ACCOUNT\tSTORE\tTIER\tOBJECTS\tBYTES\t")
	totals := map[string]int64{}
	for _, r := range report.Rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t\n", r.Account, r.Store, r.Tier, r.Objects, r.Bytes)
		totals[r.Tier] += r.Bytes
	}
	for _, tier := range []string{diskusage.TierActive, diskusage.TierArchive, diskusage.TierUploads} {
		fmt.Fprintf(tw, "total\t\t%s\t\t%d\t\n", tier, totals[tier])
	}
	return tw.Flush()
}

// openTiers opens the object store of active files and the archive tier, as
// serve's flags in cfg name them, for the admin commands that walk both.
func openTiers(ctx context.Context, cfg *config.Config) (active, archive blob.Store, err error) {
	active, err = server.OpenBlobs(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("object store: %w", err)
	}
	archive, err = server.OpenArchive(ctx, cfg)
	if err != nil {
		active.Close()
		return nil, nil, fmt.Errorf("archive tier: %w", err)
	}
	return active, archive, nil
}
