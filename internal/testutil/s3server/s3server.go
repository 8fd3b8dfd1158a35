// Package s3server runs a real S3-compatible server, versitygw over a local
// directory, for tests and benchmarks of code that talks S3: the object store
// driver s3blob and anything built on it. Tests call Start; scripts and other
// non-test code call StartProcess and Stop.
package s3server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/seqstore/seqstore/internal/testutil"
)

// Region is the region the server answers as.
const Region = "us-east-1"

// Binary finds the versitygw command: on PATH, else where `go install` puts
// it (GOBIN, or the bin directory of each GOPATH entry).
func Binary() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New("versitygw is not installed: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0")
}

// Server is a running versitygw process.
type Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	Dir       string // the directory it serves, a subdirectory per bucket
	AccessKey string
	SecretKey string
	Region    string

	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has been waited for
	output *tailBuffer
}

// StartProcess runs versitygw with its POSIX backend over dir (each
// subdirectory is a bucket) on a free loopback port, with fresh random root
// credentials, and returns once it answers requests. Call Stop to end it.
func StartProcess(dir string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	var lastErr error
	// Another process can take the free port between our probe and the
	// server's listen; a new port then fixes it.
	for range 3 {
		s, err := start(bin, dir)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func start(bin, dir string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{
		Endpoint:  "http://" + net.JoinHostPort("127.0.0.1", port),
		Dir:       dir,
		AccessKey: "SEQ" + randomHex(8),
		SecretKey: randomHex(20),
		Region:    Region,
		exited:    make(chan struct{}),
		output:    &tailBuffer{max: 64 << 10},
	}
	s.cmd = exec.Command(bin, "--port", net.JoinHostPort("127.0.0.1", port), "--region", Region, "--quiet", "posix", dir)
	// Credentials go through the environment so that they do not show in
	// the process list.
	s.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+s.AccessKey, "ROOT_SECRET_ACCESS_KEY="+s.SecretKey)
	s.cmd.Stdout = s.output
	s.cmd.Stderr = s.output
	s.cmd.SysProcAttr = dieWithParent()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	go func() {
		s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(20 * time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls until the server answers HTTP at all: any status, even
// Access Denied to an unsigned request, means it is serving.
func (s *Server) waitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(s.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("versitygw exited before serving (%v):\n%s", s.cmd.ProcessState, s.output)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("versitygw did not answer at %s within %v: %v\n%s", s.Endpoint, timeout, err, s.output)
		}
	}
}

// Stop ends the server: politely first, then by force after five seconds.
func (s *Server) Stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	return nil
}

// Pause stops the server's process (SIGSTOP): its connections stay open
// and every request waits, as on a stalled S3 service, until Resume. A
// test uses it to catch a client in the middle of its work.
func (s *Server) Pause() error { return s.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume lets a paused server go on (SIGCONT).
func (s *Server) Resume() error { return s.cmd.Process.Signal(syscall.SIGCONT) }

// Output is the tail of the server's log, for failure messages.
func (s *Server) Output() string { return s.output.String() }

// Client returns an S3 client for the server with its root credentials.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint),
		Region:       s.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		UsePathStyle: true,
	})
}

// CreateBucket creates a bucket on the server.
func (s *Server) CreateBucket(ctx context.Context, name string) error {
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

// Start runs a server over a temporary directory for the test, creates a
// bucket in it and stops the server when the test ends. Without versitygw the
// test is skipped, or fails under CI, as testutil.RequireTool does.
func Start(t testing.TB) (endpoint, accessKey, secretKey, bucket string) {
	t.Helper()
	s := StartServer(t)
	bucket = "test-" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.CreateBucket(ctx, bucket); err != nil {
		t.Fatalf("%v\n%s", err, s.Output())
	}
	return s.Endpoint, s.AccessKey, s.SecretKey, bucket
}

// StartServer is Start without the bucket, for tests that need the Server
// itself (its client, or a server with no buckets).
func StartServer(t testing.TB) *Server {
	t.Helper()
	if _, err := Binary(); err != nil {
		if testutil.InCI() {
			t.Fatalf("%v; .ci/run must install it", err)
		}
		t.Skip(err)
	}
	s, err := StartProcess(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
