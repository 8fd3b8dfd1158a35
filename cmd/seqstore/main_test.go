package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seqstore/seqstore/internal/format/bam"
	"github.com/seqstore/seqstore/internal/format/bam/bamtest"
	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
)

// seqstoreCmd is this command, built once for the tests that run it.
var seqstoreCmd = testutil.Binary{Package: "."}

func TestMain(m *testing.M) {
	code := m.Run()
	seqstoreCmd.Cleanup()
	os.Exit(code)
}

func buildBinary(t *testing.T) string { return seqstoreCmd.Path(t) }

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type running struct {
	cmd    *exec.Cmd
	stderr *testutil.SyncBuffer
}

// serve starts `seqstore serve` and waits until it accepts connections.
func serve(t *testing.T, bin, data, addr string, env ...string) *running {
	t.Helper()
	return serveWith(t, bin, data, addr, nil, env...)
}

// serveWith is serve with more flags.
func serveWith(t *testing.T, bin, data, addr string, flags []string, env ...string) *running {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "-addr", addr, "-data", data}, flags...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr := &testutil.SyncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &running{cmd: cmd, stderr: stderr}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ {
		// Its log is copied from a pipe, so the lines written before the
		// listener opened can still be on their way: wait for the last.
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			if strings.Contains(stderr.String(), "seqstore serving") {
				return r
			}
		}
		if i > 200 {
			t.Fatalf("seqstore did not start:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and expects a clean exit.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("seqstore exited with %v after SIGTERM:\n%s", err, r.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("seqstore did not stop within 30 s of SIGTERM")
	}
}

// exports picks the export lines a first start prints.
func exports(t *testing.T, stderr string) []string {
	t.Helper()
	var env []string
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "export "); ok {
			env = append(env, line)
		}
	}
	if len(env) < 5 {
		t.Fatalf("no export lines in:\n%s", stderr)
	}
	return env
}

