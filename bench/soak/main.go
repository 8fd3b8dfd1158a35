// Command soak runs three seqstore nodes over one PostgreSQL database and
// one S3 bucket (versitygw), drives them for a long while with mixed API
// traffic from the AWS SDK for Go on many connections plus concurrent
// uploads, and reports the errors (target: none), each operation's latency
// percentiles, and each node's resident memory at the start and the end
// (target: flat within 10%). It is not part of CI.
//
//	go run ./bench/soak                      # 3 nodes, 64 connections, 4 uploaders, 10 minutes
//	go run ./bench/soak -duration 30s        # check the program
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/seqstore/seqstore/internal/testutil/s3server"
)

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 10*time.Minute, "how long to drive the nodes after the warm-up")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Minute, "traffic before the start's memory is read and recording begins: long enough for the heap to reach its working size")
	flag.DurationVar(&o.rssEvery, "rss-every", 5*time.Second, "how often each node's resident memory is read")
	flag.DurationVar(&o.rssWindow, "rss-window", time.Minute, "memory at the start and at the end is the peak (and, printed beside it, the median) of the readings in the first and the last window this long: one reading swings with each garbage collection and with the ingests a node happens to be running")
	flag.IntVar(&o.nodes, "nodes", 3, "seqstore processes")
	flag.IntVar(&o.conns, "conns", 64, "connections of mixed API traffic, spread over the nodes")
	flag.IntVar(&o.uploaders, "uploaders", 4, "uploads running at once, each through several nodes")
	flag.IntVar(&o.reads, "reads", 20000, "reads in each uploaded FASTQ")
	flag.StringVar(&o.postgres, "postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL `URL`; the run uses a schema of its own and drops it at the end")
	flag.StringVar(&o.bin, "seqstore", "", "seqstore `binary` to run (default: build ./cmd/seqstore)")
	flag.Parse()
	ok, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

type options struct {
	duration, warmup        time.Duration
	rssEvery, rssWindow     time.Duration
	nodes, conns, uploaders int
	reads                   int
	postgres, bin           string
}

// node is one running seqstore.
type node struct {
	cmd      *exec.Cmd
	endpoint string
	log      string
}

func run(o options) (bool, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "seqstore-soak-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	if o.bin == "" {
		o.bin = filepath.Join(dir, "seqstore")
		if out, err := exec.Command("go", "build", "-o", o.bin, "./cmd/seqstore").CombinedOutput(); err != nil {
			return false, fmt.Errorf("go build ./cmd/seqstore (run from the repository's root): %v\n%s", err, out)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "s3"), 0o700); err != nil {
		return false, err
	}
	s3, err := s3server.StartProcess(filepath.Join(dir, "s3"))
	if err != nil {
		return false, err
	}
	defer s3.Stop()
	if err := s3.CreateBucket(ctx, "soak"); err != nil {
		return false, err
	}
	dsn, dropSchema, err := freshSchema(o.postgres)
	if err != nil {
		return false, err
	}
	defer dropSchema()

	root := randomKey()
	env := append(os.Environ(),
		"SEQSTORE_ACCESS_KEY_ID="+root.id, "SEQSTORE_SECRET_ACCESS_KEY="+root.secret,
		"SEQSTORE_S3_ACCESS_KEY_ID="+s3.AccessKey, "SEQSTORE_S3_SECRET_ACCESS_KEY="+s3.SecretKey)
	objects := "s3://soak/objects?endpoint=" + url.QueryEscape(s3.Endpoint) + "&region=us-east-1"
	var nodes []*node
	defer func() {
		for _, n := range nodes {
			n.cmd.Process.Signal(syscall.SIGTERM)
			n.cmd.Wait()
		}
	}()
	for i := range o.nodes {
		n, err := startNode(dir, i, o.bin, dsn, objects, env)
		if err != nil {
			return false, err
		}
		nodes = append(nodes, n)
	}

	retried := &retryLog{}
	clients := make([]*omics.Client, len(nodes))
	for i, n := range nodes {
		clients[i] = newClient(n.endpoint, root, &http.Transport{MaxConnsPerHost: o.uploaders + 2}, retried)
	}
	store, err := clients[0].CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("soak")})
	if err != nil {
		return false, err
	}
	fastq, sum, err := makeFASTQ(o.reads)
	if err != nil {
		return false, err
	}
	w := &workload{store: aws.ToString(store.Id), fastq: fastq, sum: sum, nodes: clients, stats: newStats()}
	// One read set to read from the start.
	if err := w.upload(ctx, 0, false); err != nil {
		return false, fmt.Errorf("first upload: %w", err)
	}

	fmt.Printf("soak: %d nodes over PostgreSQL and versitygw, %d connections of mixed API traffic, %d uploaders of %d-read FASTQ (%d KiB gzip)\n",
		o.nodes, o.conns, o.uploaders, o.reads, len(fastq)>>10)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range o.conns {
		c := newClient(nodes[i%len(nodes)].endpoint, root, &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}, retried)
		wg.Go(func() { w.mixed(ctx, c, stop) })
	}
	for i := range o.uploaders {
		wg.Go(func() {
			for round := 0; ; round++ {
				select {
				case <-stop:
					return
				default:
				}
				w.upload(ctx, i+round, true)
			}
		})
	}
	time.Sleep(o.warmup)
	w.stats.reset()
	retried.reset()
	began := time.Now()
	samples := sampleRSS(nodes, o.duration, o.rssEvery)
	close(stop)
	wg.Wait()
	return report(os.Stdout, w.stats, retried, time.Since(began), samples, o.rssWindow, nodes), nil
}

