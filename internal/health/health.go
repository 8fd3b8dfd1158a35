// Package health answers a load balancer's and an orchestrator's two
// questions about a node: /healthz, is the process answering at all, and
// /readyz, can it serve requests now, which it can only while its metadata
// and object stores answer and the database's schema is the one it knows.
// A node that cannot answers 503 with the reasons, one a line.
package health

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Check is one thing a ready node needs.
type Check struct {
	Name string // what is checked, for the reason: "metadata store"
	// Run returns nil when the thing is ready, else why not.
	Run func(context.Context) error
}

// Checker answers /healthz and /readyz.
type Checker struct {
	Checks []Check
	// Timeout bounds each readiness check; zero means DefaultTimeout.
	Timeout time.Duration
	// Reuse is how long an answer serves later probes; zero means
	// DefaultReuse. /readyz needs no signature, so without it anyone who
	// reaches the port could turn requests into store queries at will.
	Reuse time.Duration

	mu      sync.Mutex // held while the checks run: probes wait for one answer
	reasons []string
	at      time.Time
}

// DefaultTimeout is how long a readiness check may take: a store that
// needs longer is as good as unreachable to a client waiting on it.
const DefaultTimeout = 2 * time.Second

// DefaultReuse is how long one readiness answer serves: well under any
// balancer's probe interval.
const DefaultReuse = time.Second

// Paths of the two answers.
const (
	HealthPath = "/healthz"
	ReadyPath  = "/readyz"
)

// Ready returns the reasons the node is not ready, or nil: the answer of
// the last run of the checks if it is recent enough, else a new one.
func (c *Checker) Ready(ctx context.Context) []string {
	reuse := c.Reuse
	if reuse <= 0 {
		reuse = DefaultReuse
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || time.Since(c.at) >= reuse {
		c.reasons, c.at = c.run(ctx), time.Now()
	}
	return c.reasons
}

// run runs every check at once and returns the reasons of those that
// failed, or nil.
func (c *Checker) run(ctx context.Context) []string {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	errs := make([]error, len(c.Checks))
	var wg sync.WaitGroup
	for i, ch := range c.Checks {
		wg.Go(func() { errs[i] = ch.Run(ctx) })
	}
	wg.Wait()
	var reasons []string
	for i, err := range errs {
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", c.Checks[i].Name, err))
		}
	}
	return reasons
}

// Handler answers HealthPath and ReadyPath and passes every other request
// to next (nil: 404). Neither answer needs a signature: a probe has no key.
func (c *Checker) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case HealthPath:
			write(w, http.StatusOK, "ok\n")
		case ReadyPath:
			if reasons := c.Ready(r.Context()); len(reasons) > 0 {
				write(w, http.StatusServiceUnavailable, "not ready\n"+strings.Join(reasons, "\n")+"\n")
				return
			}
			write(w, http.StatusOK, "ready\n")
		default:
			if next == nil {
				http.NotFound(w, r)
				return
			}
			next.ServeHTTP(w, r)
		}
	})
}

func write(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(body))
}
