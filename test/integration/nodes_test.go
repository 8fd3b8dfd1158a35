package integration

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/auth"
	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/pgtest"
	"github.com/seqstore/seqstore/internal/testutil/s3server"
)

// cluster is a deployment of `seqstore serve` processes over one
// PostgreSQL schema and one bucket, sharing a root key.
type cluster struct {
	t       *testing.T
	bin     string
	dsn     string
	objects string
	env     []string
	root    seqstore.AccessKey
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	dsn := pgtest.NewSchemaDSN(t)
	endpoint, ak, sk, bucket := s3server.Start(t)
	root := auth.NewAccessKey("123456789012")
	return &cluster{
		t:       t,
		bin:     seqstoreBinary(t),
		dsn:     dsn,
		objects: fmt.Sprintf("s3://%s/seqstore?endpoint=%s&region=us-east-1", bucket, endpoint),
		env: append(testutil.EnvWithoutAWS(),
			"SEQSTORE_ACCESS_KEY_ID="+root.ID, "SEQSTORE_SECRET_ACCESS_KEY="+root.Secret,
			"SEQSTORE_S3_ACCESS_KEY_ID="+ak, "SEQSTORE_S3_SECRET_ACCESS_KEY="+sk),
		root: root,
	}
}

// node is one running `seqstore serve`.
type node struct {
	name     string
	cmd      *exec.Cmd
	log      *testutil.SyncBuffer
	endpoint string
	admin    string
	client   *omics.Client
}