// freshSchema makes a schema of its own in the database at base and returns
// a URL whose search_path names it.
func freshSchema(base string) (string, func(), error) {
	db, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	schema := "soak_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("PostgreSQL at %s: %w (give -postgres)", base, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		db.Close()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		db.Close()
	}, nil
}

func startNode(dir string, i int, bin, dsn, objects string, env []string) (*node, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	data := filepath.Join(dir, fmt.Sprintf("node%d", i))
	logPath := data + ".log"
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "-addr", addr, "-data", data, "-metadata", dsn, "-objects", objects,
		"-log-level", "warn")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	logFile.Close()
	n := &node{cmd: cmd, endpoint: "http://" + addr, log: logPath}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := http.Get(n.endpoint + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n, nil
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("node %d not ready after 30 s:\n%s", i, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type key struct{ id, secret string }

func randomKey() key {
	b := make([]byte, 30)
	rand.Read(b)
	return key{id: "SQSOAK" + strings.ToUpper(hex.EncodeToString(b[:7])), secret: hex.EncodeToString(b[7:])}
}

func newClient(endpoint string, k key, tr *http.Transport, retried *retryLog) *omics.Client {
	return omics.New(omics.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(k.id, k.secret, ""),
		HTTPClient:   &http.Client{Transport: tr},
		// The SDK's standard retries, as every AWS client runs them, but
		// each retried attempt is logged with its cause, and one caused
		// by a server error (5xx) fails the run as an error would.
		Retryer: &loggingRetryer{Retryer: retry.NewStandard(), log: retried},
		APIOptions: []func(*middleware.Stack) error{func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("DisableHostPrefix",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
				}), middleware.Before)
		}},
	})
}

// loggingRetryer is the SDK's retryer, logging every error it retries.
type loggingRetryer struct {
	aws.Retryer
	log *retryLog
}

func (r *loggingRetryer) IsErrorRetryable(err error) bool {
	ok := r.Retryer.IsErrorRetryable(err)
	if ok {
		r.log.add(err)
	}
	return ok
}

// retryLog counts retried attempts by cause.
type retryLog struct {
	mu          sync.Mutex
	byMessage   map[string]int
	serverFault int
}

func (l *retryLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byMessage, l.serverFault = map[string]int{}, 0
}

func (l *retryLog) add(err error) {
	var re *awshttp.ResponseError
	fault := errors.As(err, &re) && re.HTTPStatusCode() >= 500
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byMessage == nil {
		l.byMessage = map[string]int{}
	}
	if fault {
		l.serverFault++
	}
	if _, seen := l.byMessage[err.Error()]; seen || len(l.byMessage) < maxMessages {
		l.byMessage[err.Error()]++
	}
}

// makeFASTQ returns a gzip FASTQ of n random reads and the MD5 of its
// uncompressed bytes, its FASTQ_MD5up ETag.
func makeFASTQ(n int) ([]byte, string, error) {
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	h := md5.New()
	w := bufio.NewWriter(io.MultiWriter(zw, h))
	seq, qual := make([]byte, 150), make([]byte, 150)
	for i := range n {
		for j := range seq {
			seq[j] = "ACGT"[mrand.IntN(4)]
			qual[j] = byte('#' + mrand.IntN(39))
		}
		fmt.Fprintf(w, "@soak%d\n%s\n+\n%s\n", i, seq, qual)
	}
	if err := w.Flush(); err != nil {
		return nil, "", err
	}
	if err := zw.Close(); err != nil {
		return nil, "", err
	}
	return zb.Bytes(), hex.EncodeToString(h.Sum(nil)), nil
}

// workload is the traffic: mixed reads and lists on every connection, and
// uploads that pass from node to node.
type workload struct {
	store string
	fastq []byte
	sum   string
	nodes []*omics.Client
	stats *stats

	mu     sync.Mutex
	active []string // read sets ACTIVE and not being deleted
}

func (w *workload) readSet() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.active[mrand.IntN(len(w.active))]
}

// mixed sends one operation after another, picked by weight, until stop.
func (w *workload) mixed(ctx context.Context, c *omics.Client, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		id := w.readSet()
		switch p := mrand.IntN(100); {
		case p < 30:
			w.stats.time("GetSequenceStore", func() error {
				_, err := c.GetSequenceStore(ctx, &omics.GetSequenceStoreInput{Id: aws.String(w.store)})
				return err
			})
		case p < 55:
			w.stats.time("GetReadSetMetadata", func() error {
				md, err := c.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(w.store), Id: aws.String(id)})
				if err == nil && md.Status != types.ReadSetStatusActive && md.Status != types.ReadSetStatusDeleting {
					err = fmt.Errorf("read set %s is %s", id, md.Status)
				}
				return err
			})
		case p < 70:
			w.stats.time("ListReadSets", func() error {
				_, err := c.ListReadSets(ctx, &omics.ListReadSetsInput{SequenceStoreId: aws.String(w.store), MaxResults: aws.Int32(10)})
				return err
			})
		case p < 80:
			w.stats.time("ListSequenceStores", func() error {
				_, err := c.ListSequenceStores(ctx, &omics.ListSequenceStoresInput{})
				return err
			})
		case p < 90:
			w.stats.time("GetReadSet", func() error {
				out, err := c.GetReadSet(ctx, &omics.GetReadSetInput{SequenceStoreId: aws.String(w.store), Id: aws.String(id), PartNumber: aws.Int32(1)})
				if err != nil {
					return err
				}
				_, err = io.Copy(io.Discard, out.Payload)
				out.Payload.Close()
				return err
			})
		default:
			w.stats.time("ListTagsForResource", func() error {
				arn := fmt.Sprintf("arn:aws:omics:us-east-1:123456789012:sequenceStore/%s", w.store)
				_, err := c.ListTagsForResource(ctx, &omics.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
				return err
			})
		}
	}
}

