package workproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Child is a work process's end of the channel to its parent.
type Child struct {
	channel *os.File
	socket  string
}

// FromEnvironment returns the channel the parent gave this process, or an
// error if Start did not start it.
func FromEnvironment() (*Child, error) {
	v := os.Getenv(envChannel)
	socket := os.Getenv(envMetrics)
	fd, err := strconv.Atoi(v)
	if v == "" || socket == "" || err != nil || fd < 3 {
		return nil, errors.New("this command is started by seqstore serve for its ingestion and jobs; run seqstore serve instead")
	}
	// Non-blocking, so the file is read through the runtime's poller and
	// Close ends a Read in progress.
	if err := nonblocking(fd); err != nil {
		return nil, fmt.Errorf("work process channel (descriptor %d): %w", fd, err)
	}
	return &Child{channel: os.NewFile(uintptr(fd), "work channel"), socket: socket}, nil
}

// Serve calls ingest or jobs for each wake-up the parent sends and serves
// g's metrics on the parent's socket. It returns nil when the parent closes
// the channel (or ends), and ctx's error if ctx ends first.
func (c *Child) Serve(ctx context.Context, ingest, jobs func(), g prometheus.Gatherer) error {
	ln, err := net.Listen("unix", c.socket)
	if err != nil {
		return fmt.Errorf("work process metrics socket: %w", err)
	}
	defer ln.Close()
	go serveMetrics(ln, g)
	stop := context.AfterFunc(ctx, func() { c.channel.Close() })
	defer stop()
	r := bufio.NewReader(c.channel)
	for {
		b, err := r.ReadByte()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("work process channel: %w", err)
		}
		switch b {
		case Ingest:
			ingest()
		case Jobs:
			jobs()
		}
	}
}

// serveMetrics writes g's metric families to each connection on ln, one
// connection at a time: the parent reads them once a scrape.
func serveMetrics(ln net.Listener, g prometheus.Gatherer) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		mfs, _ := g.Gather() // what could be gathered, even after an error
		enc := expfmt.NewEncoder(conn, expfmt.NewFormat(expfmt.TypeProtoDelim))
		for _, mf := range mfs {
			if enc.Encode(mf) != nil {
				break
			}
		}
		conn.Close()
	}
}
