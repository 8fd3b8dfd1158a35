// Package server assembles a running seqstore from its configuration: it
// opens the metadata and object stores the configuration names, makes sure
// the root account has a key, runs the node's work (ingestion, jobs) or
// leaves it to a work process, and serves the API until told to stop. It is
// the one place that picks drivers; the command and the integration tests
// both start seqstore through it.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/api"
	"github.com/seqstore/seqstore/internal/api/omicsapi"
	"github.com/seqstore/seqstore/internal/arn"
	"github.com/seqstore/seqstore/internal/auth"
	"github.com/seqstore/seqstore/internal/bearer"
	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/blob/fileblob"
	"github.com/seqstore/seqstore/internal/blob/s3blob"
	"github.com/seqstore/seqstore/internal/config"
	"github.com/seqstore/seqstore/internal/console"
	"github.com/seqstore/seqstore/internal/health"
	"github.com/seqstore/seqstore/internal/htsget"
	"github.com/seqstore/seqstore/internal/jobs"
	"github.com/seqstore/seqstore/internal/keyring"
	"github.com/seqstore/seqstore/internal/location"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/meta/metacache"
	"github.com/seqstore/seqstore/internal/meta/sqlmeta"
	"github.com/seqstore/seqstore/internal/metrics"
	"github.com/seqstore/seqstore/internal/netguard"
	"github.com/seqstore/seqstore/internal/readset"
	"github.com/seqstore/seqstore/internal/reference"
	"github.com/seqstore/seqstore/internal/refget"
	"github.com/seqstore/seqstore/internal/s3read"
	"github.com/seqstore/seqstore/internal/s3stores"
	"github.com/seqstore/seqstore/internal/service"
	"github.com/seqstore/seqstore/internal/sigv4"
	"github.com/seqstore/seqstore/internal/throttle"
)

// Server is an assembled seqstore.
type Server struct {
	Config *config.Config
	Log    *slog.Logger
	Meta   meta.Store
	Blobs  blob.Store
	// Archive is the archive tier read sets unread for a while move to.
	Archive  blob.Store
	Root     *auth.Root
	Service  *service.Service
	ReadSets *readset.Service
	Ingester *readset.Ingester
	// Jobs runs the items of import and export jobs.
	Jobs    *jobs.Runner
	Handler http.Handler
	// S3Handler answers the S3 read endpoint (ServeS3).
	S3Handler http.Handler
	// Metrics is the registry the server records into; Health answers
	// /healthz and /readyz (Handler does too, ahead of the API).
	Metrics *metrics.Metrics
	Health  *health.Checker

	tls           *tls.Config // nil: plain HTTP
	references    *reference.Service
	workElsewhere bool // see WorkElsewhere
}

// storeCacheTTL is how long a node may serve a sequence store's settings
// from memory; see package metacache.
const storeCacheTTL = time.Second

// OpenMeta opens the metadata store the configuration names, migrating its
// schema to the current version.
func OpenMeta(ctx context.Context, cfg *config.Config) (meta.Store, error) {
	if cfg.Metadata == "sqlite" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		return sqlmeta.OpenSQLite(ctx, cfg.SQLitePath())
	}
	return sqlmeta.OpenPostgres(ctx, cfg.Metadata)
}

// OpenBlobs opens the object store the configuration names.
func OpenBlobs(ctx context.Context, cfg *config.Config) (blob.Store, error) {
	if cfg.Objects == "file" {
		return fileblob.Open(cfg.ObjectsDir())
	}
	loc, err := cfg.S3()
	if err != nil {
		return nil, err
	}
	return openS3(ctx, cfg, loc)
}

// OpenArchive opens the archive tier the configuration names.
func OpenArchive(ctx context.Context, cfg *config.Config) (blob.Store, error) {
	tier, err := cfg.ArchiveLocation()
	if err != nil {
		return nil, err
	}
	if tier.Dir != "" {
		return fileblob.Open(tier.Dir)
	}
	return openS3(ctx, cfg, tier.S3)
}

