// Command seqstore is a self-hosted server for the AWS HealthOmics storage
// API, and the tools around it.
//
//	seqstore serve      run the server
//	seqstore inspect    report what ingestion would say of local files
//	seqstore admin      manage accounts and access keys
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
  seqstore admin   COMMAND [flags]    manage accounts and access keys
  seqstore version                    print the version
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
	case "inspect":
		err = runInspect(ctx, args, os.Stdout)
	case "admin":
		err = runAdmin(ctx, args, os.Stdout)
	case "version", "-version", "--version":
		fmt.Println("seqstore", version)
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
