// Package integration starts real seqstore servers and drives them with the
// official AWS clients: the Go SDK, the AWS CLI, boto3 and the JavaScript
// SDK, over the embedded and the scale-out backends.
package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/auth"
	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/config"
	"github.com/seqstore/seqstore/internal/server"
	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/pgtest"
	"github.com/seqstore/seqstore/internal/testutil/s3server"
)

// backend names a metadata and object store pair.
type backend struct {
	name     string
	scaleOut bool // PostgreSQL and S3 rather than SQLite and files
}

var backends = []backend{{name: "sqlite+file"}, {name: "postgres+s3", scaleOut: true}}

// instance is a running server.
type instance struct {
	t        testing.TB
	srv      *server.Server
	cfg      *config.Config
	endpoint string
	cancel   context.CancelFunc
	done     chan error
}

// start runs a server with the backend over dataDir ("" for a fresh one).
func start(t testing.TB, b backend, cfg *config.Config) *instance {
	t.Helper()
	return startLogged(t, b, cfg, testLogger(t))
}

// startLogged is start with the server logging to log.
func startLogged(t testing.TB, b backend, cfg *config.Config, log *slog.Logger) *instance {
	t.Helper()
	if cfg == nil {
		cfg = newConfig(t, b)
	}
	ctx := context.Background()
	srv, err := server.Open(ctx, cfg, log)
	if err != nil {
		t.Fatalf("open server: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	in := &instance{t: t, srv: srv, cfg: cfg, endpoint: srv.Scheme() + "://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { in.done <- srv.Serve(sctx, ln) }()
	t.Cleanup(in.stop)
	return in
}

// newConfig makes the configuration of a fresh server on backend b.
func newConfig(t testing.TB, b backend) *config.Config {
	t.Helper()
	cfg, _ := newConfigAtRest(t, b)
	return cfg
}

// newConfigAtRest is newConfig, and the directory on disk that holds the
// server's objects in both tiers, as they are at rest: the data directory
// on the file backend, the bucket's directory in the S3 server on S3.
func newConfigAtRest(t testing.TB, b backend) (*config.Config, string) {
	t.Helper()
	cfg := &config.Config{
		Addr:          "127.0.0.1:0",
		DataDir:       t.TempDir(),
		Region:        "us-east-1",
		AccountID:     "123456789012",
		Metadata:      "sqlite",
		Objects:       "file",
		IngestWorkers: 1,
		// More than net/http's own 5 s: Shutdown counts a connection that
		// was opened but never sent a request (a client cancelled while
		// dialling ahead) as busy for its first 5 s.
		ShutdownGrace: 15 * time.Second,
		// Off for speed (the server's default is on): TestReadSetQC
		// turns it on.
		SkipQC: true,
		// The fast deflater for plain FASTQ: under the race detector the
		// default one writes well under 1 MB/s. TestFASTQStoredAsUploaded
		// runs the default.
		FASTQStoreLevel: 4,
		LogFormat:       "text",
	}
	if !b.scaleOut {
		return cfg, cfg.DataDir
	}
	cfg.Metadata = pgtest.NewSchemaDSN(t)
	s3 := s3server.StartServer(t)
	bucket := "test-" + strings.ToLower(rand.Text()[:12])
	if err := s3.CreateBucket(context.Background(), bucket); err != nil {
		t.Fatalf("%v\n%s", err, s3.Output())
	}
	cfg.Objects = fmt.Sprintf("s3://%s/seqstore?endpoint=%s&region=us-east-1", bucket, s3.Endpoint)
	cfg.S3AccessKeyID, cfg.S3SecretAccessKey = s3.AccessKey, s3.SecretKey
	return cfg, filepath.Join(s3.Dir, bucket)
}

func (in *instance) stop() {
	if in.cancel == nil {
		return
	}
	in.cancel()
	if err := <-in.done; err != nil {
		in.t.Errorf("serve: %v", err)
	}
	in.srv.Close()
	in.cancel = nil
}

// restart stops the server and starts another over the same stores.
func (in *instance) restart(b backend) *instance {
	in.t.Helper()
	in.stop()
	return start(in.t, b, in.cfg)
}

// rootKey returns the root account's credentials.
func (in *instance) rootKey() seqstore.AccessKey { return in.srv.Root.Key }

// newAccount adds an account with a key, as `seqstore admin` does.
func (in *instance) newAccount(t testing.TB, id string) seqstore.AccessKey {
	t.Helper()
	ctx := context.Background()
	if err := in.srv.Meta.AccountPut(ctx, seqstore.Account{ID: id, Name: "other", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	k := auth.NewAccessKey(id)
	if err := in.srv.Meta.AccessKeyPut(ctx, k); err != nil {
		t.Fatal(err)
	}
	return k
}

// goClient returns a Go SDK client signed with key; optFns adjust its
// options (an HTTP client that trusts a test certificate, say).
func (in *instance) goClient(key seqstore.AccessKey, optFns ...func(*omics.Options)) *omics.Client {
	return goClientOf(in.endpoint, key, optFns...)
}

// goClientOf is goClient for the server at endpoint.
func goClientOf(endpoint string, key seqstore.AccessKey, optFns ...func(*omics.Options)) *omics.Client {
	return omics.New(omics.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(key.ID, key.Secret, ""),
		APIOptions: []func(*middleware.Stack) error{func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("DisableHostPrefix",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
				}), middleware.Before)
		}},
	}, optFns...)
}

