// Command loadgen measures how many SigV4-signed GetSequenceStore requests
// seqstore answers per second, and how fast, next to a bare net/http handler
// on the same machine serving a body of the same size: the ratio says what
// seqstore's own work (signature check, routing, metadata read, JSON) costs
// over the HTTP stack alone.
//
// By default it builds cmd/seqstore, starts it on a free loopback port with a
// throw-away data directory and its own root key, creates one sequence store
// and measures; -endpoint and -id target a running server instead. See
// bench/README.md for how to read the output.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// Targets the run is judged against (bench/README.md says why).
const (
	targetRatio = 0.6
	targetP99   = 10 * time.Millisecond
)

type options struct {
	duration, warmup time.Duration
	conns            int
	endpoint, id     string
	region           string
	seqstoreBin      string
	serverProcs      int
	clientProcs      int
	order            string
	paced            float64
	bareChild        bool
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "recorded run per target")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unrecorded warm-up per target, on the same connections")
	flag.IntVar(&o.conns, "conns", 64, "concurrent keep-alive connections (one worker each)")
	flag.StringVar(&o.endpoint, "endpoint", "", "`URL` of a running seqstore; default: build and start one")
	flag.StringVar(&o.id, "id", "", "sequence store `ID` to read on -endpoint (required with it)")
	flag.StringVar(&o.region, "region", "us-east-1", "region to sign for")
	flag.StringVar(&o.seqstoreBin, "seqstore", "", "seqstore `binary` to start; default: go build ./cmd/seqstore")
	flag.IntVar(&o.serverProcs, "server-procs", runtime.NumCPU(), "GOMAXPROCS of the seqstore it starts (0: leave unset)")
	flag.IntVar(&o.clientProcs, "client-procs", runtime.NumCPU(), "GOMAXPROCS of this process, which holds the load generator and the bare handler")
	flag.StringVar(&o.order, "order", "bare,seqstore", "which targets to measure, in order")
	flag.BoolVar(&o.bareChild, "bare-child", false, "run the bare handler in a child process with -server-procs, as seqstore runs, instead of inside this one")
	serveBare := flag.String("serve-bare-file", "", "internal: serve this file as the bare handler (the child of -bare-child)")
	flag.Float64Var(&o.paced, "paced", 0.5, "then measure latency again with both targets paced to this `fraction` of seqstore's saturated rate (0: skip)")
	var h hostileOptions
	hostile := flag.Bool("hostile", false, "instead: measure signed GetSequenceStore while attackers hold idle connections, trickle slow uploads and send a poison upload (see bench/README.md)")
	flag.IntVar(&h.idle, "hostile-idle", 2000, "with -hostile: idle keep-alive connections")
	flag.IntVar(&h.slow, "hostile-slow", 100, "with -hostile: slow part uploads")
	flag.Int64Var(&h.slowRate, "hostile-slow-rate", 24<<10, "with -hostile: `bytes` a second per slow upload")
	flag.IntVar(&h.slowSize, "hostile-slow-size", 512<<10, "with -hostile: `bytes` of each slow part")
	flag.IntVar(&h.poisonGiB, "hostile-poison-gib", 1, "with -hostile: GiB of 'A' on the poison FASTQ's one line (0: no poison upload)")
	flag.IntVar(&h.asLimitMiB, "hostile-as-limit", 4096, "with -hostile: address-space limit of the seqstore it starts, in `MiB`, so a runaway server fails alone (0: none)")
	probe := flag.Bool("probe", false, "instead: with -endpoint and -id, send GetSequenceStore every -probe-interval until interrupted (SIGINT/SIGTERM), then print its latency as JSON (bench/jobs.sh runs it during imports)")
	probeInterval := flag.Duration("probe-interval", 20*time.Millisecond, "with -probe: time between calls")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: go run ./bench/loadgen [flags]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *serveBare != "" {
		if err := serveBareChild(*serveBare); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen bare child:", err)
			os.Exit(2)
		}
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var ok bool
	var err error
	if *probe {
		if o.endpoint == "" || o.id == "" {
			fmt.Fprintln(os.Stderr, "loadgen: -probe needs -endpoint and -id")
			os.Exit(2)
		}
		sig := newSigning(os.Getenv("SEQSTORE_ACCESS_KEY_ID"), os.Getenv("SEQSTORE_SECRET_ACCESS_KEY"), o.region)
		runtime.GOMAXPROCS(1)
		if err := runProbe(ctx, o.endpoint, o.id, *probeInterval, sig, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(2)
		}
		return
	}
	if *hostile {
		if o.clientProcs > 0 {
			runtime.GOMAXPROCS(o.clientProcs)
		}
		ok, err = runHostile(ctx, o, h, os.Stdout)
	} else {
		ok, err = run(ctx, o, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// run sets the targets up, measures them and prints the report. It returns
// false when a measured run had errors.
func run(ctx context.Context, o options, out io.Writer) (bool, error) {
	if o.conns < 1 || o.duration <= 0 || o.warmup < 0 {
		return false, errors.New("-conns must be at least 1 and -duration positive")
	}
	if (o.endpoint == "") != (o.id == "") {
		return false, errors.New("-endpoint and -id go together")
	}
	if o.clientProcs > 0 {
		runtime.GOMAXPROCS(o.clientProcs)
	}

	var (
		accessKeyID = os.Getenv("SEQSTORE_ACCESS_KEY_ID")
		secret      = os.Getenv("SEQSTORE_SECRET_ACCESS_KEY")
		endpoint    = strings.TrimRight(o.endpoint, "/")
		storeID     = o.id
		server      *seqstoreProcess
		serverProcs = "not ours (-endpoint)"
	)
	if endpoint == "" {
		dir, bin, err := prepare(ctx, o, out)
		if err != nil {
			return false, err
		}
		defer os.RemoveAll(dir)
		accessKeyID, secret = randomCredentials()
		if server, err = startSeqstore(ctx, bin, dir, accessKeyID, secret, o.serverProcs, 0); err != nil {
			return false, err
		}
		defer server.stop()
		endpoint = server.endpoint
		serverProcs = "unset (Go default: all cores)"
		if o.serverProcs > 0 {
			serverProcs = fmt.Sprint(o.serverProcs)
		}
	} else if accessKeyID == "" || secret == "" {
		return false, errors.New("-endpoint needs the root key in SEQSTORE_ACCESS_KEY_ID and SEQSTORE_SECRET_ACCESS_KEY")
	}

	sig := newSigning(accessKeyID, secret, o.region)
	api := &apiClient{endpoint: endpoint, signing: sig, http: &http.Client{Timeout: 30 * time.Second}}
	if storeID == "" {
		var err error
		if storeID, err = api.createSequenceStore(ctx, "bench"); err != nil {
			return false, err
		}
	}
	body, err := api.getSequenceStore(ctx, storeID)
	if err != nil {
		return false, err
	}
	bareEndpoint, bareWhere := "", "inside the loadgen process"
	if o.bareChild {
		dir, err := os.MkdirTemp("", "seqstore-loadgen-bare-")
		if err != nil {
			return false, err
		}
		defer os.RemoveAll(dir)
		child, err := startBareChild(body, dir, o.serverProcs)
		if err != nil {
			return false, err
		}
		defer child.close()
		bareEndpoint, bareWhere = child.endpoint, "in a child process with the same GOMAXPROCS as seqstore"
	} else {
		bare, err := startBareServer(body)
		if err != nil {
			return false, err
		}
		defer bare.close()
		bareEndpoint = bare.endpoint
	}

	cfg := loadConfig{Conns: o.conns, Warmup: o.warmup, Duration: o.duration}
	path := "/sequencestore/" + storeID
	fmt.Fprintf(out, "GetSequenceStore (GET %s) at %s: SigV4-signed afresh per request for service omics, region %s\n", path, endpoint, o.region)
	fmt.Fprintf(out, "%d keep-alive connections, %s warm-up then %s recorded per target; response body %d bytes, the bare handler serves the same bytes\n",
		o.conns, o.warmup, o.duration, len(body))
	fmt.Fprintf(out, "CPU: %d cores shared by client and server; GOMAXPROCS: loadgen %d, seqstore %s; the bare handler runs %s\n\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), serverProcs, bareWhere)

	targets := map[string]string{"bare": bareEndpoint + path, "seqstore": endpoint + path}
	var order []string
	for _, name := range strings.Split(o.order, ",") {
		name = strings.TrimSpace(name)
		if targets[name] == "" {
			return false, fmt.Errorf("-order: unknown target %q (use bare and seqstore)", name)
		}
		order = append(order, name)
	}
	measureAll := func(cfg loadConfig) (map[string]*result, error) {
		results := map[string]*result{}
		for _, name := range order {
			fmt.Fprintf(out, "measuring %s ...\n", name)
			d := newDriver(targets[name], sig, cfg)
			r, err := d.measure(ctx)
			d.close()
			if err != nil {
				return nil, err
			}
			results[name] = r
		}
		return results, nil
	}

	saturated, err := measureAll(cfg)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(out, "\nsaturation: each connection sends its next request as soon as the answer is in\n")
	printTable(out, order, saturated)
	runs := []map[string]*result{saturated}

	var paced map[string]*result
	if seq := saturated["seqstore"]; o.paced > 0 && seq != nil && seq.RequestsPerSecond() > 0 {
		cfg.Rate = o.paced * seq.RequestsPerSecond()
		fmt.Fprintf(out, "\n")
		if paced, err = measureAll(cfg); err != nil {
			return false, err
		}
		fmt.Fprintf(out, "\npaced: %.0f req/s in all (%.0f%% of seqstore's saturated rate), latency from each request's scheduled send\n",
			cfg.Rate, 100*o.paced)
		printTable(out, order, paced)
		runs = append(runs, paced)
	}
	if server != nil {
		fmt.Fprintf(out, "\nseqstore peak RSS (VmHWM) over the whole run: %.1f MiB\n", float64(server.peakRSS())/(1<<20))
	}
	fmt.Fprintln(out)
	printVerdict(out, saturated, paced)

	clean := true
	for _, results := range runs {
		for _, name := range order {
			if r := results[name]; r.Errors+r.WarmupErrors > 0 {
				clean = false
				fmt.Fprintf(out, "%s: %d errors (%d in warm-up), the first: %s\n", name, r.Errors, r.WarmupErrors, r.FirstError)
			}
		}
	}
	return clean, nil
}

func printTable(out io.Writer, order []string, results map[string]*result) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\trequests\treq/s\tp50\tp99\tp99.9\tmax\terrors\tconns dialled\t")
	for _, name := range order {
		r := results[name]
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%d\t%d\t\n", name, r.Requests, r.RequestsPerSecond(),
			ms(r.Percentile(0.50)), ms(r.Percentile(0.99)), ms(r.Percentile(0.999)), ms(r.Percentile(1)), r.Errors, r.ConnsOpened)
	}
	tw.Flush()
}

// printVerdict compares the measured figures with the targets: the rate
// ratio at saturation, and p99 both at saturation (where, by Little's law,
// mean latency is just connections / throughput) and paced (where it is the
// time one request takes under a load the server can carry).
func printVerdict(out io.Writer, saturated, paced map[string]*result) {
	seq, bare := saturated["seqstore"], saturated["bare"]
	if seq != nil && bare != nil && bare.RequestsPerSecond() > 0 {
		ratio := seq.RequestsPerSecond() / bare.RequestsPerSecond()
		fmt.Fprintf(out, "seqstore / bare requests/s at saturation: %.2f× (target ≥ %.1f×) %s\n", ratio, targetRatio, passFail(ratio >= targetRatio))
	}
	if seq != nil {
		p99 := seq.Percentile(0.99)
		fmt.Fprintf(out, "seqstore p99 at saturation: %s (target < %s) %s\n", ms(p99), ms(targetP99), passFail(p99 < targetP99))
	}
	if seq := paced["seqstore"]; seq != nil {
		p99 := seq.Percentile(0.99)
		fmt.Fprintf(out, "seqstore p99 paced: %s (target < %s) %s\n", ms(p99), ms(targetP99), passFail(p99 < targetP99))
	}
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}