// start runs a node and waits until its /readyz says it is ready.
func (c *cluster) start(name string) *node {
	t := c.t
	t.Helper()
	addr, adminAddr := freeLoopbackAddr(t), freeLoopbackAddr(t)
	// A short lease lets a survivor take over a killed node's ingestion
	// within seconds.
	cmd := exec.Command(c.bin, "serve", "-addr", addr, "-admin-addr", adminAddr, "-data", t.TempDir(),
		"-metadata", c.dsn, "-objects", c.objects, "-ingest-lease", "2s", "-ingest-workers", "1", "-shutdown-grace", "10s")
	cmd.Env = c.env
	n := &node{name: name, cmd: cmd, log: &testutil.SyncBuffer{}, endpoint: "http://" + addr, admin: "http://" + adminAddr}
	cmd.Stderr = n.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(n.admin + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s not ready after 30 s:\n%s", name, n.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.client = goClientOf(n.endpoint, c.root)
	return n
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// kill ends the node with SIGKILL, as the kernel's out-of-memory killer or
// a power cut would: no lease is given back, nothing is flushed.
func (n *node) kill(t *testing.T) {
	t.Helper()
	testutil.KillTree(n.cmd.Process)
	n.cmd.Wait()
}

// stop ends the node with SIGTERM and expects a clean exit.
func (n *node) stop(t *testing.T) {
	t.Helper()
	n.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- n.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("node %s exited with %v after SIGTERM:\n%s", n.name, err, n.log)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("node %s did not stop within 30 s of SIGTERM", n.name)
	}
}

// logged reports whether n logged msg about read set id.
func logged(n *node, msg, id string) bool {
	for line := range strings.Lines(n.log.String()) {
		if strings.Contains(line, "msg=\""+msg+"\"") && strings.Contains(line, "readSet="+id+" ") {
			return true
		}
	}
	return false
}

// repetitiveFASTQ writes n copies of one 152-base read (n a multiple of
// 1000) as gzip members of 1000 reads each: well under a megabyte to
// upload, seconds to ingest, and compressed once, not n/1000 times, which
// under the race detector would take most of a minute. It returns the path
// and the MD5 of the uncompressed FASTQ, the read set's FASTQ_MD5up ETag.
func repetitiveFASTQ(t *testing.T, n int) (string, string) {
	t.Helper()
	record := "@r\n" + strings.Repeat("ACGT", 38) + "\n+\n" + strings.Repeat("I", 152) + "\n"
	block := []byte(strings.Repeat(record, 1000))
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestSpeed)
	zw.Write(block)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "repetitive.fq.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	h := md5.New()
	for range n / 1000 {
		w.Write(member.Bytes())
		h.Write(block)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return path, hex.EncodeToString(h.Sum(nil))
}

// checkStored checks through node n that the read set is ACTIVE with the
// counts and ETag of the FASTQ whose MD5 is sum, and that its stored file
// is that FASTQ: `seqstore download` inflates and hashes what it fetches
// and refuses a file whose ETag differs from the read set's.
func (c *cluster) checkStored(t *testing.T, n *node, store, id string, reads int64, sum string) {
	t.Helper()
	md := waitIngested(t, n.client, store, id)
	if md.Status != types.ReadSetStatusActive {
		t.Fatalf("read set %s is %s: %s", id, md.Status, aws.ToString(md.StatusMessage))
	}
	if got := md.SequenceInformation; got == nil || aws.ToInt64(got.TotalReadCount) != reads {
		t.Errorf("read set %s: sequence information %+v, want %d reads", id, got, reads)
	}
	if md.Etag == nil || aws.ToString(md.Etag.Source1) != sum {
		t.Errorf("read set %s: ETag %+v, want source1 %s", id, md.Etag, sum)
	}
	cmd := exec.Command(c.bin, "download", "-store", store, "-file", "SOURCE1", "-o", t.TempDir(), id)
	cmd.Env = append(testutil.EnvWithoutAWS(),
		"AWS_ACCESS_KEY_ID="+c.root.ID, "AWS_SECRET_ACCESS_KEY="+c.root.Secret,
		"AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_OMICS="+n.endpoint,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("read set %s: downloading its stored file through node %s: %v\n%s", id, n.name, err, out)
	}
}

// Three nodes over one PostgreSQL database and one bucket act as one
// server: what one node writes another reads; a pagination token and a
// clientToken from one node are honoured by the others; a node killed in
// the middle of an ingestion has its read set finished by another, true to
// its file; and a restart of every node loses nothing.
func TestThreeNodes(t *testing.T) {
	ctx := context.Background()
	cl := newCluster(t)
	nodes := []*node{cl.start("a"), cl.start("b"), cl.start("c")}

	// A clientToken's first answer is every node's answer.
	create := &omics.CreateSequenceStoreInput{Name: aws.String("shared"), ClientToken: aws.String("create-shared-1")}
	first, err := nodes[0].client.CreateSequenceStore(ctx, create)
	if err != nil {
		t.Fatal(err)
	}
	store := aws.ToString(first.Id)
	for _, n := range nodes[1:] {
		again, err := n.client.CreateSequenceStore(ctx, create)
		if err != nil {
			t.Fatalf("retry on node %s: %v", n.name, err)
		}
		if aws.ToString(again.Id) != store {
			t.Fatalf("the retry of a clientToken on node %s made store %s, the first made %s", n.name, aws.ToString(again.Id), store)
		}
	}
	for i, n := range nodes[1:] {
		if _, err := n.client.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String(fmt.Sprintf("other-%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	// Each page is asked of the next node, with the token the last gave.
	seen := map[string]bool{}
	var token *string
	for page := 0; ; page++ {
		out, err := nodes[page%3].client.ListSequenceStores(ctx, &omics.ListSequenceStoresInput{MaxResults: aws.Int32(1), NextToken: token})
		if err != nil {
			t.Fatalf("page %d on node %s: %v", page, nodes[page%3].name, err)
		}
		for _, s := range out.SequenceStores {
			if seen[aws.ToString(s.Id)] {
				t.Fatalf("store %s listed twice", aws.ToString(s.Id))
			}
			seen[aws.ToString(s.Id)] = true
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if len(seen) != 3 {
		t.Fatalf("paging across nodes listed %d stores, want 3", len(seen))
	}

	// Uploaded through one node, read through another.
	small, smallSum := gzipFASTQ(t, t.TempDir(), "small", 1000)
	smallID := uploadFiles(t, nodes[0].client, store, types.FileTypeFastq, "", 64<<10, small)
	cl.checkStored(t, nodes[1], store, smallID, 1000, smallSum)

	// The node that ingests a read set dies mid-way; another finishes it.
	const slowReads = 1_000_000
	slow, slowSum := repetitiveFASTQ(t, slowReads)
	slowID := uploadFiles(t, nodes[2].client, store, types.FileTypeFastq, "", 8<<20, slow)
	var victim *node
	deadline := time.Now().Add(30 * time.Second)
	for victim == nil {
		for _, n := range nodes {
			if logged(n, "ingesting read set", slowID) {
				victim = n
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no node started ingesting the read set within 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	victim.kill(t)
	if logged(victim, "read set active", slowID) {
		t.Fatalf("node %s finished the ingestion before it was killed; the test needs a slower file", victim.name)
	}
	var survivors []*node
	for _, n := range nodes {
		if n != victim {
			survivors = append(survivors, n)
		}
	}
	cl.checkStored(t, survivors[0], store, slowID, slowReads, slowSum)
	var takeovers float64
	for _, n := range survivors {
		v, _ := sample(scrape(t, n.admin), "seqstore_ingest_lease_takeovers_total")
		takeovers += v
	}
	if takeovers != 1 {
		t.Errorf("the survivors count %v lease takeovers, want 1", takeovers)
	}

	// Every node restarts; nothing is lost.
	for _, n := range survivors {
		n.stop(t)
	}
	nodes = []*node{cl.start("a2"), cl.start("b2"), cl.start("c2")}
	stores, err := nodes[0].client.ListSequenceStores(ctx, &omics.ListSequenceStoresInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(stores.SequenceStores) != 3 {
		t.Errorf("after a restart %d stores are listed, want 3", len(stores.SequenceStores))
	}
	sets, err := nodes[1].client.ListReadSets(ctx, &omics.ListReadSetsInput{SequenceStoreId: aws.String(store)})
	if err != nil {
		t.Fatal(err)
	}
	if len(sets.ReadSets) != 2 {
		t.Errorf("after a restart %d read sets are listed, want 2", len(sets.ReadSets))
	}
	cl.checkStored(t, nodes[2], store, smallID, 1000, smallSum)
	cl.checkStored(t, nodes[0], store, slowID, slowReads, slowSum)
	for _, n := range nodes {
		n.stop(t)
	}
}
