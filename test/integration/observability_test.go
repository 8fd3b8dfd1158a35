package integration

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/seqstore/seqstore/internal/health"
	"github.com/seqstore/seqstore/internal/testutil"
)

// startAdmin serves in's admin listener on a free loopback port and
// returns its base URL.
func (in *instance) startAdmin(t *testing.T) string {
	return serveOnLoopback(t, "admin listener", in.srv.ServeAdmin)
}

// serveOnLoopback runs serve on a free loopback port until the test ends
// and returns the listener's base URL.
func serveOnLoopback(t *testing.T, what string, serve func(context.Context, net.Listener) error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", what, err)
		}
	})
	return "http://" + ln.Addr().String()
}

// scrape reads the admin listener's /metrics.
func scrape(t *testing.T, admin string) map[string]*dto.MetricFamily {
	t.Helper()
	status, body := testutil.Get(t, admin+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return fams
}

// sample returns the sum of the values of the series of family name whose
// labels include labels (a counter's value, a histogram's count), and
// whether there is one. It sums because a node's work process reports the
// same series as the server, labelled process="work".
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	var sum float64
	found := false
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		default:
			continue
		}
		found = true
	}
	return sum, found
}

// After real traffic through the AWS SDK, the admin listener's /metrics
// holds the series of what happened: requests by operation and status,
// bytes both ways, the ingestion by file type, store latencies, the Go
// runtime. /healthz and /readyz answer on both listeners, and a node that
// loses its metadata store says so with 503. Every log line of a request
// carries the request ID its client was sent.
func TestMetricsHealthAndRequestIDs(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			logs := &testutil.SyncBuffer{}
			in := startLogged(t, b, newConfig(t, b), slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
			admin := in.startAdmin(t)
			for _, base := range []string{in.endpoint, admin} {
				for _, path := range []string{"/healthz", "/readyz"} {
					if status, body := testutil.Get(t, base+path); status != http.StatusOK {
						t.Fatalf("GET %s%s: %d %s", base, path, status, body)
					}
				}
			}
			c := in.goClient(in.rootKey())

			created, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("metrics")})
			if err != nil {
				t.Fatal(err)
			}
			store := *created.Id
			if _, err := c.GetSequenceStore(ctx, &omics.GetSequenceStoreInput{Id: aws.String("1234567890")}); err == nil {
				t.Fatal("getting a missing store succeeded")
			}
			path, _ := gzipFASTQ(t, t.TempDir(), "m", 2000)
			fastq, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			id := uploadFiles(t, c, store, types.FileTypeFastq, "", 1<<20, path)
			md := waitIngested(t, c, store, id)
			if md.Status != types.ReadSetStatusActive {
				t.Fatalf("read set %s: %s", md.Status, aws.ToString(md.StatusMessage))
			}
			got := download(t, c, store, id, types.ReadSetFileSource1, md.Files.Source1)

			fams := scrape(t, admin)
			for _, want := range []struct {
				name   string
				labels []string
				min    float64 // at least
				exact  bool    // and at most
			}{
				{"seqstore_http_requests_total", []string{"operation", "CreateSequenceStore", "code", "200"}, 1, true},
				{"seqstore_http_requests_total", []string{"operation", "GetSequenceStore", "code", "404"}, 1, true},
				{"seqstore_http_requests_total", []string{"operation", "UploadReadSetPart", "code", "200"}, 1, true},
				{"seqstore_http_request_duration_seconds", []string{"operation", "CompleteMultipartReadSetUpload", "code", "200"}, 1, true},
				{"seqstore_http_request_body_bytes_total", []string{"operation", "UploadReadSetPart"}, float64(len(fastq)), true},
				{"seqstore_http_response_body_bytes_total", []string{"operation", "GetReadSet"}, float64(len(got)), true},
				{"seqstore_ingests_total", []string{"file_type", "FASTQ", "status", "ACTIVE"}, 1, true},
				{"seqstore_ingest_duration_seconds", []string{"file_type", "FASTQ", "status", "ACTIVE"}, 1, true},
				{"seqstore_ingest_source_bytes_total", []string{"file_type", "FASTQ"}, float64(len(fastq)), true},
				{"seqstore_ingest_throughput_bytes_per_second", []string{"file_type", "FASTQ"}, 1, true},
				{"seqstore_metadata_operation_duration_seconds", []string{"operation", "IngestClaim", "outcome", "ok"}, 1, true},
				{"seqstore_metadata_operation_duration_seconds", []string{"operation", "SequenceStoreCreate", "outcome", "ok"}, 1, true},
				{"seqstore_object_store_operation_duration_seconds", []string{"operation", "Commit", "outcome", "ok"}, 2, false},
				{"seqstore_object_store_operation_duration_seconds", []string{"operation", "NewRangeReader", "outcome", "ok"}, 1, false},
				{"seqstore_http_requests_in_flight", nil, 0, true},
				{"seqstore_read_sets", []string{"status", "ACTIVE"}, 1, true},
				{"seqstore_read_sets_count_errors_total", nil, 0, true},
				{"go_goroutines", nil, 1, false},
				{"process_resident_memory_bytes", nil, 1 << 20, false},
			} {
				v, ok := sample(fams, want.name, want.labels...)
				if !ok || v < want.min || (want.exact && v != want.min) {
					t.Errorf("%s%v = %v (present %v), want %v", want.name, want.labels, v, ok, want.min)
				}
			}
			if v, ok := sample(fams, "seqstore_ingest_lease_takeovers_total"); !ok || v != 0 {
				t.Errorf("lease takeovers = %v (present %v), want 0 on a node that never died", v, ok)
			}

			// Every line logged with the request's context names it.
			createdID, _ := awsmiddleware.GetRequestIDMetadata(created.ResultMetadata)
			lines := logLines(t, logs, "sequence store created")
			if len(lines) != 1 || createdID == "" || lines[0]["request_id"] != createdID {
				t.Errorf("the store's creation was logged as %v; want one line with request_id %q", lines, createdID)
			}

			// Without its metadata store the node is alive but not ready,
			// and says why.
			in.srv.Meta.Close()
			time.Sleep(health.DefaultReuse) // the last answer, ready, expires
			for _, base := range []string{in.endpoint, admin} {
				if status, body := testutil.Get(t, base+"/healthz"); status != http.StatusOK {
					t.Errorf("GET %s/healthz without a metadata store: %d %s", base, status, body)
				}
				status, body := testutil.Get(t, base+"/readyz")
				if status != http.StatusServiceUnavailable || !strings.Contains(body, "metadata store:") {
					t.Errorf("GET %s/readyz without a metadata store: %d %q, want 503 naming the metadata store", base, status, body)
				}
			}
		})
	}
}
