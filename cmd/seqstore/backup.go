package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/seqstore/seqstore/internal/config"
	"github.com/seqstore/seqstore/internal/meta/sqlmeta"
)

// runAdminFile runs `seqstore admin backup` and `restore`, which work on
// the embedded database's file rather than through the metadata store.
func runAdminFile(ctx context.Context, name string, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("seqstore admin "+name, flag.ContinueOnError)
	var cfg config.Config
	cfg.RegisterMetadata(fs)
	var file string
	switch name {
	case "backup":
		fs.StringVar(&file, "to", "", "the new `file` to write the backup to (required)")
	case "restore":
		fs.StringVar(&file, "from", "", "the backup `file` to restore (required)")
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: seqstore admin %s [flags]\n\nFlags:\n", name)
		fs.PrintDefaults()
	}
	positional, err := parseArgs(fs, args)
	if err != nil {
		return helpRequested(err)
	}
	if err := noArgs(positional); err != nil {
		return err
	}
	if file == "" {
		return fmt.Errorf("admin %s needs the backup file: -to or -from FILE", name)
	}
	if err := cfg.FinishMetadata(); err != nil {
		return err
	}
	if cfg.Metadata != "sqlite" {
		return errors.New("the metadata store is PostgreSQL: back it up with pg_dump and restore it with pg_restore (see docs/deploy.md for the order with the object store)")
	}
	if name == "backup" {
		version, err := sqlmeta.BackupSQLite(ctx, cfg.SQLitePath(), file)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "backed up %s to %s (schema version %d)\n", cfg.SQLitePath(), file, version)
		return nil
	}
	kept, err := sqlmeta.RestoreSQLite(ctx, file, cfg.SQLitePath())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "restored %s from %s\n", cfg.SQLitePath(), file)
	if kept != "" {
		fmt.Fprintf(out, "the database it replaced is kept as %s; delete it once the restore is proven\n", kept)
	}
	return nil
}
