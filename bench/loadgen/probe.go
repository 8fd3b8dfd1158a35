package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// probeResult is what -probe prints: the latency of signed GetSequenceStore
// calls sent on a fixed schedule while something else (an import job, say)
// runs on the server.
type probeResult struct {
	Calls      int     `json:"calls"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"firstError,omitempty"`
	P50Ms      float64 `json:"p50Ms"`
	P99Ms      float64 `json:"p99Ms"`
	MaxMs      float64 `json:"maxMs"`
	Seconds    float64 `json:"seconds"`
}

// runProbe sends GetSequenceStore for store id at endpoint every interval,
// on one keep-alive connection, until ctx ends, and writes a probeResult as
// JSON to out. Latency runs from each call's scheduled send, so a stall
// counts against every call it delays (no coordinated omission); a Go
// client keeps the probe's own CPU cost small next to the server's, which
// on a two-core machine otherwise shows up as the server's latency.
func runProbe(ctx context.Context, endpoint, id string, interval time.Duration, sig *signing, out io.Writer) error {
	if interval <= 0 {
		return fmt.Errorf("-probe-interval must be positive")
	}
	url := strings.TrimRight(endpoint, "/") + "/sequencestore/" + id
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true},
		Timeout:   30 * time.Second,
	}
	defer client.CloseIdleConnections()
	var (
		latencies []time.Duration
		r         probeResult
	)
	fail := func(msg string) {
		r.Errors++
		if r.FirstError == "" {
			r.FirstError = msg
		}
	}
	start := time.Now()
	for scheduled := start; ctx.Err() == nil; scheduled = scheduled.Add(interval) {
		select {
		case <-ctx.Done():
		case <-time.After(time.Until(scheduled)):
		}
		if ctx.Err() != nil {
			break
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if err := sig.sign(ctx, req, emptyPayloadSHA256); err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				fail(err.Error())
			}
			continue
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode != http.StatusOK:
			fail(fmt.Sprintf("HTTP %d", resp.StatusCode))
		case err != nil:
			fail("read body: " + err.Error())
		default:
			latencies = append(latencies, time.Since(scheduled))
		}
	}
	slices.Sort(latencies)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	r.Calls = len(latencies)
	r.Seconds = time.Since(start).Seconds()
	r.P50Ms = ms(percentile(latencies, 0.50))
	r.P99Ms = ms(percentile(latencies, 0.99))
	if len(latencies) > 0 {
		r.MaxMs = ms(latencies[len(latencies)-1])
	}
	return json.NewEncoder(out).Encode(r)
}