// cliResult is what one `aws omics` call did.
type cliResult struct {
	out      []byte
	stderr   string
	exitCode int
}

// json decodes the call's output.
func (r cliResult) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.out, v); err != nil {
		t.Fatalf("decode CLI output %q: %v", r.out, err)
	}
}

// cli runs `aws omics ARGS...` against the server with key.
func (in *instance) cli(t testing.TB, key seqstore.AccessKey, args ...string) cliResult {
	t.Helper()
	awsPath := testutil.RequireTool(t, "aws")
	full := append([]string{"omics", "--endpoint-url", in.endpoint, "--output", "json"}, args...)
	cmd := exec.Command(awsPath, full...)
	cmd.Env = append(testutil.EnvWithoutAWS(),
		"AWS_ACCESS_KEY_ID="+key.ID,
		"AWS_SECRET_ACCESS_KEY="+key.Secret,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_DISABLE_HOST_PREFIX_INJECTION=true",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{out: stdout.Bytes(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.exitCode = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run aws: %v", err)
	}
	return res
}

// mustCLI runs a CLI call that must succeed.
func (in *instance) mustCLI(t testing.TB, key seqstore.AccessKey, args ...string) cliResult {
	t.Helper()
	r := in.cli(t, key, args...)
	if r.exitCode != 0 {
		t.Fatalf("aws omics %s: exit %d: %s", strings.Join(args, " "), r.exitCode, r.stderr)
	}
	return r
}

// python runs a Python script from testdata with the server's endpoint and
// key in its environment, returning its standard output.
func (in *instance) python(t testing.TB, key seqstore.AccessKey, script string, args ...string) []byte {
	t.Helper()
	py := testutil.RequireTool(t, "python3")
	cmd := exec.Command(py, append([]string{filepath.Join("testdata", script)}, args...)...)
	cmd.Env = append(testutil.EnvWithoutAWS(),
		"SEQSTORE_ENDPOINT="+in.endpoint,
		"AWS_ACCESS_KEY_ID="+key.ID,
		"AWS_SECRET_ACCESS_KEY="+key.Secret,
		"AWS_DEFAULT_REGION=us-east-1",
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, stderr.String())
	}
	return out
}

// blobAttrs names the object store's attributes for listing callbacks.
type blobAttrs = blob.Attributes
