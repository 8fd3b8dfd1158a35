package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// emptyPayloadSHA256 is the hex SHA-256 of an empty body: the payload hash a
// SigV4 GET carries.
const emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// signing holds what every request is signed with. A nil *signing sends
// requests unsigned.
type signing struct {
	signer *v4.Signer
	creds  aws.Credentials
	region string
}

func newSigning(accessKeyID, secret, region string) *signing {
	return &signing{
		signer: v4.NewSigner(),
		creds:  aws.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secret, Source: "loadgen"},
		region: region,
	}
}

// sign signs req for service omics at the current time. payloadHash is the
// hex SHA-256 of the body.
func (s *signing) sign(ctx context.Context, req *http.Request, payloadHash string) error {
	if s == nil {
		return nil
	}
	return s.signer.SignHTTP(ctx, s.creds, req, payloadHash, "omics", s.region, time.Now())
}

// loadConfig says how hard and how long to drive one target.
type loadConfig struct {
	Conns    int           // concurrent workers, each with its own keep-alive connection
	Warmup   time.Duration // driven but not recorded, on the same connections
	Duration time.Duration // recorded
	// Rate, when positive, paces the workers to this many requests per
	// second in all, each sending on a fixed schedule; latency then runs
	// from the scheduled send time, so a stall that delays later sends
	// counts against them too (no coordinated omission). Zero sends as
	// fast as answers come back: the saturation throughput.
	Rate float64
}

// result is what one measured run of one target produced.
type result struct {
	Requests     int             // completed with status 200 and a full body
	Errors       int             // transport errors and non-200 answers
	WarmupErrors int             // errors during the unrecorded warm-up
	FirstError   string          // the first error seen, to tell the operator what went wrong
	Elapsed      time.Duration   // wall time of the recorded run
	Latencies    []time.Duration // per successful request, sorted
	ConnsOpened  int64           // TCP connections dialled so far, warm-up included: Conns when keep-alive held
	BodyBytes    int64           // bytes of response body read
}

// RequestsPerSecond is the throughput of successful requests.
func (r *result) RequestsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Percentile returns the latency below or at which fraction p (0..1) of the
// requests finished, by the nearest-rank method.
func (r *result) Percentile(p float64) time.Duration {
	return percentile(r.Latencies, p)
}

// percentile returns the nearest-rank p-quantile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p*float64(len(sorted))+0.999999999) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

// driver sends GET requests to one URL from Conns workers. Each worker owns
// an http.Transport limited to one connection, so the run really uses Conns
// distinct keep-alive connections; dials are counted to prove it.
type driver struct {
	url     string
	signing *signing
	cfg     loadConfig
	dials   atomic.Int64
	clients []*http.Client
}

func newDriver(url string, s *signing, cfg loadConfig) *driver {
	d := &driver{url: url, signing: s, cfg: cfg}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	for range cfg.Conns {
		tr := &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				d.dials.Add(1)
				return dialer.DialContext(ctx, network, addr)
			},
			MaxIdleConns:        1,
			MaxIdleConnsPerHost: 1,
			MaxConnsPerHost:     1,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		}
		d.clients = append(d.clients, &http.Client{Transport: tr, Timeout: 30 * time.Second})
	}
	return d
}

// close drops the idle connections of every worker.
func (d *driver) close() {
	for _, c := range d.clients {
		c.CloseIdleConnections()
	}
}

// measure runs the warm-up, then the recorded run, and returns the latter.
func (d *driver) measure(ctx context.Context) (*result, error) {
	warmupErrors, firstWarmupError := 0, ""
	if d.cfg.Warmup > 0 {
		w, err := d.run(ctx, d.cfg.Warmup)
		if err != nil {
			return nil, err
		}
		warmupErrors, firstWarmupError = w.Errors, w.FirstError
	}
	r, err := d.run(ctx, d.cfg.Duration)
	if err != nil {
		return nil, err
	}
	r.WarmupErrors = warmupErrors
	if r.FirstError == "" {
		r.FirstError = firstWarmupError
	}
	return r, nil
}

// workerStats is one worker's share of a run, merged after the run so the
// hot loop shares nothing.
type workerStats struct {
	latencies  []time.Duration
	errors     int
	firstError string
	bodyBytes  int64
}

// run drives the target for duration d from every worker and merges what
// they saw. Requests still in flight at the deadline finish and count; the
// elapsed time runs until the last one has.
func (d *driver) run(ctx context.Context, duration time.Duration) (*result, error) {
	stats := make([]workerStats, len(d.clients))
	start := time.Now()
	deadline := start.Add(duration)
	var wg sync.WaitGroup
	// Paced workers each send every interval, their schedules staggered
	// evenly so the load arrives smoothly rather than in bursts of Conns.
	var interval time.Duration
	if d.cfg.Rate > 0 {
		interval = time.Duration(float64(len(d.clients)) / d.cfg.Rate * float64(time.Second))
	}
	for i, client := range d.clients {
		first := start.Add(interval * time.Duration(i) / time.Duration(len(d.clients)))
		wg.Go(func() { d.work(ctx, client, first, interval, deadline, &stats[i]) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &result{Elapsed: time.Since(start), ConnsOpened: d.dials.Load()}
	for _, s := range stats {
		r.Requests += len(s.latencies)
		r.Errors += s.errors
		r.BodyBytes += s.bodyBytes
		if r.FirstError == "" {
			r.FirstError = s.firstError
		}
	}
	r.Latencies = make([]time.Duration, 0, r.Requests)
	for _, s := range stats {
		r.Latencies = append(r.Latencies, s.latencies...)
	}
	slices.Sort(r.Latencies)
	return r, nil
}

// work is one worker's loop: build, sign afresh, send, read the whole body
// so the connection is reused. With a positive interval it sends at first,
// first+interval, ... and measures latency from those times; otherwise it
// sends again as soon as an answer is in.
func (d *driver) work(ctx context.Context, client *http.Client, first time.Time, interval time.Duration, deadline time.Time, s *workerStats) {
	s.latencies = make([]time.Duration, 0, 4096)
	fail := func(msg string) {
		s.errors++
		if s.firstError == "" {
			s.firstError = msg
		}
	}
	scheduled := first
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if interval > 0 {
			if scheduled.After(deadline) {
				return
			}
			time.Sleep(time.Until(scheduled))
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.url, nil)
		if err != nil {
			fail(err.Error())
			return
		}
		if err := d.signing.sign(ctx, req, emptyPayloadSHA256); err != nil {
			fail("sign: " + err.Error())
			return
		}
		sent := time.Now()
		if interval > 0 {
			sent = scheduled
			scheduled = scheduled.Add(interval)
		}
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				fail(err.Error())
				// A refused or reset connection fails at once: pause so a
				// dead server does not turn the loop into a busy spin.
				time.Sleep(10 * time.Millisecond)
			}
			continue
		}
		if resp.StatusCode != http.StatusOK {
			quote, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			fail(fmt.Sprintf("HTTP %d: %s", resp.StatusCode, quote))
			continue
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		took := time.Since(sent)
		if err != nil {
			fail("read body: " + err.Error())
			continue
		}
		s.latencies = append(s.latencies, took)
		s.bodyBytes += n
	}
}
