package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime/debug"

	"github.com/seqstore/seqstore/internal/config"
	"github.com/seqstore/seqstore/internal/console"
	"github.com/seqstore/seqstore/internal/cpus"
	"github.com/seqstore/seqstore/internal/server"
)

func runServe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seqstore serve", flag.ContinueOnError)
	cfg := config.Register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	if err := cfg.Finish(); err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		// The live heap is a few tens of MiB; collecting less often trades
		// a little memory for fewer pauses on busy request paths.
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" && cfg.API.MemoryLimit > 0 {
		// ... but not when many connections each hold a little: near the
		// soft limit the collector runs as often as it must, so thousands
		// of idle or slow clients cannot make GOGC's headroom the RSS.
		debug.SetMemoryLimit(cfg.API.MemoryLimit)
	}
	log := cfg.Logger()
	if os.Getenv("GOMAXPROCS") == "" {
		compute, procs := cpus.AddHeadroom(cfg.RequestHeadroom)
		log.Debug("Go processors", "compute", compute, "GOMAXPROCS", procs)
	}
	srv, err := server.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (choose another with -addr)", cfg.Addr, err)
	}
	endpoint := srv.Scheme() + "://" + ln.Addr().String()
	if srv.Root.Generated {
		fmt.Fprintf(os.Stderr, "\nseqstore made root credentials for account %s and keeps them in %s.\n"+
			"They are shown this once. To drive seqstore with the AWS CLI or an SDK, paste:\n\n%s\n",
			srv.Root.AccountID, srv.Root.File, srv.ExportLines(endpoint))
	}
	if cfg.AdminAddr != "" {
		aln, err := net.Listen("tcp", cfg.AdminAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s: %w (choose another with -admin-addr)", cfg.AdminAddr, err)
		}
		log.Info("seqstore admin listener serving /metrics, /healthz and /readyz", "endpoint", "http://"+aln.Addr().String())
		go func() {
			if err := srv.ServeAdmin(ctx, aln); err != nil {
				log.Error("admin listener stopped", "err", err)
			}
		}()
	}
	if cfg.S3Addr != "" {
		sln, err := net.Listen("tcp", cfg.S3Addr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s: %w (choose another with -s3-addr)", cfg.S3Addr, err)
		}
		log.Info("seqstore S3 read endpoint serving the files under each s3Uri", "endpoint", srv.Scheme()+"://"+sln.Addr().String())
		go func() {
			if err := srv.ServeS3(ctx, sln); err != nil {
				log.Error("S3 read endpoint stopped", "err", err)
			}
		}()
	}
	log.Info("seqstore serving", "endpoint", endpoint, "console", endpoint+console.Prefix+"/", "region", cfg.Region, "account", cfg.AccountID,
		"metadata", describeMetadata(cfg), "objects", describeObjects(cfg), "archive", describeArchive(cfg), "version", version)
	return srv.Serve(ctx, ln)
}

func describeMetadata(cfg *config.Config) string {
	if cfg.Metadata == "sqlite" {
		return "sqlite:" + cfg.SQLitePath()
	}
	return "postgres"
}

func describeObjects(cfg *config.Config) string {
	if cfg.Objects == "file" {
		return "file:" + cfg.ObjectsDir()
	}
	loc, _ := cfg.S3()
	return "s3://" + loc.Bucket + "/" + loc.Prefix
}

// describeArchive says where read sets unread for the archive period go.
func describeArchive(cfg *config.Config) string {
	if cfg.Lifecycle.ArchiveAfter == 0 {
		return "off"
	}
	tier, err := cfg.ArchiveLocation()
	switch {
	case err != nil:
		return err.Error()
	case tier.Dir != "":
		return fmt.Sprintf("file:%s after %s unread", tier.Dir, cfg.Lifecycle.ArchiveAfter)
	}
	return fmt.Sprintf("s3://%s/%s after %s unread", tier.S3.Bucket, tier.S3.Prefix, cfg.Lifecycle.ArchiveAfter)
}
