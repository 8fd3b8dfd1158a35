// Command encryption measures what encryption at rest costs. It starts a
// seqstore built from this tree as a child process, with a throw-away data
// directory and keyring, makes one plain and one encrypted sequence store,
// and takes turns (the order alternating by round) ingesting the same FASTQ
// pair and BAM into each and downloading them back. For each step it
// measures the wall time and the CPU time the server process spent (user
// and system, from /proc/PID/stat), and prints the medians in each store
// and their ratio. The target is an encrypted store within 10% of a plain
// one; on a machine shared with other work the CPU time is the figure to
// judge by, since other processes stretch wall times but not the CPU a
// request costs. Run it on data from bench/ingest.sh --data-only:
//
//	go run ./bench/encryption -r1 R1.fq.gz -r2 R2.fq.gz -bam reads.bam -rounds 6
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/seqstore/seqstore/internal/transfer"
)

// referenceArn is a reference of the right form; seqstore needs no
// reference store behind it for BAM.
const referenceArn = "arn:aws:omics:us-east-1:123456789012:referenceStore/1234567890/reference/1234567890"

// clockTicks is the unit of the CPU times in /proc/PID/stat (USER_HZ),
// 100 on every Linux platform Go runs on.
const clockTicks = 100

func main() {
	r1 := flag.String("r1", "", "first mates, FASTQ (gzip)")
	r2 := flag.String("r2", "", "second mates, FASTQ (gzip)")
	bam := flag.String("bam", "", "a coordinate-sorted BAM")
	rounds := flag.Int("rounds", 6, "rounds; each ingests and downloads everything once in each store")
	downloads := flag.Int("downloads", 4, "how many times one download step reads every part of a read set, to make it long enough to time")
	bin := flag.String("seqstore", "", "the seqstore binary to run (built from this tree when not given)")
	flag.StringVar(&downloadWith, "download-with", "parts", "how a download step reads a read set: parts (GetReadSet of each part in turn, bodies discarded: the server's cost), files (as seqstore download -no-verify: parts in parallel, written to files) or verified (seqstore download, ETags checked)")
	flag.Parse()
	if downloadWith != "parts" && downloadWith != "files" && downloadWith != "verified" {
		flag.Usage()
		os.Exit(2)
	}
	if *r1 == "" || *r2 == "" || *bam == "" || *rounds < 1 || *downloads < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(context.Background(), *bin, *r1, *r2, *bam, *rounds, *downloads); err != nil {
		fmt.Fprintln(os.Stderr, "encryption bench:", err)
		os.Exit(1)
	}
}

// downloadWith is the -download-with flag.
var downloadWith string

// cost is what one step took: wall time, and the server's CPU time.
type cost struct{ wall, cpu time.Duration }

// server is the seqstore child process.
type server struct {
	cmd      *exec.Cmd
	endpoint string
	log      bytes.Buffer
}

// startServer runs `seqstore serve` over dir with the keyring there, and
// returns once it accepts connections.
func startServer(bin, dir string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &server{endpoint: "http://" + addr}
	s.cmd = exec.Command(bin, "serve", "-addr", addr, "-data", filepath.Join(dir, "data"), "-keyring", filepath.Join(dir, "keyring"), "-log-level", "warn")
	s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return s, nil
		}
	}
	s.stop()
	return nil, fmt.Errorf("seqstore did not listen on %s within 30 s:\n%s", addr, s.log.String())
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
}

// cpu is the CPU time the server has used so far, user and system, all
// threads.
func (s *server) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis. utime and stime are fields 14 and 15,
	// so the 12th and 13th after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc stat line %q", b)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc stat line %q", b)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// meter takes the wall and CPU time since its start.
type meter struct {
	srv  *server
	wall time.Time
	cpu  time.Duration
	err  error
}

func (s *server) meter() *meter {
	m := &meter{srv: s, wall: time.Now()}
	m.cpu, m.err = s.cpu()
	return m
}

func (m *meter) stop() (cost, error) {
	wall := time.Since(m.wall)
	cpu, err := m.srv.cpu()
	return cost{wall: wall, cpu: cpu - m.cpu}, errors.Join(m.err, err)
}

// steps are the measured steps, in the order they run and are reported.
var steps = []string{
	"FASTQ pair: upload parts", "FASTQ pair: Complete to ACTIVE", "FASTQ pair: download",
	"BAM: upload parts", "BAM: Complete to ACTIVE", "BAM: download",
}

