// Package metrics keeps seqstore's Prometheus metrics: one registry, built
// at start and handed to the parts that count, and the decorators that
// count for them without their knowing (an HTTP middleware, and wrappers of
// the metadata and object stores). Its series are named by Prometheus's
// conventions: the seqstore_ prefix, units in the name, _total counters.
package metrics

import (
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// Metrics holds the registry and the series seqstore records.
type Metrics struct {
	Registry *prometheus.Registry
	included atomic.Pointer[prometheus.Gatherer] // see Include

	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	bytesIn       *prometheus.CounterVec
	bytesOut      *prometheus.CounterVec
	inFlight      prometheus.Gauge
	throttled     *prometheus.CounterVec
	ingests       *prometheus.CounterVec
	ingestTime    *prometheus.HistogramVec
	ingestBytes   *prometheus.CounterVec
	ingestRate    *prometheus.HistogramVec
	takeovers     prometheus.Counter
	jobsStarted   *prometheus.CounterVec
	jobItems      *prometheus.CounterVec
	itemTakeovers *prometheus.CounterVec
	metaLatency   *prometheus.HistogramVec
	objectLatency *prometheus.HistogramVec
}

// Buckets of a request or store call, in seconds: from a cached metadata
// read to a part upload of 100 MiB over a slow link.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

// Buckets of one ingestion, in seconds: a tiny FASTQ to a whole genome.
var ingestBuckets = []float64{.1, .5, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 14400}

// Buckets of ingest throughput, in bytes a second.
var rateBuckets = prometheus.ExponentialBuckets(1<<20, 2, 12) // 1 MiB/s .. 2 GiB/s

// New builds the registry with the Go runtime's and the process's metrics.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqstore_http_requests_total",
			Help: "API requests answered, by operation and HTTP status code.",
		}, []string{"operation", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "seqstore_http_request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its answer, by operation and HTTP status code.",
			Buckets: latencyBuckets,
		}, []string{"operation", "code"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqstore_http_request_body_bytes_total",
			Help: "Bytes of request bodies read, by operation.",
		}, []string{"operation"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqstore_http_response_body_bytes_total",
			Help: "Bytes of response bodies written, by operation.",
		}, []string{"operation"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "seqstore_http_requests_in_flight",
			Help: "API requests being served now.",
		}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqstore_throttled_requests_total",
			Help: "API requests answered ThrottlingException by the per-account rate limits, by operation.",
		}, []string{"operation"}),
		ingests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqstore_ingests_total",
			Help: "Read-set ingestions ended, by file type and the status they left the read set in (ACTIVE, UPLOAD_FAILED).",
		}, []string{"file_type", "status"}),
		ingestTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "seqstore_ingest_duration_seconds",
			Help:    "Time from a node's claim of a read set to the end of its ingestion, by file type and resulting status.",
			Buckets: ingestBuckets,
		}, []string{"file_type", "status"}),
		ingestBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqstore_ingest_source_bytes_total",
			Help: "Uploaded bytes of read sets whose ingestion ended, by file type.",
		}, []string{"file_type"}),
		ingestRate: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "seqstore_ingest_throughput_bytes_per_second",
			Help:    "Uploaded bytes a second of each ingestion that made its read set ACTIVE, by file type.",
			Buckets: rateBuckets,
		}, []string{"file_type"}),
		takeovers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seqstore_ingest_lease_takeovers_total",
			Help: "Read sets this node claimed after an earlier claim (of a node that died, hung or restarted) ran out.",
		}),
		jobsStarted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqstore_jobs_started_total",
			Help: "Jobs started through this node, by kind (READ_SET_IMPORT, READ_SET_EXPORT, ...).",
		}, []string{"kind"}),
		jobItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqstore_job_items_total",
			Help: "Job items this node ended, by job kind and the status they ended in (FINISHED, FAILED).",
		}, []string{"kind", "status"}),
		itemTakeovers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqstore_job_item_lease_takeovers_total",
			Help: "Job items this node claimed after an earlier claim (of a node that died, hung or restarted) ran out, by job kind.",
		}, []string{"kind"}),
		metaLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "seqstore_metadata_operation_duration_seconds",
			Help:    "Time of metadata-store calls, by call and outcome (ok, not_found, conflict, error).",
			Buckets: latencyBuckets,
		}, []string{"operation", "outcome"}),
		objectLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "seqstore_object_store_operation_duration_seconds",
			Help:    "Time of object-store calls (for streams, until the first byte can be read or written), by call and outcome (ok, not_found, error).",
			Buckets: latencyBuckets,
		}, []string{"operation", "outcome"}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.bytesIn, m.bytesOut, m.inFlight, m.throttled,
		m.ingests, m.ingestTime, m.ingestBytes, m.ingestRate, m.takeovers,
		m.jobsStarted, m.jobItems, m.itemTakeovers,
		m.metaLatency, m.objectLatency,
	)
	return m
}

// Handler serves the registry in Prometheus's exposition format, with what
// the gatherer given to Include gathers beside it.
func (m *Metrics) Handler() http.Handler {
	gather := prometheus.Gatherers{m.Registry, prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		if g := m.included.Load(); g != nil {
			return (*g).Gather()
		}
		return nil, nil
	})}
	// ContinueOnError: the node's own series are served even while the
	// other gatherer (a work process being restarted) cannot answer.
	return promhttp.HandlerFor(gather, promhttp.HandlerOpts{Registry: m.Registry, ErrorHandling: promhttp.ContinueOnError})
}

// Include serves g's series beside the registry's: those of a node's work
// process, labelled apart from the server's own.
func (m *Metrics) Include(g prometheus.Gatherer) { m.included.Store(&g) }

// Throttled counts a request refused by a per-account rate limit.
func (m *Metrics) Throttled(operation string) {
	m.throttled.WithLabelValues(operation).Inc()
}
