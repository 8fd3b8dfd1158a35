package bgzf_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/seqstore/seqstore/internal/format/bgzf"
)

// compress makes a BGZF file of data cut into blocks of size bytes.
func compress(t testing.TB, data []byte, size int) []byte {
	var out bytes.Buffer
	for len(data) > 0 {
		w := bgzf.NewWriter(&out)
		n := min(size, len(data))
		w.Write(data[:n])
		w.Close()
		out.Truncate(out.Len() - len(bgzf.EOFMarker))
		data = data[n:]
	}
	out.Write(bgzf.EOFMarker)
	return out.Bytes()
}

func opener(file []byte) bgzf.Opener {
	return func(start, end int64) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(file[start:end])), nil
	}
}

func TestCopyVirtualCutsAtVirtualOffsets(t *testing.T) {
	data := make([]byte, 3000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	file := compress(t, data, 1000)
	// Block offsets of the three blocks, found by reading them.
	var blocks []int64
	for off := int64(0); off < int64(len(file))-int64(len(bgzf.EOFMarker)); {
		blocks = append(blocks, off)
		off += int64(file[off+16]) | int64(file[off+17])<<8 + 1
	}
	v := func(block, in int) bgzf.VirtualOffset { return bgzf.MakeVirtualOffset(blocks[block], in) }
	tests := []struct {
		name       string
		begin, end bgzf.VirtualOffset
		want       []byte
	}{
		{"inside one block", v(0, 10), v(0, 500), data[10:500]},
		{"across blocks", v(0, 900), v(2, 100), data[900:2100]},
		{"whole blocks", v(1, 0), v(2, 0), data[1000:2000]},
		{"from a block's end", v(0, 1000), v(1, 5), data[1000:1005]},
		{"empty", v(1, 5), v(1, 5), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := bgzf.CopyVirtual(&out, opener(file), int64(len(file)), tt.begin, tt.end); err != nil {
				t.Fatal(err)
			}
			r := bgzf.NewReader(&out)
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("read back %d bytes (%v), want %d", len(got), err, len(tt.want))
			}
		})
	}
	if err := bgzf.CopyVirtual(io.Discard, opener(file), int64(len(file)), v(0, 1001), v(1, 0)); err == nil {
		t.Error("a virtual offset past its block's data was accepted")
	}
}

func FuzzCopyVirtual(f *testing.F) {
	f.Add(compress(f, []byte("some data to cut into blocks"), 10), uint64(5), uint64(40<<16|3))
	f.Fuzz(func(t *testing.T, file []byte, begin, end uint64) {
		bgzf.CopyVirtual(io.Discard, opener(file), int64(len(file)), bgzf.VirtualOffset(begin), bgzf.VirtualOffset(end))
	})
}