// upload sends the FASTQ through one node, completes it through the next,
// waits for it through a third, checks its ETag, and, when recycle is set,
// deletes the oldest read set so the store stays the same size.
func (w *workload) upload(ctx context.Context, turn int, recycle bool) error {
	node := func(k int) *omics.Client { return w.nodes[(turn+k)%len(w.nodes)] }
	var upload *omics.CreateMultipartReadSetUploadOutput
	err := w.stats.time("CreateMultipartReadSetUpload", func() (err error) {
		upload, err = node(0).CreateMultipartReadSetUpload(ctx, &omics.CreateMultipartReadSetUploadInput{
			SequenceStoreId: aws.String(w.store), SourceFileType: types.FileTypeFastq,
			SubjectId: aws.String("soak"), SampleId: aws.String("soak"), Name: aws.String("soak"),
		})
		return err
	})
	if err != nil {
		return err
	}
	var part *omics.UploadReadSetPartOutput
	if err := w.stats.time("UploadReadSetPart", func() (err error) {
		part, err = node(1).UploadReadSetPart(ctx, &omics.UploadReadSetPartInput{
			SequenceStoreId: aws.String(w.store), UploadId: upload.UploadId,
			PartSource: types.ReadSetPartSourceSource1, PartNumber: aws.Int32(1), Payload: bytes.NewReader(w.fastq),
		})
		return err
	}); err != nil {
		return err
	}
	var done *omics.CompleteMultipartReadSetUploadOutput
	if err := w.stats.time("CompleteMultipartReadSetUpload", func() (err error) {
		done, err = node(2).CompleteMultipartReadSetUpload(ctx, &omics.CompleteMultipartReadSetUploadInput{
			SequenceStoreId: aws.String(w.store), UploadId: upload.UploadId,
			Parts: []types.CompleteReadSetUploadPartListItem{{PartNumber: aws.Int32(1), PartSource: types.ReadSetPartSourceSource1, Checksum: part.Checksum}},
		})
		return err
	}); err != nil {
		return err
	}
	id := aws.ToString(done.ReadSetId)
	if err := w.stats.time("ingest (Complete to ACTIVE)", func() error {
		for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			md, err := node(3).GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(w.store), Id: aws.String(id)})
			if err != nil {
				return err
			}
			switch md.Status {
			case types.ReadSetStatusProcessingUpload:
				continue
			case types.ReadSetStatusActive:
				if md.Etag == nil || aws.ToString(md.Etag.Source1) != w.sum {
					return fmt.Errorf("read set %s is ACTIVE with ETag %+v, want %s", id, md.Etag, w.sum)
				}
				return nil
			}
			return fmt.Errorf("read set %s is %s: %s", id, md.Status, aws.ToString(md.StatusMessage))
		}
		return fmt.Errorf("read set %s still PROCESSING_UPLOAD after 5 minutes", id)
	}); err != nil {
		return err
	}
	w.mu.Lock()
	w.active = append(w.active, id)
	var victim string
	if recycle && len(w.active) > 8 {
		victim, w.active = w.active[0], w.active[1:]
	}
	w.mu.Unlock()
	if victim == "" {
		return nil
	}
	// Readers may still ask for the victim for a moment; they accept DELETING.
	time.Sleep(time.Second)
	return w.stats.time("BatchDeleteReadSet", func() error {
		out, err := node(4).BatchDeleteReadSet(ctx, &omics.BatchDeleteReadSetInput{SequenceStoreId: aws.String(w.store), Ids: []string{victim}})
		if err == nil && len(out.Errors) > 0 {
			err = fmt.Errorf("deleting %s: %s", victim, aws.ToString(out.Errors[0].Message))
		}
		return err
	})
}

// stats keeps every latency and error of each operation.
type stats struct {
	mu     sync.Mutex
	took   map[string][]time.Duration
	errors map[string]int
	// messages counts each operation's distinct error messages, up to
	// maxMessages of them, so a report shows every kind of failure.
	messages map[string]map[string]int
}

const maxMessages = 8

func newStats() *stats { s := &stats{}; s.reset(); return s }

func (s *stats) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.took, s.errors, s.messages = map[string][]time.Duration{}, map[string]int{}, map[string]map[string]int{}
}

func (s *stats) time(op string, f func() error) error {
	start := time.Now()
	err := f()
	d := time.Since(start)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.took[op] = append(s.took[op], d)
	if err != nil {
		s.errors[op]++
		m := s.messages[op]
		if m == nil {
			m = map[string]int{}
			s.messages[op] = m
		}
		if _, seen := m[err.Error()]; seen || len(m) < maxMessages {
			m[err.Error()]++
		}
	}
	return err
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// rss is a process's resident memory in bytes (VmRSS), or -1.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return -1
}

// rssSamples are each node's VmRSS readings, taken every interval.
type rssSamples struct {
	every time.Duration
	bytes [][]int64 // [node][reading]
}

