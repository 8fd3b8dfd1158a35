package cram

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"

	"github.com/seqstore/seqstore/internal/format/sam"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
)

// mapReference is an in-memory ReferenceSource.
type mapReference map[string][]byte

func (m mapReference) Bases(name string, start, end int64) ([]byte, int64, error) {
	s, ok := m[name]
	if !ok {
		return nil, 0, fmt.Errorf("no sequence %q", name)
	}
	n := int64(len(s))
	start, end = min(max(start, 0), n), min(end, n)
	return s[start:max(start, end)], n, nil
}

// fuzzSeeds are small real CRAMs with their references loaded in memory.
func fuzzSeeds(f *testing.F) mapReference {
	ref := mapReference{}
	for _, fa := range []string{"xx.fa", "auxf.fa", "c1.fa", "ce.fa"} {
		b, err := os.ReadFile(htslibTest + "/" + fa)
		if err != nil {
			continue
		}
		for _, rec := range bytes.Split(b, []byte(">"))[1:] {
			lines := bytes.Split(rec, []byte("\n"))
			name := string(bytes.Fields(lines[0])[0])
			ref[name] = bytes.ToUpper(bytes.Join(lines[1:], nil))
		}
	}
	// Small CRAMs keep the fuzzer's minimisation quick: a few records of
	// htslib-test's SAM files written by samtools in two profiles, and an
	// htsjdk file.
	dir := f.TempDir()
	for i, s := range []string{"xx#pair.sam", "xx#triplet.sam", "c1#clip.sam", "xx#rg.sam"} {
		for k, opt := range []string{"version=3.0", "version=3.1,small"} {
			out := fmt.Sprintf("%s/%d.%d.cram", dir, i, k)
			ref := refFor(htslibTest, s)
			cmd := exec.Command("samtools", "view", "--no-PG", "-T", ref, "-O", "cram,"+opt, "-o", out, htslibTest+"/"+s)
			if cmd.Run() != nil {
				continue
			}
			if b, err := os.ReadFile(out); err == nil {
				f.Add(b)
			}
		}
	}
	if b, err := os.ReadFile(htslibTest + "/auxf#values_java.cram"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("CRAM\x03\x00"))
	return ref
}

// drain reads every record, rendering each, and must never panic.
func drain(data []byte, ref ReferenceSource, skipCRC bool) {
	rd, err := NewReaderOptions(bytes.NewReader(data), ref, Options{NamePrefix: "fuzz", skipCRC: skipCRC, maxWork: 1 << 20, MaxBlock: 1 << 22, MaxContainer: 1 << 23})
	if err != nil {
		return
	}
	defer rd.Close()
	var rec sam.Record
	var out []byte
	for i := 0; i < 1<<16; i++ {
		if err := rd.Read(&rec); err != nil {
			if err != io.EOF {
				_ = err.Error()
			}
			return
		}
		out, _ = sam.AppendText(out[:0], &rec, rd.Header().References)
	}
}

// FuzzContainers feeds whole files, checksums enforced: container and
// block framing, headers and truncation.
func FuzzContainers(f *testing.F) {
	ref := fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) { heapcap.Check(t, heapcap.Ceiling, func() { drain(data, ref, false) }) })
}

// FuzzRecords feeds whole files with checksums ignored, so that mutations
// reach the compression header, the encodings and the record decoder.
func FuzzRecords(f *testing.F) {
	ref := fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) { heapcap.Check(t, heapcap.Ceiling, func() { drain(data, ref, true) }) })
}