func run(ctx context.Context, bin, r1, r2, bam string, rounds, downloads int) error {
	dir, err := os.MkdirTemp("", "seqstore-encryption-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if bin == "" {
		bin = filepath.Join(dir, "seqstore")
		build := exec.Command("go", "build", "-o", bin, "./cmd/seqstore")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building seqstore (run this from the repository's root, or give -seqstore): %w", err)
		}
	}
	if out, err := exec.Command(bin, "admin", "keyring", "add", "-keyring", filepath.Join(dir, "keyring"), "default").CombinedOutput(); err != nil {
		return fmt.Errorf("keyring add: %v: %s", err, out)
	}
	secret := make([]byte, 20)
	rand.Read(secret)
	for k, v := range map[string]string{
		"SEQSTORE_ACCESS_KEY_ID": "AKIASEQSTOREBENCH002", "SEQSTORE_SECRET_ACCESS_KEY": hex.EncodeToString(secret),
		"AWS_ACCESS_KEY_ID": "AKIASEQSTOREBENCH002", "AWS_SECRET_ACCESS_KEY": hex.EncodeToString(secret),
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	} {
		os.Setenv(k, v)
	}
	srv, err := startServer(bin, dir)
	if err != nil {
		return err
	}
	defer srv.stop()

	api, err := transfer.NewAPI(ctx, transfer.APIConfig{Region: "us-east-1", Endpoint: srv.endpoint})
	if err != nil {
		return err
	}
	// The parts are sent when Complete is called: the meter of the
	// upload stops, and that of ingestion starts, there.
	var completing func()
	api = omics.New(api.Options(), func(o *omics.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("benchComplete",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if _, ok := in.Parameters.(*omics.CompleteMultipartReadSetUploadInput); ok && completing != nil {
						completing()
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	})
	client := &transfer.Client{API: api, PollInterval: 20 * time.Millisecond}
	plain, err := api.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("plain")})
	if err != nil {
		return err
	}
	enc, err := api.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("encrypted"), SseConfig: &types.SseConfig{Type: types.EncryptionTypeKms}})
	if err != nil {
		return err
	}
	stores := []string{*plain.Id, *enc.Id}

	costs := map[string]map[string][]cost{}
	for _, s := range steps {
		costs[s] = map[string][]cost{}
	}
	kind := map[string]string{*plain.Id: "plain", *enc.Id: "encrypted"}
	record := func(step, store string, m *meter) error {
		c, err := m.stop()
		costs[step][store] = append(costs[step][store], c)
		fmt.Fprintf(os.Stderr, "%-32s %-9s wall %7.3fs  CPU %6.2fs\n", step, kind[store], c.wall.Seconds(), c.cpu.Seconds())
		return err
	}
	// ingest uploads a read set and waits for it, metering the parts and
	// Complete to ACTIVE apart; it returns the read set's ID.
	ingest := func(kind, store string, in transfer.UploadInput) (string, error) {
		in.StoreID = store
		up := srv.meter()
		var ing *meter
		completing = func() {
			if err := record(kind+": upload parts", store, up); err != nil {
				up.err = err
			}
			ing = srv.meter()
		}
		res, err := client.Upload(ctx, in)
		completing = nil
		if err != nil {
			return "", err
		}
		if up.err != nil {
			return "", up.err
		}
		if _, err := client.Wait(ctx, transfer.ReadSet{API: api, StoreID: store, ID: res.ReadSetID}); err != nil {
			return "", err
		}
		return res.ReadSetID, record(kind+": Complete to ACTIVE", store, ing)
	}
	// served is how many bytes one download step reads, by step.
	served := map[string]int64{}
	read := func(store, id string) (int64, error) { return readAll(ctx, api, store, id) }
	if downloadWith != "parts" {
		read = func(store, id string) (int64, error) {
			return downloadFiles(ctx, client, store, id, downloadWith == "verified")
		}
	}
	download := func(kind, store, id string) error {
		m := srv.meter()
		var n int64
		for range downloads {
			got, err := read(store, id)
			if err != nil {
				return err
			}
			n += got
		}
		served[kind+": download"] = n
		return record(kind+": download", store, m)
	}
	kinds := []struct {
		name string
		in   transfer.UploadInput
	}{
		{"FASTQ pair", transfer.UploadInput{FileType: types.FileTypeFastq, Name: "fastq", SubjectID: "s", SampleID: "s", Files: []string{r1, r2}}},
		{"BAM", transfer.UploadInput{FileType: types.FileTypeBam, ReferenceArn: referenceArn, Name: "bam", SubjectID: "s", SampleID: "s", Files: []string{bam}}},
	}
	for round := range rounds {
		order := slices.Clone(stores)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		var made []struct{ store, id string }
		for _, k := range kinds {
			ids := map[string]string{}
			for _, store := range order {
				id, err := ingest(k.name, store, k.in)
				if err != nil {
					return fmt.Errorf("%s ingest into store %s: %w\n%s", k.name, store, err, srv.log.String())
				}
				ids[store] = id
				made = append(made, struct{ store, id string }{store, id})
			}
			for _, store := range order {
				if err := download(k.name, store, ids[store]); err != nil {
					return fmt.Errorf("%s download from store %s: %w", k.name, store, err)
				}
			}
		}
		// Keep the data directory small: drop this round's read sets.
		for _, m := range made {
			if failed, err := client.Delete(ctx, m.store, []string{m.id}); err != nil || len(failed) > 0 {
				return errors.Join(err, fmt.Errorf("deleting read set %s: %v", m.id, failed))
			}
		}
		fmt.Fprintf(os.Stderr, "round %d of %d done\n", round+1, rounds)
	}
	report(os.Stdout, costs, served, stores, rounds, downloads)
	return nil
}

