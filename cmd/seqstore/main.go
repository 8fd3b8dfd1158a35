// Command seqstore is a self-hosted server for the AWS HealthOmics storage
// API, and the tools around it.
//
//	seqstore serve      run the server
//	seqstore inspect    report what ingestion would say of local files
//	seqstore admin      manage accounts, access keys and the keyring
//	seqstore upload     upload files as a read set, resuming where it stopped
//	seqstore download   download a read set's files, verified
//	seqstore ls         list sequence stores or read sets
//	seqstore rm         delete read sets
//	seqstore wait       wait until a read set is ACTIVE or failed
//	seqstore qc         fetch a read set's QC report, or write it for MultiQC
//	seqstore version    print the version
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `seqstore: a self-hosted AWS HealthOmics sequence store

Usage:
  seqstore serve   [flags]            run the server (seqstore serve -h for flags)
  seqstore inspect [flags] FILE...    print, per file, what ingestion would report
  seqstore admin   COMMAND [flags]    manage accounts, access keys and the keyring

Client commands (any HealthOmics-compatible store; AWS credentials, region
and endpoint from the usual AWS chain, -profile, -region, -endpoint-url):
  seqstore upload   -store ID -subject S -sample S FILE [FILE2]
                                      upload a read set, resumable (-wait to follow it)
  seqstore download -store ID READSET download a read set's files, verified
  seqstore ls       [STORE]           list sequence stores, or a store's read sets
  seqstore rm       -store ID READSET...
                                      delete read sets
  seqstore wait     -store ID READSET wait until a read set is ACTIVE or failed
  seqstore qc       -store ID [-o DIR] READSET
                                      print a read set's QC report (seqstore servers),
                                      or write it in MultiQC's layouts

  seqstore version                    print the version and commit

Each command's flags: seqstore COMMAND -h
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "serve":
		err = runServe(ctx, args)
	case "serve-work": // started by serve itself; see package workproc
		err = runServeWork(ctx, args)
	case "inspect":
		err = runInspect(ctx, args, os.Stdout)
	case "admin":
		err = runAdmin(ctx, args, os.Stdout)
	case "upload":
		err = runUpload(ctx, args, os.Stdout, os.Stderr)
	case "download":
		err = runDownload(ctx, args, os.Stdout, os.Stderr)
	case "ls":
		err = runLs(ctx, args, os.Stdout, os.Stderr)
	case "rm":
		err = runRm(ctx, args, os.Stdout, os.Stderr)
	case "wait":
		err = runWait(ctx, args, os.Stdout, os.Stderr)
	case "qc":
		err = runQC(ctx, args, os.Stdout, os.Stderr)
	case "version", "-version", "--version":
		printVersion(os.Stdout)
	case "help", "-h", "-help", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "seqstore: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		if err != errSilentFailure {
			fmt.Fprintln(os.Stderr, "seqstore:", err)
		}
		os.Exit(1)
	}
}

// errSilentFailure makes main exit 1 without printing: the command has said
// what went wrong already.
var errSilentFailure = fmt.Errorf("failed")