// sampleRSS reads every node's resident memory every interval for d.
func sampleRSS(nodes []*node, d, every time.Duration) rssSamples {
	s := rssSamples{every: every, bytes: make([][]int64, len(nodes))}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for end := time.Now().Add(d); ; {
		for i, n := range nodes {
			s.bytes[i] = append(s.bytes[i], rss(n.cmd.Process.Pid))
		}
		if time.Now().After(end) {
			return s
		}
		<-tick.C
	}
}

// window is the median and the range of a node's readings in the first
// (end false) or the last (end true) window.
func (s rssSamples) window(node int, w time.Duration, end bool) (median, lo, hi int64) {
	r := s.bytes[node]
	n := min(len(r), max(1, int(w/s.every)+1))
	if end {
		r = r[len(r)-n:]
	} else {
		r = r[:n]
	}
	sorted := slices.Clone(r)
	slices.Sort(sorted)
	return sorted[len(sorted)/2], sorted[0], sorted[len(sorted)-1]
}

// report prints the table and the verdicts, and reports whether every
// target was met.
func report(out io.Writer, s *stats, retried *retryLog, elapsed time.Duration, mem rssSamples, window time.Duration, nodes []*node) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ops := make([]string, 0, len(s.took))
	for op := range s.took {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	fmt.Fprintf(out, "\nrecorded %v\n%-32s %9s %8s %7s %10s %10s %10s\n", elapsed.Round(time.Second), "operation", "requests", "req/s", "errors", "p50", "p99", "max")
	total, errs := 0, 0
	for _, op := range ops {
		d := s.took[op]
		slices.Sort(d)
		total += len(d)
		errs += s.errors[op]
		fmt.Fprintf(out, "%-32s %9d %8.1f %7d %10s %10s %10s\n", op, len(d), float64(len(d))/elapsed.Seconds(), s.errors[op],
			ms(percentile(d, .5)), ms(percentile(d, .99)), ms(d[len(d)-1]))
	}
	ok := errs == 0
	fmt.Fprintf(out, "\nerrors: %d of %d (target 0) %s\n", errs, total, verdict(errs == 0))
	for _, op := range ops {
		for msg, n := range s.messages[op] {
			fmt.Fprintf(out, "  %s, %d times: %s\n", op, n, msg)
		}
	}
	retried.mu.Lock()
	total = 0
	for _, n := range retried.byMessage {
		total += n
	}
	fmt.Fprintf(out, "attempts the SDK retried: %d, %d of them after a server error (target 0) %s\n", total, retried.serverFault, verdict(retried.serverFault == 0))
	ok = ok && retried.serverFault == 0
	for msg, n := range retried.byMessage {
		fmt.Fprintf(out, "  %d times: %s\n", n, msg)
	}
	retried.mu.Unlock()
	// Memory is judged by each window's peak: a node under the soft memory
	// limit lets its heap rise and fall with every collection, so the
	// median of a minute moves with the collections' phase, while a leak
	// raises the peak as surely as the median. Both are printed.
	for i := range nodes {
		start, startLo, startHi := mem.window(i, window, false)
		end, endLo, endHi := mem.window(i, window, true)
		change := float64(endHi-startHi) / float64(startHi)
		flat := startHi > 0 && math.Abs(change) <= 0.10
		ok = ok && flat
		fmt.Fprintf(out, "node %d RSS in the first and the last %v: peak %.1f → %.1f MiB, %+.1f%% (target within ±10%%) %s; median %.1f → %.1f MiB, %+.1f%%; lowest %.1f → %.1f MiB\n",
			i, window, mib(startHi), mib(endHi), 100*change, verdict(flat), mib(start), mib(end), 100*float64(end-start)/float64(start), mib(startLo), mib(endLo))
	}
	if !ok {
		fmt.Fprintln(out, "\nthe end of each node's log:")
		for i, n := range nodes {
			b, _ := os.ReadFile(n.log)
			fmt.Fprintf(out, "--- node %d\n%s", i, tail(b, 4096))
		}
	}
	return ok
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISS"
}
