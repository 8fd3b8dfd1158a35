// Package config reads seqstore's settings from flags and SEQSTORE_*
// environment variables (a flag wins over its variable), with defaults that
// start a complete single-node server in ./seqstore-data.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/seqstore/seqstore/internal/analyze"
	"github.com/seqstore/seqstore/internal/format/bgzf"
)

// DefaultAddr is where seqstore listens unless told otherwise: loopback
// only, so that a first start exposes nothing.
const DefaultAddr = "127.0.0.1:9393"

// Config is the whole configuration of a server.
type Config struct {
	Addr string
	// AdminAddr is where /metrics, /healthz and /readyz are served apart
	// from the API ("": nowhere; the API listener answers the latter two).
	AdminAddr string
	// S3Addr is where the S3 read endpoint listens ("": nowhere): the
	// s3Uri of every read set and reference resolves there.
	S3Addr string
	// RefgetPublic serves the sequences of every account's references by
	// refget without authentication (package refget); otherwise refget
	// requests are signed like the API's and see the caller's account.
	RefgetPublic bool
	DataDir      string
	Region       string
	AccountID    string
	// Metadata is "sqlite" (a file under DataDir) or a PostgreSQL URL
	// (postgres://user@host:5432/db?sslmode=disable).
	Metadata string
	// Objects is "file" (a directory under DataDir) or an S3 URL:
	// s3://bucket/prefix?endpoint=http://host:port&region=us-east-1.
	Objects string
	// S3 credentials for Objects, when it is an S3 URL.
	S3AccessKeyID     string
	S3SecretAccessKey string
	// Keyring is the file or directory of key-encryption keys for stores
	// encrypted at rest (package keyring); empty: none, and no store may
	// ask for encryption.
	Keyring string
	// Root credentials; generated and kept under DataDir when empty.
	AccessKeyID     string
	SecretAccessKey string
	// IngestWorkers is how many read sets one node ingests at once.
	IngestWorkers int
	// WorkNiceness is how many nice levels below the API the node's work
	// (ingestion, jobs, lifecycle sweeps) runs, in a process of its own
	// (package workproc); 0 runs it in the server's process.
	WorkNiceness int
	// RequestHeadroom is how many Go processors (Ps) the server runs above
	// the cores, so that requests find one idle while background work
	// keeps every core busy (package cpus).
	RequestHeadroom int
	// IngestLease is how long a node's claim on a read set it ingests holds
	// without renewal; a node that dies hands its work on after it.
	IngestLease time.Duration
	// IngestAttempts is how many times a read set's ingestion may be
	// abandoned (its node crashed or hung) before the read set fails.
	IngestAttempts int
	// IngestProgress is how often an ingestion logs how far it has come;
	// zero turns the lines off.
	IngestProgress time.Duration
	// SkipQC leaves the quality-control report out of the ingest pass
	// (-ingest-qc=false); the zero value, like the flags' default,
	// computes it.
	SkipQC bool
	// FASTQStoreLevel is the deflate level of the BGZF copy stored for a
	// plain FASTQ upload.
	FASTQStoreLevel int
	// JobWorkers is how many job items (import sources, exported read
	// sets) one node works on at once.
	JobWorkers int
	// JobsAtOnce, when above zero, is how many jobs all nodes together
	// work on at once; further jobs wait SUBMITTED.
	JobsAtOnce int
	// ReferenceStoresPerAccount is how many reference stores an account
	// may have (AWS allows one per account and region).
	ReferenceStoresPerAccount int
	// JobLease is how long a node's claim on a job item holds without
	// renewal; JobPoll how often an idle node looks for items.
	JobLease time.Duration
	JobPoll  time.Duration
	// JobAttempts is how many times a job item may be abandoned (its node
	// crashed or hung) before it fails.
	JobAttempts int
	// Throttle is "off" or "aws": each account held to AWS's API quotas
	// times ThrottleScale, per node.
	Throttle      string
	ThrottleScale float64
	// ParseLimits bound what ingestion decodes and buffers of one upload;
	// zero fields keep the parsers' defaults.
	ParseLimits   analyze.Limits
	ShutdownGrace time.Duration
	// Lifecycle is when read sets move to the archive tier, and where it is.
	Lifecycle Lifecycle
	// Now is the clock everything time-dependent reads (archiving, leases,
	// timestamps); nil is the wall clock. Tests move a fake one forward.
	Now       func() time.Time
	LogLevel  slog.Level
	LogFormat string // text or json

	levelFlag *string // the raw -log-level, parsed by Finish
	envErrs   []error // malformed SEQSTORE_* numbers, reported by Finish

	API APIListener

	// Transfers are the places import and export jobs may reach.
	Transfers Transfers
}

