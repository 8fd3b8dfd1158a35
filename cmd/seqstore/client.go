package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/seqstore/seqstore/internal/progress"
	"github.com/seqstore/seqstore/internal/transfer"
)

// clientFlags are the flags of every command that talks to a sequence store
// as a client. What they leave out comes from the standard AWS chain.
type clientFlags struct {
	profile  string
	region   string
	endpoint string
	quiet    bool
	json     bool
}

func addClientFlags(fs *flag.FlagSet) *clientFlags {
	f := &clientFlags{}
	fs.StringVar(&f.profile, "profile", "", "AWS shared config `profile` (default: AWS_PROFILE, or default)")
	fs.StringVar(&f.region, "region", "", "AWS `region` (default: AWS_REGION, or the profile's)")
	fs.StringVar(&f.endpoint, "endpoint-url", "", "endpoint `URL` of the store's API (default: AWS_ENDPOINT_URL_OMICS, or AWS HealthOmics)")
	fs.BoolVar(&f.quiet, "quiet", false, "print only the result, without progress")
	fs.BoolVar(&f.json, "json", false, "print the result as JSON, without progress")
	return f
}

// newClientCommand starts the flag set of a client command: errors and
// usage go to stderr, the usage text comes before the flags, and the flags
// every client command takes are defined.
func newClientCommand(name, usage string, stderr io.Writer) (*flag.FlagSet, *clientFlags) {
	fs := flag.NewFlagSet("seqstore "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage); fs.PrintDefaults() }
	return fs, addClientFlags(fs)
}

// sequenceStoreFlag defines -store, the sequence store a command acts on.
func sequenceStoreFlag(fs *flag.FlagSet) *string {
	return fs.String("store", "", "sequence store `ID` (required)")
}

// quietClient makes a transfer client that reports no progress, for
// commands whose result says all there is to say.
func (f *clientFlags) quietClient(ctx context.Context, concurrency int) (*transfer.Client, error) {
	api, err := transfer.NewAPI(ctx, transfer.APIConfig{Profile: f.profile, Region: f.region, Endpoint: f.endpoint, Connections: concurrency})
	if err != nil {
		return nil, err
	}
	return &transfer.Client{API: api, Concurrency: concurrency}, nil
}

// client makes a transfer client whose progress goes to stderr: bars on a
// terminal, lines elsewhere, nothing with -quiet or -json. The returned
// function ends the progress display.
func (f *clientFlags) client(ctx context.Context, stderr io.Writer, concurrency int) (*transfer.Client, func(), error) {
	c, err := f.quietClient(ctx, concurrency)
	if err != nil {
		return nil, nil, err
	}
	if f.quiet || f.json {
		return c, func() {}, nil
	}
	var r progress.Renderer
	if file, ok := stderr.(*os.File); ok && term.IsTerminal(int(file.Fd())) {
		r = progress.NewBar(stderr, func() int {
			w, _, err := term.GetSize(int(file.Fd()))
			if err != nil || w <= 0 {
				return 80
			}
			return w
		})
	} else {
		r = progress.NewLines(stderr)
	}
	c.Progress = r.Event
	return c, r.Close, nil
}

// printJSON writes v as one line of JSON.
func printJSON(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}

// parseArgs parses flags that may come before, between or after the
// positional arguments, and returns those. After "--" everything is
// positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// helpRequested turns -h into success: the usage has been printed.
func helpRequested(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}