// openS3 opens an S3 location with the configured credentials.
func openS3(ctx context.Context, cfg *config.Config, loc config.S3Location) (blob.Store, error) {
	return s3blob.Open(ctx, s3blob.Config{
		Endpoint:        loc.Endpoint,
		Region:          loc.Region,
		Bucket:          loc.Bucket,
		Prefix:          loc.Prefix,
		AccessKeyID:     cfg.S3AccessKeyID,
		SecretAccessKey: cfg.S3SecretAccessKey,
		// S3's own encryption at rest, when the -objects URL asks for it.
		ServerSideEncryption: loc.SSE,
		SSEKMSKeyID:          loc.SSEKMSKeyID,
	})
}

// Open assembles a server from its configuration.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Server, error) {
	log = slog.New(omicsapi.LogRequestIDs(log.Handler()))
	mx := metrics.New()
	var limits *throttle.Limiter
	if cfg.Throttle == "aws" {
		var err error
		if limits, err = throttle.NewAWS(cfg.ThrottleScale); err != nil {
			return nil, err
		}
		limits.Throttled = mx.Throttled
	}
	var tc *tls.Config
	if cfg.API.TLSCert != "" {
		var err error
		if tc, err = tlsConfig(cfg.API.TLSCert, cfg.API.TLSKey); err != nil {
			return nil, err
		}
	}
	ring, err := OpenKeyring(cfg)
	if err != nil {
		return nil, err
	}
	db, err := OpenMeta(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("metadata store: %w", err)
	}
	checks := readiness(db)
	if c, ok := db.(interface {
		ReadSetCountsByStatus(context.Context) (map[string]int64, error)
	}); ok {
		mx.CountReadSets(c.ReadSetCountsByStatus)
	}
	if c, ok := db.(interface {
		JobItemCountsByKind(context.Context) (map[[2]string]int64, error)
	}); ok {
		mx.CountJobItems(c.JobItemCountsByKind)
	}
	// Timed beneath the cache: what the database costs, not a cache hit.
	m := metacache.New(mx.Meta(db), storeCacheTTL)
	blobs, err := OpenBlobs(ctx, cfg)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("object store: %w", err)
	}
	plainBlobs := blobs
	if blobs, err = Encrypt(ctx, m, plainBlobs, ring); err != nil {
		m.Close()
		plainBlobs.Close()
		return nil, err
	}
	if ring != nil {
		log.Info("stores with an sseConfig are encrypted at rest", "keyring", ring.Source(), "keys", strings.Join(ring.Names(), " "))
	}
	checks = append(checks, health.Check{Name: "object store", Run: func(ctx context.Context) error {
		return blobReachable(ctx, plainBlobs)
	}})
	blobs = mx.Blobs(blobs)
	archive, err := openArchive(ctx, cfg, m, ring)
	if err != nil {
		m.Close()
		blobs.Close()
		return nil, err
	}
	closeBlobs := func() { blobs.Close(); archive.Close() }
	hc := &health.Checker{Checks: checks}
	root, err := auth.EnsureRoot(ctx, m, cfg.AccountID, cfg.AccessKeyID, cfg.SecretAccessKey, cfg.DataDir)
	if err != nil {
		m.Close()
		closeBlobs()
		return nil, err
	}
	for _, id := range root.Retired {
		log.Info("the root key from SEQSTORE_ACCESS_KEY_ID replaced an earlier one, which no longer works", "retired", id, "current", root.Key.ID)
	}
	arns := arn.Builder{Partition: "aws", Region: cfg.Region}
	svc := &service.Service{Meta: m, ARN: arns, Log: log, Keyring: ring, ReferenceStoresPerAccount: cfg.ReferenceStoresPerAccount}
	rs := &readset.Service{Meta: m, Blobs: blobs, ARN: arns, Log: log, Now: cfg.Now, Limits: cfg.ParseLimits, ProgressInterval: cfg.IngestProgress, NoQC: cfg.SkipQC, FASTQStoreLevel: cfg.FASTQStoreLevel,
		Archive: archive, ArchiveAfter: cfg.Lifecycle.ArchiveAfter, DeletedRetention: cfg.Lifecycle.DeletedRetention}
	ing := &readset.Ingester{Service: rs, Workers: cfg.IngestWorkers, Lease: cfg.IngestLease, MaxAttempts: cfg.IngestAttempts}
	rs.Wake = ing.Wake
	lc, err := cfg.Locations()
	if err != nil {
		m.Close()
		closeBlobs()
		return nil, err
	}
	locs, err := location.New(ctx, lc)
	if err != nil {
		m.Close()
		closeBlobs()
		return nil, fmt.Errorf("import and export locations: %w", err)
	}
	rs.Locations = locs
	refs := &reference.Service{Meta: m, Blobs: blobs, ARN: arns, Log: log, Sources: locs}
	jobRunner := &jobs.Runner{
		Name: "job item",
		Queue: &jobs.Items{Meta: m, Log: log, Now: cfg.Now, MaxJobs: cfg.JobsAtOnce, Handlers: map[string]jobs.Handler{
			seqstore.JobKindReadSetImport:     readset.ImportHandler{Service: rs},
			seqstore.JobKindReadSetExport:     readset.ExportHandler{Service: rs},
			seqstore.JobKindReadSetActivation: readset.ActivationHandler{Service: rs},
			seqstore.JobKindReadSetArchive:    readset.ArchiveHandler{Service: rs},
			seqstore.JobKindReferenceImport:   reference.ImportHandler{Service: refs},
		}},
		Now:         cfg.Now,
		Lease:       cfg.JobLease,
		Poll:        cfg.JobPoll,
		Workers:     cfg.JobWorkers,
		MaxAttempts: cfg.JobAttempts,
		Log:         log,
	}
	rs.WakeJobs = jobRunner.Wake
	refs.WakeJobs = jobRunner.Wake
	keys := &auth.Keys{Meta: m}
	con := console.New(console.Options{Keys: keys, Sessions: m, Secure: tc != nil, Log: log})
	h := api.New(api.Options{
		Service:    svc,
		ReadSets:   rs,
		References: refs,
		Keys:       keys,
		Region:     cfg.Region,
		// Pagination tokens are signed with a key derived from the root
		// secret, which every node of a deployment shares.
		TokenKey:     []byte("seqstore pagination v1:" + root.Key.Secret),
		Log:          log,
		ClaimTimeout: cfg.API.IdempotencyClaimTimeout,
		Throttle:     limits,
		Sessions:     con,
	})
	if cfg.RefgetPublic {
		log.Warn("refget serves the reference sequences of every account to anyone, unauthenticated (-refget-public)", "path", refget.Prefix)
	}
	// refget and htsget requests are signed as the API's are, for the
	// omics service, or carry a bearer token an operator issued.
	omicsVerifier := &sigv4.Verifier{Credentials: api.Credentials(keys), Service: "omics", Region: cfg.Region}
	ga4ghAuth := signedOrBearer(omicsVerifier, &bearer.Verifier{Tokens: m, Now: cfg.Now})
	s3h := &s3read.Handler{
		// Signatures are judged by the real clock, as the API's are.
		Verifier: &sigv4.Verifier{Credentials: api.Credentials(keys), Service: "s3", Region: cfg.Region},
		Backend:  &s3stores.Backend{Meta: m, ARN: arns, ReadSets: rs, References: refs, Log: log},
		Region:   cfg.Region,
		Log:      log,
	}
	return &Server{
		S3Handler: mx.HTTP(s3h, s3read.OperationName),
		Config:    cfg,
		Log:       log,
		Meta:      m,
		Blobs:     blobs,
		Archive:   archive,
		Root:      root,
		Service:   svc,
		ReadSets:  rs,
		Ingester:  ing,
		Jobs:      jobRunner,
		Handler: hc.Handler(byPrefix(refget.Prefix,
			mx.HTTP(newRefget(refs, ga4ghAuth, cfg.RefgetPublic), refget.OperationName),
			byPrefix(htsget.Prefix,
				// Data URLs are signed with a key derived from the root
				// secret, which every node of a deployment shares.
				mx.HTTP(newHtsget(m, rs, ga4ghAuth, []byte("seqstore htsget v1:"+root.Key.Secret), cfg.Now), htsget.OperationName),
				byPrefix(console.Prefix, con, mx.HTTP(h, omicsapi.OperationName))))),
		Metrics:    mx,
		Health:     hc,
		tls:        tc,
		references: refs,
	}, nil
}