// APIListener are the connection and request limits of the API listener,
// and its TLS certificate.
type APIListener struct {
	// TLSCert and TLSKey are PEM files; with both set the API is served
	// over HTTPS only.
	TLSCert, TLSKey string
	// ReadHeaderTimeout bounds the wait for a request's headers; IdleTimeout
	// how long a keep-alive connection may wait for its next request.
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	// MinBodyRate (bytes a second) and BodyRateWindow: a request body
	// that brings, or a response the client takes, fewer than
	// MinBodyRate×BodyRateWindow bytes in a window is cut. Zero turns the
	// check off.
	MinBodyRate    int64
	BodyRateWindow time.Duration
	// MaxConns and MaxConnsPerClient cap open connections; zero means none.
	MaxConns          int
	MaxConnsPerClient int
	// IdempotencyClaimTimeout is how long a client token whose request
	// never finished holds its claim before a retry may run the request.
	IdempotencyClaimTimeout time.Duration
	// MemoryLimit is the Go runtime's soft memory limit in bytes (0: none);
	// GOMEMLIMIT, when set, wins.
	MemoryLimit int64
}

// The listener's timeouts unless set; also what the server falls back to
// for a Config built without its flags.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
)

// registerHTTP defines the flags of the API listener's limits.
func registerHTTP(fs *flag.FlagSet, h *APIListener) {
	fs.StringVar(&h.TLSCert, "tls-cert", env("TLS_CERT", ""), "PEM `file` of the TLS certificate (chain); with -tls-key, serve HTTPS only (SEQSTORE_TLS_CERT)")
	fs.StringVar(&h.TLSKey, "tls-key", env("TLS_KEY", ""), "PEM `file` of the TLS private key (SEQSTORE_TLS_KEY)")
	fs.DurationVar(&h.ReadHeaderTimeout, "read-header-timeout", DefaultReadHeaderTimeout, "how long a client may take to send a request's headers")
	fs.DurationVar(&h.IdleTimeout, "idle-timeout", DefaultIdleTimeout, "how long a keep-alive connection may wait for its next request")
	fs.Int64Var(&h.MinBodyRate, "min-body-rate", 16<<10, "`bytes` a second a request body must keep arriving at, and a client must keep taking a response at, judged over each -body-rate-window; 0 turns the check off")
	fs.DurationVar(&h.BodyRateWindow, "body-rate-window", 30*time.Second, "the window over which -min-body-rate is judged")
	fs.IntVar(&h.MaxConns, "max-conns", 4096, "most connections open at once; more are closed on arrival (0: no cap)")
	fs.IntVar(&h.MaxConnsPerClient, "max-conns-per-client", 512, "most connections open at once from one client IP address; behind a proxy raise it or set 0 (0: no cap)")
	fs.Int64Var(&h.MemoryLimit, "memory-limit", 256<<20, "soft limit of the server's memory in `bytes`: near it the garbage collector works harder (it is not a cap); GOMEMLIMIT wins; 0: none")
	fs.DurationVar(&h.IdempotencyClaimTimeout, "idempotency-claim-timeout", 5*time.Minute, "how long a clientToken whose request never finished blocks a retry of it")
}

// finish checks the listener's limits.
func (h *APIListener) finish() error {
	if (h.TLSCert == "") != (h.TLSKey == "") {
		return errors.New("-tls-cert and -tls-key go together: set both, or neither")
	}
	if h.MinBodyRate < 0 || h.MaxConns < 0 || h.MaxConnsPerClient < 0 || h.MemoryLimit < 0 {
		return errors.New("-min-body-rate, -max-conns, -max-conns-per-client and -memory-limit must not be negative")
	}
	if h.ReadHeaderTimeout <= 0 || h.IdleTimeout <= 0 || h.IdempotencyClaimTimeout <= 0 {
		return errors.New("-read-header-timeout, -idle-timeout and -idempotency-claim-timeout must be positive")
	}
	if h.MinBodyRate > 0 && h.BodyRateWindow < time.Second {
		return errors.New("-body-rate-window must be at least 1s")
	}
	return nil
}