// readAll reads every part of every file of a read set with GetReadSet,
// discarding the bytes, and returns how many it read.
// downloadFiles downloads every file of a read set as seqstore download
// does, into a directory it removes afterwards, and returns the bytes.
func downloadFiles(ctx context.Context, client *transfer.Client, store, id string, verify bool) (int64, error) {
	dir, err := os.MkdirTemp("", "encryption-bench")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	res, err := client.Download(ctx, transfer.DownloadInput{StoreID: store, ReadSetID: id, Dir: dir, SkipETag: !verify})
	if err != nil {
		return 0, err
	}
	var n int64
	for _, f := range res.Files {
		n += f.Size
	}
	return n, nil
}

func readAll(ctx context.Context, api *omics.Client, store, id string) (int64, error) {
	md, err := api.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: aws.String(id)})
	if err != nil {
		return 0, err
	}
	var total int64
	for file, fi := range map[types.ReadSetFile]*types.FileInformation{
		types.ReadSetFileSource1: md.Files.Source1, types.ReadSetFileSource2: md.Files.Source2, types.ReadSetFileIndex: md.Files.Index,
	} {
		if fi == nil {
			continue
		}
		var n int64
		for part := int32(1); part <= aws.ToInt32(fi.TotalParts); part++ {
			out, err := api.GetReadSet(ctx, &omics.GetReadSetInput{SequenceStoreId: aws.String(store), Id: aws.String(id), File: file, PartNumber: aws.Int32(part)})
			if err != nil {
				return 0, err
			}
			got, err := io.Copy(io.Discard, out.Payload)
			out.Payload.Close()
			if err != nil {
				return 0, err
			}
			n += got
		}
		if n != aws.ToInt64(fi.ContentLength) {
			return 0, fmt.Errorf("%s of read set %s: %d bytes, contentLength %d", file, id, n, aws.ToInt64(fi.ContentLength))
		}
		total += n
	}
	return total, nil
}

func report(w io.Writer, costs map[string]map[string][]cost, served map[string]int64, stores []string, rounds, downloads int) {
	fmt.Fprintf(w, "encryption at rest: medians of %d rounds, plain and encrypted store taking turns; server CPU is user+system time of the seqstore process; a download step reads every part %d times\n", rounds, downloads)
	fmt.Fprintf(w, "%-32s %9s %9s %6s   %9s %9s %6s\n", "step", "wall", "", "ratio", "CPU", "", "ratio")
	fmt.Fprintf(w, "%-32s %9s %9s %6s   %9s %9s %6s\n", "", "plain", "encrypted", "", "plain", "encrypted", "")
	for _, s := range steps {
		p, e := costs[s][stores[0]], costs[s][stores[1]]
		pw, ew := median(p, func(c cost) time.Duration { return c.wall }), median(e, func(c cost) time.Duration { return c.wall })
		pc, ec := median(p, func(c cost) time.Duration { return c.cpu }), median(e, func(c cost) time.Duration { return c.cpu })
		fmt.Fprintf(w, "%-32s %8.3fs %8.3fs %5.2fx   %8.2fs %8.2fs %5.2fx\n", s, pw.Seconds(), ew.Seconds(), ew.Seconds()/pw.Seconds(), pc.Seconds(), ec.Seconds(), ec.Seconds()/pc.Seconds())
	}
	// What decryption costs a download, whatever a plain one costs.
	for _, s := range steps {
		if n := served[s]; n > 0 {
			extra := median(costs[s][stores[1]], func(c cost) time.Duration { return c.cpu }) - median(costs[s][stores[0]], func(c cost) time.Duration { return c.cpu })
			fmt.Fprintf(w, "%s: %d MiB served a step; encrypted costs %.2f CPU seconds more a GiB (%.2f GB/s a core)\n",
				s, n>>20, extra.Seconds()/(float64(n)/(1<<30)), float64(n)/1e9/extra.Seconds())
		}
	}
}

func median(cs []cost, of func(cost) time.Duration) time.Duration {
	d := make([]time.Duration, len(cs))
	for i, c := range cs {
		d[i] = of(c)
	}
	slices.Sort(d)
	return d[len(d)/2]
}