// openArchive opens the archive tier, encrypted as the active objects are
// and timed like them.
func openArchive(ctx context.Context, cfg *config.Config, m meta.Store, ring *keyring.Ring) (blob.Store, error) {
	archive, err := OpenArchive(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("archive tier: %w", err)
	}
	return EncryptedBlobs(m, archive, ring), nil
}

// readiness is what the metadata store db must answer for the node to be
// ready: a query, and the schema this binary knows.
func readiness(db meta.Store) []health.Check {
	if sc, ok := db.(interface{ CheckSchema(context.Context) error }); ok {
		return []health.Check{{Name: "metadata store", Run: sc.CheckSchema}}
	}
	return []health.Check{{Name: "metadata store", Run: func(ctx context.Context) error {
		_, err := db.AccountList(ctx)
		return err
	}}}
}

// readyProbeKey is an object no one writes: asking for it proves the store
// answers (a missing object is an answer).
const readyProbeKey = "readyz-probe"

func blobReachable(ctx context.Context, blobs blob.Store) error {
	if _, err := blobs.Stat(ctx, readyProbeKey); err != nil && !errors.Is(err, blob.ErrNotFound) {
		return err
	}
	return nil
}

// AdminHandler serves the admin listener: Prometheus /metrics, /healthz
// and /readyz.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", s.Metrics.Handler())
	return s.Health.Handler(mux)
}