// DefaultWorkNiceness is -work-niceness unless set. At 10 the kernel gives
// the API's threads about nine times the work's share of a contended core
// (weights 1024 and 110), and a woken request thread runs at once; the work
// still gets the cores the API leaves idle, which is nearly all of them.
// Only Linux gives niceness to threads, which the child's start needs
// (package workproc); elsewhere the work stays in the server's process.
var DefaultWorkNiceness = defaultWorkNiceness()

func defaultWorkNiceness() int {
	if runtime.GOOS == "linux" {
		return 10
	}
	return 0
}

// DefaultRequestHeadroom is -request-headroom unless set. Ingesting one
// read set runs a few CPU-bound goroutines (inflating, parsing, hashing
// each source); with two ingestions and a job at once, eight Ps above the
// cores still leave one idle for a request.
const DefaultRequestHeadroom = 8

// DefaultIngestWorkers is -ingest-workers unless set: what two cores serve.
// One ingestion already keeps two cores busy (inflating, parsing and
// hashing run side by side), so more would only share them;
// the second worker is there so that a small read set need not wait for a
// large one to finish.
const DefaultIngestWorkers = 2

// DefaultJobWorkers is -job-workers unless set. An import item ingests
// like an upload and keeps cores busy; an export item mostly waits on I/O.
const DefaultJobWorkers = 2

// registerLimits defines a flag for each parser limit, named as the error of
// a file that passes it names it, with SEQSTORE_<NAME> as its default
// (max-fastq-line: SEQSTORE_MAX_FASTQ_LINE). Limits left unset keep the
// parsers' defaults (analyze.DefaultLimits).
func (c *Config) registerLimits(fs *flag.FlagSet) {
	for _, set := range c.ParseLimits.Settings() {
		name := strings.ToUpper(strings.ReplaceAll(set.Name, "-", "_"))
		value := analyze.LimitFlag{Setting: set}
		if text := env(name, ""); text != "" {
			if err := value.Set(text); err != nil {
				c.envErrs = append(c.envErrs, fmt.Errorf("SEQSTORE_%s: %v", name, err))
			}
		}
		fs.Var(value, set.Name, value.Usage()+"; SEQSTORE_"+name)
	}
}

// env returns the value of SEQSTORE_<name>, or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv("SEQSTORE_" + name); ok && v != "" {
		return v
	}
	return def
}

// envInt returns SEQSTORE_<name> as an integer, or def when it is unset.
// A value that is not an integer is remembered, and Finish reports it.
func (c *Config) envBool(name string, def bool) bool {
	v, err := strconv.ParseBool(env(name, strconv.FormatBool(def)))
	if err != nil {
		c.envErrs = append(c.envErrs, fmt.Errorf("SEQSTORE_%s %q is neither true nor false", name, os.Getenv("SEQSTORE_"+name)))
		return def
	}
	return v
}

func (c *Config) envInt(name string, def int) int {
	v, err := strconv.Atoi(env(name, strconv.Itoa(def)))
	if err != nil {
		c.envErrs = append(c.envErrs, fmt.Errorf("SEQSTORE_%s %q is not a whole number", name, os.Getenv("SEQSTORE_"+name)))
		return def
	}
	return v
}

