package cram

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/seqstore/seqstore/internal/format/limit"
)

// TestMemoryBound decodes a many-container file with memory limits that
// hold one container and a half, two and a half and three and a half: the records must not change, what
// is charged must stay near the limit (containers ahead wait or give way
// to the one Read needs, which may pass it only by what containers already
// decoded ahead hold), and nothing but the buffers kept for reuse may be
// charged once the file is read. Below one container's need, the file
// fails naming the limit.
func TestMemoryBound(t *testing.T) {
	c, fa := lambdaCRAM(t, "memory.cram", "version=3.1,seqs_per_slice=300")
	want, rd := renderReader(t, c, fa, Options{})
	one := rd.env.mem.most
	if one == 0 {
		t.Fatal("no container was charged")
	}
	// A container reuses the buffers of those before it, so what it holds
	// varies a little: the limits leave room for that.
	for _, n := range []int64{1, 2, 3} {
		limit := n*one + one/2
		out, rd := renderReader(t, c, fa, Options{MaxMemory: int(limit)})
		if !bytes.Equal(out, want) {
			t.Errorf("limit %d: %d bytes of SAM, want %d", limit, len(out), len(want))
		}
		m := rd.env.mem
		m.mu.Lock()
		t.Logf("limit %d: charged at most %d, %d gave way, waited %d times", limit, m.peak, m.gaveWay, m.waited)
		if m.peak > 2*limit {
			t.Errorf("limit %d: %d bytes charged", limit, m.peak)
		}
		if n == 1 && m.gaveWay+m.waited == 0 {
			t.Errorf("limit of one container: no container waited or gave way")
		}
		if m.used != m.idle.held {
			t.Errorf("limit %d: %d bytes charged after the end, %d of them for buffers kept", limit, m.used, m.idle.held)
		}
		m.mu.Unlock()
	}
	f, err := os.Open(c)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = readToEnd(f, fa, Options{MaxMemory: int(one / 4)})
	var le *limit.Error
	if !errors.As(err, &le) || le.Name != "max-cram-memory" {
		t.Errorf("limit of a quarter container: got %v, want an error naming max-cram-memory", err)
	}
}
