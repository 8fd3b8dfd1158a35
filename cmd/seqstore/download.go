package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore/internal/transfer"
)

const downloadUsage = `Usage: seqstore download -store ID [flags] READSET

Downloads a read set's files into a directory under the names HealthOmics
gives them, fetching several parts at once. Each file is checked against
its contentLength and, for FASTQ and BAM sources, against the read set's
ETag as it arrives; a file appears under its name only once verified.

Flags:
`

func runDownload(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cf := newClientCommand("download", downloadUsage, stderr)
	store := sequenceStoreFlag(fs)
	which := fs.String("file", "all", "which `file`: SOURCE1, SOURCE2, INDEX or all")
	dir := fs.String("o", ".", "`directory` to write the files to (made if missing)")
	force := fs.Bool("force", false, "replace files that exist")
	noVerify := fs.Bool("no-verify", false, "check only the length, not the ETag (saves inflating and hashing the files)")
	concurrency := fs.Int("concurrency", transfer.DefaultConcurrency, "`n` parts fetched at once")
	ids, err := parseArgs(fs, args)
	if err != nil {
		return helpRequested(err)
	}
	if len(ids) != 1 || *store == "" {
		fs.Usage()
		return errors.New("download takes -store and one read set ID")
	}
	if *concurrency < 1 {
		return errors.New("-concurrency must be at least 1")
	}
	var files []types.ReadSetFile
	switch f := types.ReadSetFile(strings.ToUpper(*which)); f {
	case "ALL":
	case types.ReadSetFileSource1, types.ReadSetFileSource2, types.ReadSetFileIndex:
		files = []types.ReadSetFile{f}
	default:
		return fmt.Errorf("-file %s: use SOURCE1, SOURCE2, INDEX or all", *which)
	}
	c, closeProgress, err := cf.client(ctx, stderr, *concurrency)
	if err != nil {
		return err
	}
	defer closeProgress()
	res, err := c.Download(ctx, transfer.DownloadInput{StoreID: *store, ReadSetID: ids[0], Files: files, Dir: *dir, Overwrite: *force, SkipETag: *noVerify})
	if err != nil {
		return err
	}
	closeProgress()
	if cf.json {
		return printJSON(stdout, res)
	}
	for _, f := range res.Files {
		fmt.Fprintln(stdout, f.Path)
	}
	return nil
}