func awsCLI(t *testing.T, env []string, args ...string) []byte {
	t.Helper()
	aws := testutil.RequireTool(t, "aws")
	cmd := exec.Command(aws, append([]string{"omics", "--output", "json"}, args...)...)
	cmd.Env = append(append(testutil.EnvWithoutAWS(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"), env...)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("aws omics %v: %v\n%s", args, err, stderr)
	}
	return out
}

// The first start makes credentials and prints the lines to paste; those
// lines drive the AWS CLI as printed; the server stops cleanly on SIGTERM and
// a restart keeps the key and the data.
func TestServeFirstStartAndRestart(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	addr := freeAddr(t)
	first := serve(t, bin, data, addr)
	env := exports(t, first.stderr.String())
	info, err := os.Stat(filepath.Join(data, "root-credentials"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("root credentials file: %v, mode %v", err, info.Mode())
	}
	var created struct{ ID string }
	json.Unmarshal(awsCLI(t, env, "create-sequence-store", "--name", "from-readme"), &created)
	first.stop(t)

	second := serve(t, bin, data, addr)
	if strings.Contains(second.stderr.String(), "export AWS_SECRET_ACCESS_KEY") {
		t.Error("a restart printed the credentials again")
	}
	var got struct{ Name string }
	json.Unmarshal(awsCLI(t, env, "get-sequence-store", "--id", created.ID), &got)
	if got.Name != "from-readme" {
		t.Fatalf("after restart the store is %+v", got)
	}
	second.stop(t)
}

func TestAdminAccountsDriveTheirOwnStores(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	out, err := exec.Command(bin, "admin", "account", "create", "-name", "lab-b", "-id", "210987654321", "-data", data).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var env []string
	for _, line := range strings.Split(string(out), "\n") {
		if kv, ok := strings.CutPrefix(line, "export "); ok {
			env = append(env, kv)
		}
	}
	if len(env) != 2 {
		t.Fatalf("admin printed %q", out)
	}
	addr := freeAddr(t)
	srv := serve(t, bin, data, addr)
	env = append(env, "AWS_DEFAULT_REGION=us-east-1", "AWS_ENDPOINT_URL_OMICS=http://"+addr, "AWS_DISABLE_HOST_PREFIX_INJECTION=true")
	var created struct{ Arn string }
	json.Unmarshal(awsCLI(t, env, "create-sequence-store", "--name", "lab-b-store"), &created)
	if !strings.Contains(created.Arn, ":210987654321:sequenceStore/") {
		t.Fatalf("store ARN %q does not name the account", created.Arn)
	}
	list, err := exec.Command(bin, "admin", "account", "list", "-data", data).CombinedOutput()
	if err != nil || !strings.Contains(string(list), "210987654321") || !strings.Contains(string(list), "123456789012") {
		t.Fatalf("account list: %v\n%s", err, list)
	}
	srv.stop(t)
}

func TestInspectCRAM(t *testing.T) {
	testutil.RequireTool(t, "samtools")
	bin := buildBinary(t)
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.fa")
	bases := strings.Repeat("ACGTTGCA", 25)
	os.WriteFile(ref, []byte(">chr1\n"+bases+"\n"), 0o644)
	sam := filepath.Join(dir, "reads.sam")
	os.WriteFile(sam, []byte("@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:200\n"+
		"r1\t0\tchr1\t5\t60\t4M\t*\t0\t0\t"+bases[4:8]+"\tIIII\n"+
		"r2\t16\tchr1\t9\t60\t6M\t*\t0\t0\tACGAAA\tIIIIII\n"), 0o644)
	cram := filepath.Join(dir, "reads.cram")
	testutil.Run(t, "samtools", "view", "-C", "-T", ref, "-o", cram, sam)
	out, err := exec.Command(bin, "inspect", "-reference", ref, cram).Output()
	if err != nil {
		t.Fatalf("inspect: %v\n%s", err, out)
	}
	var got struct {
		FileType            string
		SequenceInformation struct{ TotalReadCount, TotalBaseCount int64 }
		ETags               map[string]string
	}
	json.Unmarshal(out, &got)
	want := fmt.Sprintf("%x", md5.Sum(testutil.Run(t, "samtools", "view", "-T", ref, cram)))
	if got.FileType != "CRAM" || got.SequenceInformation.TotalReadCount != 2 || got.SequenceInformation.TotalBaseCount != 10 || got.ETags["MD5up"] != want {
		t.Fatalf("inspect said %s, want CRAM 2 reads 10 bases MD5up %s", out, want)
	}
	if err := exec.Command(bin, "inspect", cram).Run(); err == nil {
		t.Fatal("inspect of a CRAM without -reference succeeded")
	}
	// Two records take more than 100 bytes decoded.
	out, err = exec.Command(bin, "inspect", "-max-cram-memory", "100", "-reference", ref, cram).Output()
	if err == nil || !strings.Contains(string(out), "exceeds the limit max-cram-memory=100B") {
		t.Fatalf("inspect with a memory limit of 100 bytes: %v, %s; want an error naming max-cram-memory", err, out)
	}
}

func TestInspect(t *testing.T) {
	testutil.RequireTool(t, "samtools")
	bin := buildBinary(t)
	dir := t.TempDir()
	fq := filepath.Join(dir, "reads.fq")
	os.WriteFile(fq, []byte("@r1\nACGT\n+\nIIII\n@r2\nACG\n+\nIII\n"), 0o644)
	sam := filepath.Join(dir, "reads.sam")
	os.WriteFile(sam, []byte("@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:100\nr1\t0\tchr1\t5\t60\t4M\t*\t0\t0\tACGT\tIIII\tNM:i:0\nr2\t256\tchr1\t9\t0\t3M\t*\t0\t0\tACG\tIII\n"), 0o644)
	bam := filepath.Join(dir, "reads.bam")
	testutil.Run(t, "samtools", "view", "-b", "-o", bam, sam)
	broken := filepath.Join(dir, "broken.fq")
	os.WriteFile(broken, []byte("@r1\nACGT\n+\nIII\n"), 0o644)

	cmd := exec.Command(bin, "inspect", fq, bam, broken)
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("inspect with a broken file: %v, want exit 1", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 {
		t.Fatalf("want one JSON line per file, got:\n%s", out)
	}
	var results []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		results = append(results, m)
	}
	md5sum := func(b []byte) string { return fmt.Sprintf("%x", md5.Sum(b)) }
	fqBytes, _ := os.ReadFile(fq)
	tests := []struct {
		got, want any
	}{
		{results[0]["fileType"], "FASTQ"},
		{results[0]["sequenceInformation"].(map[string]any)["totalReadCount"], float64(2)},
		{results[0]["sequenceInformation"].(map[string]any)["totalBaseCount"], float64(7)},
		{results[0]["etags"].(map[string]any)["MD5up"], md5sum(fqBytes)},
		{results[1]["fileType"], "BAM"},
		{results[1]["sequenceInformation"].(map[string]any)["totalReadCount"], float64(1)},
		{results[1]["etags"].(map[string]any)["MD5up"], md5sum(testutil.Run(t, "samtools", "view", bam))},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("check %d: got %v, want %v", i, tt.got, tt.want)
		}
	}
	if msg, _ := results[2]["error"].(string); !regexp.MustCompile(`source1, record 1 \(line 4\): the file ends inside the qualities`).MatchString(msg) {
		t.Errorf("broken file error %q", msg)
	}
}

// TestInspectLimits runs inspect in-process on the BAM whose header
// declares 20 million reference sequences, which took it to 2.3 GB: it must
// fail naming the limit while holding little, and the limit flags must
// move the limits.
func TestInspectLimits(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "off") // keep inspect's own soft limit out of the measurement
	dir := t.TempDir()
	le := binary.LittleEndian
	head := le.AppendUint32(le.AppendUint32(append([]byte{}, bam.Magic...), 0), 20_000_000)
	ref := le.AppendUint32(append(le.AppendUint32(nil, 2), 'c', 0), 1000)
	hostile := filepath.Join(dir, "refs.bam")
	f, err := os.Create(hostile)
	if err != nil {
		t.Fatal(err)
	}
	src := bamtest.Stream(head, ref, int64(len(head))+20_000_000*int64(len(ref)))
	if _, err := io.Copy(f, src); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fq := filepath.Join(dir, "reads.fq")
	os.WriteFile(fq, []byte("@r1\nACGT\n+\nIIII\n"), 0o644)

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"20 million references", []string{hostile}, "the header's 20000000 reference sequences exceeds the limit max-references=1048576"},
		{"a lower FASTQ line limit", []string{"-max-fastq-line", "3", fq}, "source1, record 1 (line 2): line 2 exceeds the limit max-fastq-line=3B"},
		{"a FASTQ record limit in KiB", []string{"-max-fastq-record", "1KiB", "-max-fastq-line", "2K", fq}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			var err error
			heapcap.Check(t, heapcap.Ceiling, func() {
				err = runInspect(context.Background(), tt.args, &out)
			})
			var got struct{ Error string }
			json.Unmarshal(out.Bytes(), &got)
			if tt.want == "" {
				if err != nil || got.Error != "" {
					t.Fatalf("inspect: %v %s", err, out.Bytes())
				}
				return
			}
			if err == nil || !strings.Contains(got.Error, tt.want) {
				t.Fatalf("inspect said %s, want an error containing %q", out.Bytes(), tt.want)
			}
		})
	}
	if err := runInspect(context.Background(), []string{"-max-bam-record", "lots", fq}, io.Discard); err == nil || !strings.Contains(err.Error(), `"lots" is not a size`) {
		t.Errorf("a bad size: %v", err)
	}
}

// The lines a first start prints are all the JavaScript SDK needs: it takes
// the endpoint, the credentials and, from AWS_REGION, the region from them.
func TestExportLinesDriveTheJavaScriptSDK(t *testing.T) {
	node := testutil.RequireTool(t, "node")
	dir, err := filepath.Abs("../../test/js")
	if err != nil {
		t.Fatal(err)
	}
	testutil.RequireDir(t, filepath.Join(dir, "node_modules", "@aws-sdk", "client-omics"))
	bin := buildBinary(t)
	srv := serve(t, bin, t.TempDir(), freeAddr(t))
	cmd := exec.Command(node, "exports.mjs")
	cmd.Dir = dir
	cmd.Env = append(testutil.EnvWithoutAWS(), exports(t, srv.stderr.String())...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `{"stores":0,"region":"us-east-1"}`) {
		t.Fatalf("exports.mjs with the printed lines: %v\n%s", err, out)
	}
	srv.stop(t)
}
