package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"

	"github.com/seqstore/seqstore/internal/analyze"
	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/qc"
)

// inspection is what `seqstore inspect` prints per file, with the API's
// member names where they exist.
type inspection struct {
	File                string                 `json:"file"`
	FileType            string                 `json:"fileType,omitempty"`
	SequenceInformation *sequenceInformation   `json:"sequenceInformation,omitempty"`
	ETags               map[etag.Family]string `json:"etags,omitempty"`
	Index               string                 `json:"index,omitempty"`
	QC                  *qcReport              `json:"qc,omitempty"`
	Error               string                 `json:"error,omitempty"`
}

type sequenceInformation struct {
	TotalReadCount int64  `json:"totalReadCount"`
	TotalBaseCount int64  `json:"totalBaseCount"`
	Alignment      string `json:"alignment"`
}

// inspectMemoryLimit is the soft heap limit of `seqstore inspect`.
const inspectMemoryLimit = 240 << 20

func runInspect(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("seqstore inspect", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: seqstore inspect [-reference REF.fa] [-qc] [-qc-out DIR] [-max-... LIMIT] FILE...\n\n"+
			"Reads each FASTQ (plain, gzip, BGZF), BAM or CRAM file the way ingestion does and prints one JSON\n"+
			"object per file: fileType, sequenceInformation and the ETag in each family, so a file can be\n"+
			"checked before upload and verified after download. A defective file gets the message\n"+
			"ingestion would give, and the command exits 1. CRAM needs the FASTA reference it was\n"+
			"written against (-reference; a .fai beside it is made if absent). The -max flags bound what\n"+
			"reading a file may buffer, as the server's limits do; a file that passes one fails naming it.\n"+
			"-qc adds the quality-control statistics ingestion computes, in the same pass (member qc:\n"+
			"reads, and for a BAM or CRAM alignments); -qc-out DIR writes them as FastQC's\n"+
			"NAME_fastqc/fastqc_data.txt for a FASTQ and samtools' NAME.stats and NAME.flagstat for a BAM\n"+
			"or CRAM, for MultiQC.\n\n")
		fs.PrintDefaults()
	}
	reference := fs.String("reference", "", "FASTA `file` that CRAM inputs were compressed against")
	familyList := fs.String("families", "MD5up,SHA256up,SHA512up", "comma-separated ETag `families` to compute")
	withQC := fs.Bool("qc", false, "also print quality-control statistics")
	qcOut := fs.String("qc-out", "", "write quality-control reports into `dir` (FastQC and flagstat layouts)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to `file` (for go tool pprof)")
	limits := limitFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// Decoding an archive-profile CRAM keeps about 180 MB live (two
	// containers of 100,000 reads and their buffers); at the default GOGC
	// the heap would grow to twice that before collecting. A soft limit
	// makes the collector work harder near it instead, unless the user set
	// one.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(inspectMemoryLimit)
	}
	var families []etag.Family
	for _, name := range strings.Split(*familyList, ",") {
		f, err := etag.ParseFamily(strings.TrimSpace(name))
		if err != nil {
			return err
		}
		families = append(families, f)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("inspect needs at least one file")
	}
	enc := json.NewEncoder(out)
	failed := false
	if !*withQC && *qcOut == "" {
		ctx = analyze.WithoutQC(ctx)
	}
	for _, path := range fs.Args() {
		res, rep := inspectFile(ctx, path, *reference, families, *limits)
		if rep != nil {
			if *withQC {
				res.QC = qcOf(rep)
			}
			if *qcOut != "" {
				if _, err := writeQCLayouts(*qcOut, rep, sampleName(path)); err != nil {
					res.Error = "quality control: " + err.Error()
				}
			}
		}
		if res.Error != "" {
			failed = true
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
	if failed {
		return errSilentFailure
	}
	return nil
}

// inspectFile analyses one file and returns what inspect prints of it and
// its QC report (nil when the context asks for none), its source named
// after the file.
func inspectFile(ctx context.Context, path, reference string, families []etag.Family, limits analyze.Limits) (inspection, *qc.Report) {
	res := inspection{File: path}
	r, err := analyzeLocal(ctx, []string{path}, "", reference, families, limits, nil)
	if err != nil {
		res.Error = err.Error()
		return res, nil
	}
	if r.QC != nil {
		for i := range r.QC.Sources {
			r.QC.Sources[i].FileName = filepath.Base(path)
		}
	}
	res.FileType = r.FileType
	res.SequenceInformation = &sequenceInformation{TotalReadCount: r.ReadCount, TotalBaseCount: r.BaseCount, Alignment: r.Alignment}
	res.ETags = map[etag.Family]string{}
	for fam, sums := range r.ETags {
		res.ETags[fam] = sums[0]
	}
	if r.Indexed {
		res.Index = "BAI"
		if r.FileType == analyze.FileTypeCRAM {
			res.Index = "CRAI"
		}
	}
	return res, r.QC
}

// limitFlags defines the flags that set the analysis limits, named as the
// errors of a file that passes one name them, and returns the limits they
// fill in.
func limitFlags(fs *flag.FlagSet) *analyze.Limits {
	l := analyze.DefaultLimits()
	for _, set := range l.Settings() {
		value := analyze.LimitFlag{Setting: set}
		fs.Var(value, set.Name, value.Usage())
	}
	return &l
}
