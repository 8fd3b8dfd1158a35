package qc

import (
	"bufio"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// BenchmarkAddFASTQFile adds the first 500000 reads of the plain FASTQ
// file QC_BENCH_FASTQ names (such as art_illumina writes) to a fresh Reads
// each iteration, past the duplication sample's first 100000 sequences as
// a real file goes, and reports the CPU time a read takes on this thread,
// which other processes on a shared machine disturb less than the wall
// clock.
func BenchmarkAddFASTQFile(b *testing.B) {
	path := os.Getenv("QC_BENCH_FASTQ")
	if path == "" {
		b.Skip("QC_BENCH_FASTQ unset")
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var seqs, quals [][]byte
	for n := 0; sc.Scan() && len(seqs) < 500000; n++ {
		switch n % 4 {
		case 1:
			seqs = append(seqs, append([]byte(nil), sc.Bytes()...))
		case 3:
			quals = append(quals, append([]byte(nil), sc.Bytes()...))
		}
	}
	runtime.LockOSThread()
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(1, &ru) // RUSAGE_THREAD
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var spent time.Duration
	reads := 0
	for b.Loop() {
		start := cpu()
		var r Reads
		for i := range quals {
			r.AddFASTQ(seqs[i], quals[i])
		}
		r.Report()
		spent += cpu() - start
		reads += len(quals)
	}
	b.ReportMetric(float64(spent.Nanoseconds())/float64(reads), "cpu-ns/read")
}