// ServeAdmin serves AdminHandler on ln until ctx ends.
func (s *Server) ServeAdmin(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.AdminHandler(),
		ReadHeaderTimeout: config.DefaultReadHeaderTimeout,
		IdleTimeout:       config.DefaultIdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn),
	}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// maxHeaderBytes bounds a request's headers. A signed request's headers
// take a few KiB, a pagination token up to 6 KiB more.
const maxHeaderBytes = 64 << 10

// Serve serves the API on ln until ctx ends, then stops accepting
// requests, waits up to the configured grace for those in flight, and
// returns. It runs the node's work (RunWork) beside the API unless
// WorkElsewhere was called. It holds clients to the configured connection
// caps and timeouts, and serves HTTPS when the configuration names a
// certificate.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs, ln := s.guardedServer(ln, s.Handler)
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	if !s.workElsewhere {
		wg.Go(func() { s.RunWork(workCtx) })
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		s.Log.Info("stopping: finishing requests in flight", "grace", s.Config.ShutdownGrace)
		sctx, cancel := context.WithTimeout(context.Background(), s.Config.ShutdownGrace)
		err = hs.Shutdown(sctx)
		cancel()
	}
	stopWork()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// RunWork runs the node's work until ctx ends: it ingests read sets, runs
// job items, and sweeps read sets to the archive and purges deleted ones
// when the lifecycle asks for it. When ctx ends it stops them, giving their
// leases back, and returns once all have stopped.
func (s *Server) RunWork(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { s.Ingester.Run(ctx) })
	wg.Go(func() { s.Jobs.Run(ctx) })
	if s.Config.Lifecycle.ArchiveAfter > 0 {
		wg.Go(func() { s.ReadSets.RunArchiveSweeps(ctx, s.Config.Lifecycle.SweepInterval()) })
	}
	if s.Config.Lifecycle.DeletedRetention > 0 {
		wg.Go(func() { s.ReadSets.RunDeletedPurges(ctx, s.Config.Lifecycle.PurgeInterval()) })
	}
	wg.Wait()
}

// Work is a node's work running in another process (package workproc's
// Process), as the server sees it.
type Work interface {
	// WakeIngest says an upload is complete; WakeJobs that a job started.
	WakeIngest()
	WakeJobs()
	// Gather reads the work's metrics, served beside the server's.
	prometheus.Gatherer
	// Check fails while the work is not running, failing readiness.
	Check(context.Context) error
}

