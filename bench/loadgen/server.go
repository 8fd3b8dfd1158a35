package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// seqstoreProcess is a seqstore server this program built and started, on a
// free loopback port with a throw-away data directory.
type seqstoreProcess struct {
	cmd      *exec.Cmd
	endpoint string // http://127.0.0.1:PORT
	dir      string // temporary directory holding the binary, data and log
	logPath  string
	exited   chan struct{}
}

// moduleRoot finds the directory of seqstore's go.mod, walking up from the
// working directory, so the benchmark runs from anywhere in the tree.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/seqstore/seqstore\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the seqstore source tree: run from it, or pass -seqstore BINARY or -endpoint URL -id STOREID")
		}
		dir = parent
	}
}

// buildSeqstore compiles cmd/seqstore into dir and returns the binary's path.
func buildSeqstore(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "seqstore")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/seqstore")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/seqstore: %w\n%s", err, out)
	}
	return bin, nil
}

// freeLoopbackAddr asks the kernel for a free port on 127.0.0.1.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// randomCredentials makes an access key pair shaped like AWS's: a 20-character
// upper-case ID and a 40-character secret.
func randomCredentials() (id, secret string) {
	const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	pick := func(alphabet string, n int) string {
		b := make([]byte, n)
		rand.Read(b)
		for i := range b {
			b[i] = alphabet[int(b[i])%len(alphabet)]
		}
		return string(b)
	}
	return "AKIASEQSTOREBENCH" + pick(idAlphabet, 3), pick(secretAlphabet, 40)
}

// startSeqstore runs bin serve in dir with the given root credentials,
// GOMAXPROCS (0 leaves it unset) and address-space limit in MiB (0: none),
// and waits until it accepts connections.
func startSeqstore(ctx context.Context, bin, dir, accessKeyID, secret string, gomaxprocs, asLimitMiB int) (*seqstoreProcess, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	p := &seqstoreProcess{endpoint: "http://" + addr, dir: dir, logPath: filepath.Join(dir, "seqstore.log"), exited: make(chan struct{})}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	p.cmd = exec.Command(bin, "serve", "-addr", addr, "-data", filepath.Join(dir, "data"))
	if asLimitMiB > 0 {
		// The shell sets the limit and then becomes seqstore: same PID,
		// so peakRSS still reads the server.
		p.cmd = exec.Command("/bin/sh", "-c", fmt.Sprintf(`ulimit -v %d && exec "$0" "$@"`, asLimitMiB<<10),
			bin, "serve", "-addr", addr, "-data", filepath.Join(dir, "data"))
	}
	p.cmd.Env = append(os.Environ(),
		"SEQSTORE_ACCESS_KEY_ID="+accessKeyID,
		"SEQSTORE_SECRET_ACCESS_KEY="+secret,
	)
	if gomaxprocs > 0 {
		p.cmd.Env = append(p.cmd.Env, fmt.Sprintf("GOMAXPROCS=%d", gomaxprocs))
	}
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()

	wait := time.NewTimer(30 * time.Second)
	defer wait.Stop()
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return p, nil
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("seqstore exited before listening on %s; its log:\n%s", addr, p.logTail())
		case <-wait.C:
			p.stop()
			return nil, fmt.Errorf("seqstore did not listen on %s within 30s; its log:\n%s", addr, p.logTail())
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// alive reports whether the server is still running.
func (p *seqstoreProcess) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// prepare makes the run's temporary directory and, unless -seqstore names a
// binary, builds seqstore into it.
func prepare(ctx context.Context, o options, out io.Writer) (dir, bin string, err error) {
	if dir, err = os.MkdirTemp("", "seqstore-loadgen-"); err != nil {
		return "", "", err
	}
	bin = o.seqstoreBin
	if bin == "" {
		fmt.Fprintln(out, "building seqstore ...")
		if bin, err = buildSeqstore(ctx, dir); err != nil {
			os.RemoveAll(dir)
			return "", "", err
		}
	}
	return dir, bin, nil
}

// deathNote is the first line of the server's log that says why it died
// (a Go fatal error or panic), or its exit status.
func (p *seqstoreProcess) deathNote() string {
	b, _ := os.ReadFile(p.logPath)
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "fatal error:") || strings.HasPrefix(line, "panic:") || strings.HasPrefix(line, "runtime: out of memory") {
			return strings.TrimSpace(line)
		}
	}
	if p.cmd.ProcessState != nil {
		return p.cmd.ProcessState.String()
	}
	return "no reason in its log"
}

// logTail returns the last lines of the server's log, for error messages.
func (p *seqstoreProcess) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// peakRSS reads the high-water resident set size of the server and of its
// work process from /proc, summed (an upper bound of the pair's peak); zero
// when it cannot be read (not Linux, or the process is gone).
func (p *seqstoreProcess) peakRSS() int64 {
	pid := strconv.Itoa(p.cmd.Process.Pid)
	pids := []string{pid}
	children, _ := filepath.Glob("/proc/" + pid + "/task/*/children")
	for _, c := range children {
		b, _ := os.ReadFile(c)
		pids = append(pids, strings.Fields(string(b))...)
	}
	var total int64
	for _, pid := range pids {
		b, err := os.ReadFile("/proc/" + pid + "/status")
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				var kib int64
				fmt.Sscanf(strings.TrimSpace(rest), "%d", &kib)
				total += kib << 10
			}
		}
	}
	return total
}

// stop asks the server to shut down, then kills it if it lingers.
func (p *seqstoreProcess) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// apiClient makes single signed calls to the omics API, for setting up a
// benchmark; the load itself goes through driver.
type apiClient struct {
	endpoint string
	signing  *signing
	http     *http.Client
}

// call sends one signed request with an optional JSON body and returns the
// response body, or an error quoting it when the status is not 200.
func (c *apiClient) call(ctx context.Context, method, path string, body any) ([]byte, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256(payload)
	if err := c.signing.sign(ctx, req, hex.EncodeToString(sum[:])); err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: HTTP %d %s: %s", method, path, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), out)
	}
	return out, nil
}

// createSequenceStore makes a store named name and returns its ID.
func (c *apiClient) createSequenceStore(ctx context.Context, name string) (string, error) {
	return c.create(ctx, "CreateSequenceStore", "/sequencestore", map[string]string{"name": name}, "id")
}

// create sends the create operation op to path and returns the ID its
// answer carries in the member idMember.
func (c *apiClient) create(ctx context.Context, op, path string, body any, idMember string) (string, error) {
	out, err := c.call(ctx, http.MethodPost, path, body)
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	var answer map[string]any
	json.Unmarshal(out, &answer)
	id, _ := answer[idMember].(string)
	if id == "" {
		return "", fmt.Errorf("%s answered without an %s: %s", op, idMember, out)
	}
	return id, nil
}

// getSequenceStore fetches one GetSequenceStore response body and checks it
// is the store asked for.
func (c *apiClient) getSequenceStore(ctx context.Context, id string) ([]byte, error) {
	out, err := c.call(ctx, http.MethodGet, "/sequencestore/"+id, nil)
	if err != nil {
		return nil, fmt.Errorf("GetSequenceStore: %w", err)
	}
	var got struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out, &got); err != nil || got.ID != id {
		return nil, fmt.Errorf("GetSequenceStore answered for another store or not in JSON: %s", out)
	}
	return out, nil
}
