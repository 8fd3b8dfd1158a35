package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"

	"github.com/seqstore/seqstore/internal/config"
	"github.com/seqstore/seqstore/internal/console"
	"github.com/seqstore/seqstore/internal/cpus"
	"github.com/seqstore/seqstore/internal/server"
	"github.com/seqstore/seqstore/internal/workproc"
)

func runServe(ctx context.Context, args []string) error {
	cfg, err := serveConfig("seqstore serve", args)
	if err != nil {
		return err
	}
	setMemory(cfg)
	log := cfg.Logger()
	if os.Getenv("GOMAXPROCS") == "" && cfg.WorkNiceness == 0 {
		compute, procs := cpus.AddHeadroom(cfg.RequestHeadroom)
		log.Debug("Go processors", "compute", compute, "GOMAXPROCS", procs)
	}
	srv, err := server.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer srv.Close()
	if cfg.WorkNiceness > 0 {
		work, err := startWork(cfg, args, log)
		if err != nil {
			return err
		}
		// Deferred after srv.Close, so run before it: the work stops
		// before the stores it uses are closed.
		defer work.Close()
		srv.WorkElsewhere(work)
	}
	return listenAndServe(ctx, cfg, srv, log)
}

// serveConfig parses serve's flags.
func serveConfig(name string, args []string) (*config.Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	cfg := config.Register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	return cfg, cfg.Finish()
}

// startWork starts the node's work process with serve's own arguments.
func startWork(cfg *config.Config, args []string, log *slog.Logger) (*workproc.Process, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program to start its work process: %w (or run with -work-niceness 0)", err)
	}
	work, err := workproc.Start(workproc.Options{
		Path:     exe,
		Args:     append([]string{"serve-work"}, args...),
		Niceness: cfg.WorkNiceness,
		// A stop gives leases back at once; ingestion checks for it
		// between blocks, within a second.
		Grace:       cfg.ShutdownGrace,
		Log:         log,
		FallbackDir: cfg.DataDir,
	})
	if err != nil {
		return nil, fmt.Errorf("%w (or run with -work-niceness 0 to ingest in the server's process)", err)
	}
	return work, nil
}

// runServeWork is the work process seqstore serve starts (package
// workproc): it opens the same stores with the same flags and runs the
// node's ingestion, jobs and lifecycle sweeps until its parent goes.
func runServeWork(ctx context.Context, args []string) error {
	child, err := workproc.FromEnvironment()
	if err != nil {
		return err
	}
	// The server ends its work process through the channel, once its own
	// requests are done. A stop signal sent to the whole group (systemd
	// signals every process of the service) must not end the work first,
	// or the server, still draining, would start it again.
	signal.Ignore(os.Interrupt, syscall.SIGTERM)
	cfg, err := serveConfig("seqstore serve-work", args)
	if err != nil {
		return err
	}
	setMemory(cfg)
	log := cfg.Logger().With("process", "work")
	srv, err := server.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer srv.Close()
	workCtx, stop := context.WithCancel(ctx)
	var work sync.WaitGroup
	work.Go(func() { srv.RunWork(workCtx) })
	// Serve returns when the server closes the channel or goes: with the
	// stop signals ignored, nothing else ends ctx.
	err = child.Serve(ctx, srv.Ingester.Wake, srv.Jobs.Wake, srv.Metrics.Registry)
	if err == nil {
		log.Info("the server stopped; stopping ingestion and jobs, giving their leases back")
	}
	stop()
	work.Wait()
	return err
}

// setMemory tunes the collector for a server process.
func setMemory(cfg *config.Config) {
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
}

// listenAndServe listens where the configuration says and serves until ctx ends.
func listenAndServe(ctx context.Context, cfg *config.Config, srv *server.Server, log *slog.Logger) error {
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