// Register defines the server flags on fs and returns the Config they fill.
func Register(fs *flag.FlagSet) *Config {
	c := &Config{}
	c.RegisterMetadata(fs)
	fs.StringVar(&c.Addr, "addr", env("ADDR", DefaultAddr), "`host:port` to listen on (SEQSTORE_ADDR)")
	fs.StringVar(&c.AdminAddr, "admin-addr", env("ADMIN_ADDR", ""), "`host:port` of the admin listener: Prometheus /metrics, /healthz and /readyz, unauthenticated, so keep it off public networks (SEQSTORE_ADMIN_ADDR; empty: none)")
	fs.StringVar(&c.S3Addr, "s3-addr", env("S3_ADDR", ""), "`host:port` of the S3 read endpoint, where S3 tools read files under the s3Uri the API reports (SEQSTORE_S3_ADDR; empty: none; 127.0.0.1:9395, say)")
	fs.BoolVar(&c.RefgetPublic, "refget-public", c.envBool("REFGET_PUBLIC", false),
		"serve the sequences of every account's references by refget (/refget/ on the API listener) to anyone, unauthenticated, so that htslib's REF_PATH can fetch them; off: refget requests are signed like the API's (SEQSTORE_REFGET_PUBLIC)")
	fs.StringVar(&c.Region, "region", env("REGION", "us-east-1"), "AWS `region` the server answers as; clients must sign for it (SEQSTORE_REGION)")
	fs.StringVar(&c.AccountID, "account-id", env("ACCOUNT_ID", "123456789012"), "12-digit `id` of the root account, used in ARNs (SEQSTORE_ACCOUNT_ID)")
	c.RegisterObjects(fs)
	c.registerLifecycle(fs)
	fs.IntVar(&c.IngestWorkers, "ingest-workers", c.envInt("INGEST_WORKERS", DefaultIngestWorkers),
		"read sets this node ingests at once, taken fairly across accounts; each spreads over every core, and two let a small read set pass a large one (SEQSTORE_INGEST_WORKERS)")
	fs.IntVar(&c.WorkNiceness, "work-niceness", c.envInt("WORK_NICENESS", DefaultWorkNiceness),
		"run ingestion, jobs and lifecycle sweeps in a child process this many nice levels below the API (Linux), so that requests are answered at once while they keep every core busy; 0 runs them in the server's own process (SEQSTORE_WORK_NICENESS)")
	fs.IntVar(&c.RequestHeadroom, "request-headroom", c.envInt("REQUEST_HEADROOM", DefaultRequestHeadroom),
		"with -work-niceness 0, Go processors kept above the cores, so that an API request is taken up at once while ingestion and jobs keep every core busy; 0 leaves GOMAXPROCS as it is (SEQSTORE_REQUEST_HEADROOM)")
	fs.DurationVar(&c.IngestLease, "ingest-lease", time.Minute, "how long another node waits before taking over the ingestion of a node that stopped answering")
	fs.IntVar(&c.IngestAttempts, "ingest-attempts", c.envInt("INGEST_ATTEMPTS", 3),
		"times a read set's ingestion may be cut short by a crash or hang of its node before the read set fails instead of being tried again (SEQSTORE_INGEST_ATTEMPTS)")
	fs.BoolFunc("ingest-qc", "compute each read set's quality-control report (FastQC's and samtools' statistics) in the ingest pass (default true; it adds 8-9% to the wall time of ingesting a FASTQ pair or a BAM on the bench data); -ingest-qc=false leaves it out, and read sets ingested so have no report", func(v string) error {
		on, err := strconv.ParseBool(v)
		c.SkipQC = !on
		return err
	})
	fs.IntVar(&c.FASTQStoreLevel, "fastq-store-level", c.envInt("FASTQ_STORE_LEVEL", bgzf.DefaultLevel),
		"deflate level (1-9) of the BGZF copy stored for a plain FASTQ upload (compressed ones are kept as they came): 5 and up are seqstore's own deflater, about 4% smaller than bgzip's output and at 6 about a third of the speed of bgzip -@2; 1-4 ingest about eight times faster and store 9-19% more than bgzip (SEQSTORE_FASTQ_STORE_LEVEL)")
	fs.DurationVar(&c.IngestProgress, "ingest-progress-interval", 30*time.Second, "how often a read set's ingestion or export logs the bytes it has read, the share done and the rate (0: never)")
	fs.IntVar(&c.JobWorkers, "job-workers", c.envInt("JOB_WORKERS", DefaultJobWorkers),
		"job items (import sources, exported read sets) this node works on at once, taken fairly across accounts and jobs; each holds -transfer-part-size × -transfer-concurrency bytes in flight (SEQSTORE_JOB_WORKERS)")
	fs.IntVar(&c.JobsAtOnce, "jobs-at-once", c.envInt("JOBS_AT_ONCE", 0),
		"jobs (imports, exports, activations, archive sweeps) that all nodes together work on at once; a job started beyond it stays SUBMITTED until one ends (0: no limit, -job-workers alone bounds the work) (SEQSTORE_JOBS_AT_ONCE)")
	fs.IntVar(&c.ReferenceStoresPerAccount, "reference-stores-per-account", c.envInt("REFERENCE_STORES_PER_ACCOUNT", 1),
		"reference stores an account may have; AWS allows one per account and region, and past it CreateReferenceStore answers ServiceQuotaExceededException (SEQSTORE_REFERENCE_STORES_PER_ACCOUNT)")
	fs.DurationVar(&c.JobLease, "job-lease", time.Minute, "how long another node waits before taking over a job item of a node that stopped answering")
	fs.DurationVar(&c.JobPoll, "job-poll", 2*time.Second, "how often an idle node looks for job items that other nodes started")
	fs.IntVar(&c.JobAttempts, "job-attempts", c.envInt("JOB_ATTEMPTS", 3),
		"times a job item may be cut short by a crash or hang of its node before it fails instead of being tried again (SEQSTORE_JOB_ATTEMPTS)")
	c.registerLimits(fs)
	fs.StringVar(&c.Throttle, "throttle", env("THROTTLE", "off"), "per-account request rates: off, or aws (AWS's API quotas per operation, times -throttle-scale, on each node); past them a request is answered ThrottlingException (SEQSTORE_THROTTLE)")
	fs.Float64Var(&c.ThrottleScale, "throttle-scale", 1, "with -throttle aws, the multiple of AWS's rates allowed (10: ten times as many requests a second)")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", 30*time.Second, "how long a stop waits for requests in flight")
	level := fs.String("log-level", env("LOG_LEVEL", "info"), "debug, info, warn or error (SEQSTORE_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("LOG_FORMAT", "text"), "text or json (SEQSTORE_LOG_FORMAT)")
	c.AccessKeyID = os.Getenv("SEQSTORE_ACCESS_KEY_ID")
	c.SecretAccessKey = os.Getenv("SEQSTORE_SECRET_ACCESS_KEY")
	c.levelFlag = level
	registerHTTP(fs, &c.API)
	c.registerTransfers(fs)
	return c
}

// Finish checks the configuration after flags are parsed.
func (c *Config) Finish() error {
	if c.levelFlag != nil {
		if err := c.LogLevel.UnmarshalText([]byte(*c.levelFlag)); err != nil {
			return fmt.Errorf("-log-level %q: use debug, info, warn or error", *c.levelFlag)
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("-log-format %q: use text or json", c.LogFormat)
	}
	if c.Region == "" || strings.ContainsAny(c.Region, " /:") {
		return fmt.Errorf("-region %q is not a region name such as us-east-1", c.Region)
	}
	if len(c.AccountID) != 12 || strings.Trim(c.AccountID, "0123456789") != "" {
		return fmt.Errorf("-account-id %q must be 12 decimal digits", c.AccountID)
	}
	if err := c.FinishMetadata(); err != nil {
		return err
	}
	if err := c.FinishObjects(); err != nil {
		return err
	}
	if err := errors.Join(c.envErrs...); err != nil {
		return err
	}
	if _, err := c.ArchiveLocation(); err != nil {
		return err
	}
	if c.IngestWorkers < 1 {
		return errors.New("-ingest-workers must be at least 1")
	}
	if c.WorkNiceness < 0 || c.WorkNiceness > 19 {
		return errors.New("-work-niceness must be between 0 (work in the server's process) and 19")
	}
	if c.RequestHeadroom < 0 || c.RequestHeadroom > 64 {
		return errors.New("-request-headroom must be between 0 and 64")
	}
	if err := c.API.finish(); err != nil {
		return err
	}
	if err := c.Transfers.finish(); err != nil {
		return err
	}
	if c.IngestAttempts < 1 {
		return errors.New("-ingest-attempts must be at least 1")
	}
	if c.JobWorkers < 1 {
		return errors.New("-job-workers must be at least 1")
	}
	if c.FASTQStoreLevel < 1 || c.FASTQStoreLevel > 9 {
		return fmt.Errorf("-fastq-store-level %d: the deflate level must be between 1 and 9", c.FASTQStoreLevel)
	}
	if c.ReferenceStoresPerAccount < 1 {
		return fmt.Errorf("-reference-stores-per-account %d: an account needs at least one reference store", c.ReferenceStoresPerAccount)
	}
	if c.JobsAtOnce < 0 {
		return errors.New("-jobs-at-once must be 0 (no limit) or more")
	}
	if c.JobAttempts < 1 {
		return errors.New("-job-attempts must be at least 1")
	}
	if c.Throttle != "off" && c.Throttle != "aws" {
		return fmt.Errorf("-throttle %q: use off or aws", c.Throttle)
	}
	if !(c.ThrottleScale > 0) {
		return fmt.Errorf("-throttle-scale %v must be a positive number", c.ThrottleScale)
	}
	return nil
}

// RegisterObjects defines the flags (and reads the variables) that locate
// the object store and the keyring that encrypts it, for serve and for
// commands (admin rewrap) that open it without serving.
func (c *Config) RegisterObjects(fs *flag.FlagSet) {
	fs.StringVar(&c.Objects, "objects", env("OBJECTS", "file"), "object store: file, or s3://bucket/prefix?endpoint=URL&region=R (SEQSTORE_OBJECTS)")
	fs.StringVar(&c.Keyring, "keyring", env("KEYRING", ""), "`file` or directory of named 256-bit keys (mode 0600) that encrypt the stores whose sseConfig names them (SEQSTORE_KEYRING)")
	c.S3AccessKeyID = os.Getenv("SEQSTORE_S3_ACCESS_KEY_ID")
	c.S3SecretAccessKey = os.Getenv("SEQSTORE_S3_SECRET_ACCESS_KEY")
}

// FinishObjects checks the flags RegisterObjects defines.
func (c *Config) FinishObjects() error {
	if c.Objects != "file" {
		if _, err := c.S3(); err != nil {
			return err
		}
	}
	return nil
}

// RegisterMetadata defines only the flags that locate the data directory
// and the metadata store, for commands (admin) that open the store without
// serving.
func (c *Config) RegisterMetadata(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", env("DATA", "seqstore-data"), "`directory` for the embedded database, stored objects and generated credentials (SEQSTORE_DATA)")
	fs.StringVar(&c.Metadata, "metadata", env("METADATA", "sqlite"), "metadata store: sqlite, or a postgres:// `URL` (SEQSTORE_METADATA)")
}

// FinishMetadata checks the flags RegisterMetadata defines and makes the
// data directory's path absolute.
func (c *Config) FinishMetadata() error {
	if c.Metadata != "sqlite" && !strings.HasPrefix(c.Metadata, "postgres://") && !strings.HasPrefix(c.Metadata, "postgresql://") {
		return fmt.Errorf("-metadata %q: use sqlite or a postgres:// URL", c.Metadata)
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return err
	}
	c.DataDir = abs
	return nil
}

// S3Location is a parsed -objects S3 URL.
type S3Location struct {
	Bucket   string
	Prefix   string
	Endpoint string
	Region   string
	// SSE is the server-side encryption S3 is asked for on every write:
	// "", "AES256" (SSE-S3) or "aws:kms" (SSE-KMS, with SSEKMSKeyID or
	// the bucket's default key).
	SSE, SSEKMSKeyID string
}

// S3 parses Objects as an S3 URL.
func (c *Config) S3() (S3Location, error) {
	return parseS3("objects", c.Objects)
}

// parseS3 parses the S3 URL of a flag.
func parseS3(flag, s string) (S3Location, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return S3Location{}, fmt.Errorf("-%s %q: use file, or s3://bucket/prefix?endpoint=http://host:port&region=us-east-1", flag, s)
	}
	q := u.Query()
	loc := S3Location{
		Bucket:      u.Host,
		Prefix:      strings.Trim(u.Path, "/"),
		Endpoint:    q.Get("endpoint"),
		Region:      q.Get("region"),
		SSE:         q.Get("sse"),
		SSEKMSKeyID: q.Get("sse-kms-key-id"),
	}
	switch {
	case loc.SSE != "" && loc.SSE != "AES256" && loc.SSE != "aws:kms":
		return S3Location{}, fmt.Errorf("-%s %q: sse=%s: use sse=AES256 (SSE-S3) or sse=aws:kms (SSE-KMS, with sse-kms-key-id=KEY or the bucket's default key)", flag, s, loc.SSE)
	case loc.SSEKMSKeyID != "" && loc.SSE != "aws:kms":
		return S3Location{}, fmt.Errorf("-%s %q: sse-kms-key-id goes with sse=aws:kms", flag, s)
	}
	if loc.Region == "" {
		loc.Region = "us-east-1"
	}
	return loc, nil
}

// SQLitePath is the embedded database file.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "metadata.db") }

// ObjectsDir is the embedded object directory.
func (c *Config) ObjectsDir() string { return filepath.Join(c.DataDir, "objects") }

// Logger builds the server's logger.
func (c *Config) Logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
