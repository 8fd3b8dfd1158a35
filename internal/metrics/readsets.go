package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// CountReadSets adds the gauge seqstore_read_sets{status}, read from count
// when scraped, at most once every readSetCountTTL. The counts are the
// whole deployment's (every node sharing the database reports the same),
// so aggregate them across nodes with max, not sum.
func (m *Metrics) CountReadSets(count func(context.Context) (map[string]int64, error)) {
	m.Registry.MustRegister(&readSetCollector{
		count: count,
		desc: prometheus.NewDesc("seqstore_read_sets",
			"Read sets in the metadata store by status, all accounts; the same on every node sharing it.", []string{"status"}, nil),
		failed: prometheus.NewDesc("seqstore_read_sets_count_errors_total",
			"Scrapes whose read-set count failed (the last counts are reported meanwhile).", nil, nil),
	})
}

// readSetCountTTL spares the database a count per scrape from every node.
const readSetCountTTL = 10 * time.Second

// readSetCountTimeout keeps a slow database from holding a scrape.
const readSetCountTimeout = 2 * time.Second

type readSetCollector struct {
	count        func(context.Context) (map[string]int64, error)
	desc, failed *prometheus.Desc

	mu     sync.Mutex
	last   map[string]int64
	at     time.Time
	errors float64
}

func (c *readSetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.desc
	ch <- c.failed
}

func (c *readSetCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) >= readSetCountTTL {
		ctx, cancel := context.WithTimeout(context.Background(), readSetCountTimeout)
		counts, err := c.count(ctx)
		cancel()
		if err != nil {
			c.errors++
		} else {
			c.last, c.at = counts, time.Now()
		}
	}
	for status, n := range c.last {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), status)
	}
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, c.errors)
}
