package main

import (
	"flag"
	"io"
	"slices"
	"testing"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		store      string
		wait       bool
		positional []string
	}{
		{[]string{"-store", "1", "a", "b"}, "1", false, []string{"a", "b"}},
		{[]string{"a", "-store", "1", "b", "-wait"}, "1", true, []string{"a", "b"}},
		{[]string{"a", "b", "--store=1", "--wait"}, "1", true, []string{"a", "b"}},
		{[]string{"-wait", "--", "-store", "x"}, "", true, []string{"-store", "x"}},
		{[]string{"a", "--", "-b"}, "", false, []string{"a", "-b"}},
		{nil, "", false, nil},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		store := fs.String("store", "", "")
		wait := fs.Bool("wait", false, "")
		got, err := parseArgs(fs, tc.args)
		if err != nil || *store != tc.store || *wait != tc.wait || !slices.Equal(got, tc.positional) {
			t.Errorf("%q: store %q wait %v positional %q err %v", tc.args, *store, *wait, got, err)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if _, err := parseArgs(fs, []string{"a", "-nope"}); err == nil {
		t.Error("an unknown flag after an argument was accepted")
	}
}

func TestReadSetName(t *testing.T) {
	for path, want := range map[string]string{
		"/data/sample_R1.fastq.gz": "sample_R1",
		"NA12878.bam":              "NA12878",
		"run.7.fq.bgz":             "run.7",
		"reads.txt":                "reads.txt",
	} {
		if got := readSetName(path); got != want {
			t.Errorf("readSetName(%q) = %q, want %q", path, got, want)
		}
	}
}