// WorkElsewhere makes Serve leave the node's work to w: the API wakes it,
// /metrics serves its series, and /readyz checks it.
func (s *Server) WorkElsewhere(w Work) {
	s.workElsewhere = true
	s.ReadSets.Wake = w.WakeIngest
	s.ReadSets.WakeJobs = w.WakeJobs
	s.references.WakeJobs = w.WakeJobs
	s.Metrics.Include(w)
	s.Health.Checks = append(s.Health.Checks, health.Check{Name: "work process", Run: w.Check})
}

// guardedServer makes the HTTP server of a client-facing listener: held to
// the configured connection caps, timeouts and body rates, over TLS when
// configured. It returns the listener to serve on.
func (s *Server) guardedServer(ln net.Listener, h http.Handler) (*http.Server, net.Listener) {
	lim := s.Config.API
	// Bodies both ways are held to a minimum rate rather than a deadline:
	// a part upload or a read-set download may rightly take an hour.
	rate := netguard.BodyRate{Bytes: lim.MinBodyRate, Window: lim.BodyRateWindow}
	guard := netguard.NewListener(ln, netguard.Limits{MaxConns: lim.MaxConns, MaxConnsPerClient: lim.MaxConnsPerClient, WriteRate: rate}, s.Log)
	ln = guard
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
	}
	return &http.Server{
		Handler:           netguard.Handler(h, rate),
		ConnState:         guard.ConnState,
		ReadHeaderTimeout: orDefault(lim.ReadHeaderTimeout, config.DefaultReadHeaderTimeout),
		IdleTimeout:       orDefault(lim.IdleTimeout, config.DefaultIdleTimeout),
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn),
	}, ln
}

// ServeS3 serves the S3 read endpoint on ln until ctx ends, under the same
// connection caps, timeouts and TLS as the API, then waits up to the
// configured grace for reads in flight.
func (s *Server) ServeS3(ctx context.Context, ln net.Listener) error {
	hs, ln := s.guardedServer(ln, s.S3Handler)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), s.Config.ShutdownGrace)
		err = hs.Shutdown(sctx)
		cancel()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// tlsConfig loads the certificate the server presents. Only HTTP/1.1 is
// offered: the connection caps count connections, and one HTTP/2
// connection would carry any number of requests past them.
func tlsConfig(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load the TLS certificate (-tls-cert %s, -tls-key %s): %w", certFile, keyFile, err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}, nil
}

// Scheme is "https" when the server serves TLS, else "http".
func (s *Server) Scheme() string {
	if s.tls != nil {
		return "https"
	}
	return "http"
}

// Close releases the stores.
func (s *Server) Close() error {
	return errors.Join(s.Blobs.Close(), s.Archive.Close(), s.Meta.Close())
}

// ExportLines are the shell lines that point the AWS CLI and SDKs (Go,
// Python, JavaScript) at this server with the root credentials.
func (s *Server) ExportLines(endpoint string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "export AWS_ACCESS_KEY_ID=%s\n", s.Root.Key.ID)
	fmt.Fprintf(&b, "export AWS_SECRET_ACCESS_KEY=%s\n", s.Root.Key.Secret)
	// The AWS CLI and boto3 read AWS_DEFAULT_REGION, the JavaScript SDK
	// only AWS_REGION (the Go SDK either).
	fmt.Fprintf(&b, "export AWS_REGION=%s\n", s.Config.Region)
	fmt.Fprintf(&b, "export AWS_DEFAULT_REGION=%s\n", s.Config.Region)
	fmt.Fprintf(&b, "export AWS_ENDPOINT_URL_OMICS=%s\n", endpoint)
	b.WriteString("export AWS_DISABLE_HOST_PREFIX_INJECTION=true\n")
	if s.tls != nil {
		fmt.Fprintf(&b, "# only if the certificate is self-signed or from a private CA:\nexport AWS_CA_BUNDLE=%s\n", s.Config.API.TLSCert)
	}
	return b.String()
}
