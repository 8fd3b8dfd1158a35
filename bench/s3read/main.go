// Command s3read measures reads of one object through two S3 endpoints in
// one run, taking turns: random byte ranges over many keep-alive
// connections (requests/s and MiB/s), then whole-object GETs (MiB/s). Every
// request is signed afresh with SigV4 for s3 over UNSIGNED-PAYLOAD, as S3
// clients sign reads, and every body is read to its end and its length
// checked. bench/s3read.sh runs it against seqstore's S3 endpoint and a
// versitygw serving the same file from disk.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// target is one endpoint and the object read there.
type target struct {
	name, endpoint, bucket, key string
	creds                       aws.Credentials
}

func parseTarget(s string) (target, error) {
	// NAME=ENDPOINT,BUCKET,KEY,ACCESSKEY,SECRET
	name, rest, ok := strings.Cut(s, "=")
	parts := strings.Split(rest, ",")
	if !ok || len(parts) != 5 {
		return target{}, fmt.Errorf("target %q: want NAME=ENDPOINT,BUCKET,KEY,ACCESSKEY,SECRET", s)
	}
	return target{name: name, endpoint: parts[0], bucket: parts[1], key: parts[2], creds: aws.Credentials{AccessKeyID: parts[3], SecretAccessKey: parts[4]}}, nil
}

var signer = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })

// get reads bytes [off, off+n) of the object (n < 0: all of it) and
// returns how many bytes came.
func (t target) get(ctx context.Context, client *http.Client, off, n int64) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.endpoint+"/"+t.bucket+"/"+t.key, nil)
	if err != nil {
		return 0, err
	}
	if n >= 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(off+n-1, 10))
	}
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if err := signer.SignHTTP(ctx, t.creds, req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()); err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	got, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return got, err
	}
	want := http.StatusOK
	if n >= 0 {
		want = http.StatusPartialContent
	}
	if resp.StatusCode != want {
		return got, fmt.Errorf("%s: status %d", t.name, resp.StatusCode)
	}
	if n >= 0 && got != n {
		return got, fmt.Errorf("%s: %d bytes of a %d-byte range", t.name, got, n)
	}
	return got, nil
}

// ranges runs conns workers reading random ranges of rangeSize for d and
// returns requests/s and MiB/s.
func ranges(t target, size, rangeSize int64, conns int, d time.Duration) (float64, float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var requests, bytes atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, DisableCompression: true}}
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for ctx.Err() == nil {
				off := rng.Int64N(size - rangeSize + 1)
				n, err := t.get(ctx, client, off, rangeSize)
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				requests.Add(1)
				bytes.Add(n)
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	return float64(requests.Load()) / secs, float64(bytes.Load()) / secs / (1 << 20), firstErr
}

// whole reads the whole object once and returns MiB/s.
func whole(t target, size int64) (float64, error) {
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	start := time.Now()
	n, err := t.get(context.Background(), client, 0, -1)
	if err != nil {
		return 0, err
	}
	if n != size {
		return 0, fmt.Errorf("%s: whole GET gave %d bytes of %d", t.name, n, size)
	}
	return float64(n) / time.Since(start).Seconds() / (1 << 20), nil
}

func main() {
	var (
		targetFlags stringList
		size        = flag.Int64("size", 0, "the object's size in `bytes` (required)")
		rangeSize   = flag.Int64("range", 64<<10, "`bytes` per ranged GET")
		conns       = flag.Int("conns", 16, "connections reading ranges at once")
		duration    = flag.Duration("duration", 10*time.Second, "how long each round of ranged GETs lasts")
		rounds      = flag.Int("rounds", 2, "rounds; the targets take turns in each")
		wholeRuns   = flag.Int("whole", 5, "whole-object GETs per target per round")
	)
	flag.Var(&targetFlags, "target", "`NAME=ENDPOINT,BUCKET,KEY,ACCESSKEY,SECRET`; give two, the peer first")
	flag.Parse()
	if len(targetFlags) != 2 || *size < *rangeSize {
		fmt.Fprintln(os.Stderr, "s3read: give two -target and a -size of at least -range")
		os.Exit(2)
	}
	var targets []target
	for _, s := range targetFlags {
		t, err := parseTarget(s)
		if err != nil {
			fmt.Fprintln(os.Stderr, "s3read:", err)
			os.Exit(2)
		}
		targets = append(targets, t)
	}
	// Warm both (page cache, connections) before measuring.
	for _, t := range targets {
		if _, err := whole(t, *size); err != nil {
			fmt.Fprintln(os.Stderr, "s3read: warm-up:", err)
			os.Exit(1)
		}
	}
	best := map[string][3]float64{} // requests/s, range MiB/s, whole MiB/s
	for round := 1; round <= *rounds; round++ {
		for _, t := range targets {
			rps, mibs, err := ranges(t, *size, *rangeSize, *conns, *duration)
			if err != nil {
				fmt.Fprintln(os.Stderr, "s3read:", err)
				os.Exit(1)
			}
			var wmibs float64
			for range *wholeRuns {
				m, err := whole(t, *size)
				if err != nil {
					fmt.Fprintln(os.Stderr, "s3read:", err)
					os.Exit(1)
				}
				wmibs = max(wmibs, m)
			}
			fmt.Printf("round %d  %-10s ranges %8.0f req/s %8.1f MiB/s   whole GET %8.1f MiB/s\n", round, t.name, rps, mibs, wmibs)
			b := best[t.name]
			best[t.name] = [3]float64{max(b[0], rps), max(b[1], mibs), max(b[2], wmibs)}
		}
	}
	peer, ours := best[targets[0].name], best[targets[1].name]
	fmt.Printf("best of %d rounds: %s/%s ranges %.2fx (%.0f vs %.0f req/s), whole GET %.2fx (%.1f vs %.1f MiB/s)\n",
		*rounds, targets[1].name, targets[0].name, ours[0]/peer[0], ours[0], peer[0], ours[2]/peer[2], ours[2], peer[2])
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }
