package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for loadgen as the child of
// -bare-child, which re-runs its own executable with -serve-bare-file.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "-serve-bare-file" {
		if err := serveBareChild(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestPercentile(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = ms(i + 1)
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty is zero", nil, 0.5, 0},
		{"one sample is every percentile", []time.Duration{ms(7)}, 0.99, ms(7)},
		{"median of 1..100 is 50", hundred, 0.50, ms(50)},
		{"p99 of 1..100 is 99", hundred, 0.99, ms(99)},
		{"p99.9 of 1..100 is the max", hundred, 0.999, ms(100)},
		{"p100 is the max", hundred, 1, ms(100)},
		{"p0 is the min", hundred, 0, ms(1)},
		{"median of four is the second", []time.Duration{ms(1), ms(2), ms(3), ms(4)}, 0.5, ms(2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := percentile(tt.sorted, tt.p), tt.want; got != want {
				t.Errorf("percentile(%v) = %v, want %v", tt.p, got, want)
			}
		})
	}
}

// verifyingHandler answers 200 with body only to requests whose SigV4
// signature is what the signer makes for the same request with the given
// secret, and 403 otherwise: it re-signs a copy of the request at the time
// the client stated and compares the Authorization headers.
func verifyingHandler(t *testing.T, accessKeyID, secret string, body []byte) http.Handler {
	verifier := newSigning(accessKeyID, secret, "us-east-1")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stated, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
		if err != nil {
			http.Error(w, "no X-Amz-Date", http.StatusForbidden)
			return
		}
		if r.Header.Get("X-Amz-Content-Sha256") != "" {
			t.Errorf("the payload hash travelled as a header, not expected for omics GETs")
		}
		if !strings.Contains(r.Header.Get("Authorization"), "/us-east-1/omics/aws4_request") {
			http.Error(w, "not signed for omics in us-east-1", http.StatusForbidden)
			return
		}
		check, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
		if err := verifier.signer.SignHTTP(r.Context(), verifier.creds, check, emptyPayloadSHA256, "omics", "us-east-1", stated); err != nil {
			t.Errorf("re-sign: %v", err)
		}
		if got, want := r.Header.Get("Authorization"), check.Header.Get("Authorization"); got != want {
			http.Error(w, "signature mismatch", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
}

func TestDriverSignsAndKeepsConnectionsAlive(t *testing.T) {
	body := []byte(`{"id":"1234567890","arn":"arn:aws:omics:us-east-1:123456789012:sequenceStore/1234567890"}`)
	srv := httptest.NewServer(verifyingHandler(t, "AKIDEXAMPLE", "secret", body))
	defer srv.Close()

	const conns = 4
	d := newDriver(srv.URL+"/sequencestore/1234567890", newSigning("AKIDEXAMPLE", "secret", "us-east-1"),
		loadConfig{Conns: conns, Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond})
	defer d.close()
	r, err := d.measure(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors != 0 {
		t.Fatalf("%d errors, the first: %s", r.Errors, r.FirstError)
	}
	if r.Requests < conns {
		t.Errorf("only %d requests in 200ms", r.Requests)
	}
	if got, want := r.ConnsOpened, int64(conns); got != want {
		t.Errorf("dialled %d connections, want %d: keep-alive did not hold", got, want)
	}
	if got, want := r.BodyBytes, int64(r.Requests*len(body)); got != want {
		t.Errorf("read %d body bytes, want %d (%d requests of %d)", got, want, r.Requests, len(body))
	}
	if got, want := len(r.Latencies), r.Requests; got != want {
		t.Errorf("%d latencies for %d requests", got, want)
	}
	if r.Percentile(0.5) <= 0 || r.Percentile(0.5) > r.Percentile(0.99) {
		t.Errorf("p50 %v, p99 %v: not ordered", r.Percentile(0.5), r.Percentile(0.99))
	}
}

func TestDriverCountsRejectedRequestsAsErrors(t *testing.T) {
	srv := httptest.NewServer(verifyingHandler(t, "AKIDEXAMPLE", "secret", []byte(`{}`)))
	defer srv.Close()
	d := newDriver(srv.URL+"/sequencestore/1234567890", newSigning("AKIDEXAMPLE", "wrong secret", "us-east-1"),
		loadConfig{Conns: 2, Duration: 50 * time.Millisecond})
	defer d.close()
	r, err := d.measure(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 0 || r.Errors == 0 {
		t.Errorf("%d successes and %d errors with a wrong secret, want none and some", r.Requests, r.Errors)
	}
	if !strings.Contains(r.FirstError, "HTTP 403") || !strings.Contains(r.FirstError, "signature mismatch") {
		t.Errorf("first error %q does not quote the 403 answer", r.FirstError)
	}
}

func TestPacedDriverKeepsToTheRate(t *testing.T) {
	srv := httptest.NewServer(verifyingHandler(t, "AKIDEXAMPLE", "secret", []byte(`{}`)))
	defer srv.Close()
	const rate, conns, duration = 200.0, 4, 500 * time.Millisecond
	d := newDriver(srv.URL+"/sequencestore/1234567890", newSigning("AKIDEXAMPLE", "secret", "us-east-1"),
		loadConfig{Conns: conns, Duration: duration, Rate: rate})
	defer d.close()
	r, err := d.measure(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors != 0 {
		t.Fatalf("%d errors, the first: %s", r.Errors, r.FirstError)
	}
	// 200 req/s for 0.5 s is 100 requests; the schedule is exact, so allow
	// only the sends at the edges of the window.
	if want := int(rate * duration.Seconds()); r.Requests < want-conns || r.Requests > want+conns {
		t.Errorf("%d requests paced at %v/s over %v, want %d±%d", r.Requests, rate, duration, want, conns)
	}
}

func TestBareServerServesTheGivenBody(t *testing.T) {
	body := []byte(`{"id":"1234567890","name":"bench"}`)
	b, err := startBareServer(body)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	resp, err := http.Get(b.endpoint + "/sequencestore/1234567890")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if !bytes.Equal(got, body) {
		t.Errorf("body %q, want %q", got, body)
	}
	if got, want := resp.Header.Get("Content-Type"), "application/json"; got != want {
		t.Errorf("Content-Type %q, want %q", got, want)
	}
}

func TestBareChildServesTheGivenBody(t *testing.T) {
	body := []byte(`{"id":"1234567890","name":"child"}`)
	c, err := startBareChild(body, t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	resp, err := http.Get(c.endpoint + "/sequencestore/1234567890")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if !bytes.Equal(got, body) {
		t.Errorf("body %q, want %q", got, body)
	}
}

// TestAgainstSeqstore runs the whole benchmark briefly against a seqstore it
// builds and starts: store creation, the real response, both targets and
// the report. It is skipped under -short.
func TestAgainstSeqstore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts seqstore")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to build seqstore with")
	}
	var out bytes.Buffer
	o := options{duration: 300 * time.Millisecond, warmup: 100 * time.Millisecond, conns: 8, region: "us-east-1", order: "bare,seqstore", paced: 0.5, serverProcs: 1, clientProcs: 0}
	clean, err := run(context.Background(), o, &out)
	t.Logf("report:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	if !clean {
		t.Fatalf("the run had errors")
	}
	for _, want := range []string{"bare", "seqstore", "seqstore / bare requests/s", "seqstore p99 at saturation", "seqstore p99 paced", "peak RSS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
