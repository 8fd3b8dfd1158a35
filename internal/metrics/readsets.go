package metrics

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// CountReadSets adds the gauge seqstore_read_sets{status}, read from count
// when scraped, at most once every storeCountTTL. The counts are the
// whole deployment's (every node sharing the database reports the same),
// so aggregate them across nodes with max, not sum.
func (m *Metrics) CountReadSets(count func(context.Context) (map[string]int64, error)) {
	m.Registry.MustRegister(&countCollector{
		count: count,
		desc: prometheus.NewDesc("seqstore_read_sets",
			"Read sets in the metadata store by status, all accounts; the same on every node sharing it.", []string{"status"}, nil),
		failed: prometheus.NewDesc("seqstore_read_sets_count_errors_total",
			"Scrapes whose read-set count failed (the last counts are reported meanwhile).", nil, nil),
	})
}

// CountJobItems adds the gauge seqstore_job_items_open{kind,status}: the
// job items waiting (NOT_STARTED) and being worked on (IN_PROGRESS), the
// depth of the job queue, read from count as CountReadSets reads its
// counts, and like them the same on every node.
func (m *Metrics) CountJobItems(count func(context.Context) (map[[2]string]int64, error)) {
	m.Registry.MustRegister(&countCollector{
		count: func(ctx context.Context) (map[string]int64, error) {
			byKind, err := count(ctx)
			out := make(map[string]int64, len(byKind))
			for k, n := range byKind {
				out[k[0]+labelSep+k[1]] = n
			}
			return out, err
		},
		desc: prometheus.NewDesc("seqstore_job_items_open",
			"Job items not yet ended, by job kind and item status (NOT_STARTED, IN_PROGRESS), all accounts; the same on every node sharing the database.",
			[]string{"kind", "status"}, nil),
		failed: prometheus.NewDesc("seqstore_job_items_count_errors_total",
			"Scrapes whose job-item count failed (the last counts are reported meanwhile).", nil, nil),
	})
}

// labelSep joins a count's label values in one map key.
const labelSep = "\x00"

// storeCountTTL spares the database a count per scrape from every node.
const storeCountTTL = 10 * time.Second

// storeCountTimeout keeps a slow database from holding a scrape.
const storeCountTimeout = 2 * time.Second

// countCollector reports counts the metadata store makes, keyed by their
// label values joined with labelSep.
type countCollector struct {
	count        func(context.Context) (map[string]int64, error)
	desc, failed *prometheus.Desc

	mu     sync.Mutex
	last   map[string]int64
	at     time.Time
	errors float64
}

func (c *countCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.desc
	ch <- c.failed
}

func (c *countCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) >= storeCountTTL {
		ctx, cancel := context.WithTimeout(context.Background(), storeCountTimeout)
		counts, err := c.count(ctx)
		cancel()
		if err != nil {
			c.errors++
		} else {
			c.last, c.at = counts, time.Now()
		}
	}
	for key, n := range c.last {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), strings.Split(key, labelSep)...)
	}
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, c.errors)
}
