// Command encryption measures what encryption at rest costs. It runs a
// seqstore built from this tree in its own process, with a throw-away data
// directory and keyring, makes one plain and one encrypted sequence store,
// and takes turns (the order alternating by round) ingesting the same FASTQ
// pair and BAM into each and downloading them back, with the client seqstore
// upload and download use. It prints the median time of each step in each
// store and their ratio; the target is an encrypted store within 10% of a
// plain one. Run it on data from bench/ingest.sh --data-only:
//
//	go run ./bench/encryption -r1 R1.fq.gz -r2 R2.fq.gz -bam reads.bam -rounds 5
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore/internal/config"
	"github.com/seqstore/seqstore/internal/keyring"
	"github.com/seqstore/seqstore/internal/server"
	"github.com/seqstore/seqstore/internal/transfer"
)

// referenceArn is a reference of the right form; seqstore needs no
// reference store behind it for BAM.
const referenceArn = "arn:aws:omics:us-east-1:123456789012:referenceStore/1234567890/reference/1234567890"

func main() {
	r1 := flag.String("r1", "", "first mates, FASTQ (gzip)")
	r2 := flag.String("r2", "", "second mates, FASTQ (gzip)")
	bam := flag.String("bam", "", "a coordinate-sorted BAM")
	rounds := flag.Int("rounds", 3, "rounds; each ingests and downloads everything once in each store")
	flag.Parse()
	if *r1 == "" || *r2 == "" || *bam == "" || *rounds < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(context.Background(), *r1, *r2, *bam, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "encryption bench:", err)
		os.Exit(1)
	}
}

// step is one measured thing done in one store.
type step struct {
	name string
	do   func(ctx context.Context, store string) error
}

func run(ctx context.Context, r1, r2, bam string, rounds int) error {
	dir, err := os.MkdirTemp("", "seqstore-encryption-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ringFile := filepath.Join(dir, "keyring")
	if _, err := keyring.AddVersion(ringFile, keyring.DefaultName); err != nil {
		return err
	}
	secret := make([]byte, 20)
	rand.Read(secret)
	os.Setenv("SEQSTORE_ACCESS_KEY_ID", "AKIASEQSTOREBENCH002")
	os.Setenv("SEQSTORE_SECRET_ACCESS_KEY", hex.EncodeToString(secret))
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg := config.Register(fs)
	if err := fs.Parse([]string{"-data", filepath.Join(dir, "data"), "-keyring", ringFile, "-log-level", "warn"}); err != nil {
		return err
	}
	if err := cfg.Finish(); err != nil {
		return err
	}
	srv, err := server.Open(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln) }()
	defer func() { stop(); <-served }()

	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": srv.Root.Key.ID, "AWS_SECRET_ACCESS_KEY": srv.Root.Key.Secret,
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	} {
		os.Setenv(k, v)
	}
	api, err := transfer.NewAPI(ctx, transfer.APIConfig{Region: cfg.Region, Endpoint: "http://" + ln.Addr().String()})
	if err != nil {
		return err
	}
	client := &transfer.Client{API: api, PollInterval: 100 * time.Millisecond}
	plain, err := api.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("plain")})
	if err != nil {
		return err
	}
	enc, err := api.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("encrypted"), SseConfig: &types.SseConfig{Type: types.EncryptionTypeKms}})
	if err != nil {
		return err
	}
	stores := []string{*plain.Id, *enc.Id}

	// Each store's latest read sets, for the downloads that follow.
	latest := map[string]map[string]string{*plain.Id: {}, *enc.Id: {}}
	ingest := func(kind string, in transfer.UploadInput) func(context.Context, string) error {
		return func(ctx context.Context, store string) error {
			in.StoreID = store
			res, err := client.Upload(ctx, in)
			if err != nil {
				return err
			}
			if _, err := client.Wait(ctx, transfer.ReadSet{API: api, StoreID: store, ID: res.ReadSetID}); err != nil {
				return err
			}
			latest[store][kind] = res.ReadSetID
			return nil
		}
	}
	download := func(kind string) func(context.Context, string) error {
		return func(ctx context.Context, store string) error {
			out := filepath.Join(dir, "download")
			defer os.RemoveAll(out)
			if err := os.MkdirAll(out, 0o700); err != nil {
				return err
			}
			_, err := client.Download(ctx, transfer.DownloadInput{StoreID: store, ReadSetID: latest[store][kind], Dir: out, Overwrite: true, SkipETag: true})
			return err
		}
	}
	steps := []step{
		{"FASTQ pair ingest", ingest("fastq", transfer.UploadInput{FileType: types.FileTypeFastq, Name: "fastq", SubjectID: "s", SampleID: "s", Files: []string{r1, r2}})},
		{"BAM ingest", ingest("bam", transfer.UploadInput{FileType: types.FileTypeBam, ReferenceArn: referenceArn, Name: "bam", SubjectID: "s", SampleID: "s", Files: []string{bam}})},
		{"FASTQ pair download", download("fastq")},
		{"BAM download", download("bam")},
	}
	times := map[string]map[string][]time.Duration{}
	for _, s := range steps {
		times[s.name] = map[string][]time.Duration{}
	}
	for round := range rounds {
		order := slices.Clone(stores)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, s := range steps {
			for _, store := range order {
				t0 := time.Now()
				if err := s.do(ctx, store); err != nil {
					return fmt.Errorf("%s in store %s: %w", s.name, store, err)
				}
				times[s.name][store] = append(times[s.name][store], time.Since(t0))
			}
		}
		// Keep the data directory small: drop this round's read sets.
		for _, store := range stores {
			ids := []string{latest[store]["fastq"], latest[store]["bam"]}
			if failed, err := client.Delete(ctx, store, ids); err != nil || len(failed) > 0 {
				return errors.Join(err, fmt.Errorf("deleting read sets: %v", failed))
			}
		}
		fmt.Fprintf(os.Stderr, "round %d of %d done\n", round+1, rounds)
	}
	report(os.Stdout, steps, times, stores, rounds)
	return nil
}

func report(w io.Writer, steps []step, times map[string]map[string][]time.Duration, stores []string, rounds int) {
	fmt.Fprintf(w, "encryption at rest: medians of %d rounds, plain and encrypted store taking turns\n", rounds)
	fmt.Fprintf(w, "%-22s %12s %12s %10s  %s\n", "step", "plain", "encrypted", "ratio", "target <= 1.10")
	for _, s := range steps {
		p, e := median(times[s.name][stores[0]]), median(times[s.name][stores[1]])
		ratio := e.Seconds() / p.Seconds()
		verdict := "PASS"
		if ratio > 1.10 {
			verdict = "MISS"
		}
		fmt.Fprintf(w, "%-22s %11.3fs %11.3fs %9.2fx  %s\n", s.name, p.Seconds(), e.Seconds(), ratio, verdict)
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
