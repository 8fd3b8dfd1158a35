package cram

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"testing"

	"github.com/seqstore/seqstore/internal/format/cram/codec/itf8"
	"github.com/seqstore/seqstore/internal/format/limit"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
)

// hostileCRAM builds CRAM 3.0 files of at most about a megabyte that
// decode to gigabytes: their blocks declare the largest sizes the default
// limits let through, in codecs that make them from a few bytes, or their
// records are coded with one-symbol HUFFMAN codes that read nothing. They
// are made by hand, field by field, so no tool writes them.
type hostileCRAM struct {
	buf     bytes.Buffer
	counter int64
}

func newHostileCRAM() *hostileCRAM {
	h := &hostileCRAM{}
	h.buf.WriteString("CRAM\x03\x00")
	h.buf.Write(make([]byte, 20))
	text := "@HD\tVN:1.6\tSO:unsorted\n"
	raw := binary.LittleEndian.AppendUint32(nil, uint32(len(text)))
	raw = append(raw, text...)
	h.container(0, 0, nil, [][]byte{cramBlock(0, contentFileHeader, 0, raw, len(raw))})
	return h
}

// cramBlock frames one block whose data, coded with method, declares
// rawSize bytes.
func cramBlock(method, content byte, id int32, data []byte, rawSize int) []byte {
	b := []byte{method, content}
	b = itf8.AppendITF8(b, id)
	b = itf8.AppendITF8(b, int32(len(data)))
	b = itf8.AppendITF8(b, int32(rawSize))
	b = append(b, data...)
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// container appends a container of unmapped records holding blocks; a
// landmark is given for each block index in slices.
func (h *hostileCRAM) container(records int32, bases int64, slices []int, blocks [][]byte) {
	var body []byte
	var landmarks []int32
	for i, b := range blocks {
		for _, s := range slices {
			if s == i {
				landmarks = append(landmarks, int32(len(body)))
			}
		}
		body = append(body, b...)
	}
	hdr := binary.LittleEndian.AppendUint32(nil, uint32(len(body)))
	hdr = itf8.AppendITF8(hdr, -1) // unmapped
	hdr = itf8.AppendITF8(hdr, 0)
	hdr = itf8.AppendITF8(hdr, 0)
	hdr = itf8.AppendITF8(hdr, records)
	hdr = itf8.AppendLTF8(hdr, h.counter)
	hdr = itf8.AppendLTF8(hdr, bases)
	hdr = itf8.AppendITF8(hdr, int32(len(blocks)))
	hdr = itf8.AppendITF8(hdr, int32(len(landmarks)))
	for _, l := range landmarks {
		hdr = itf8.AppendITF8(hdr, l)
	}
	hdr = binary.LittleEndian.AppendUint32(hdr, crc32.ChecksumIEEE(hdr))
	h.buf.Write(hdr)
	h.buf.Write(body)
	h.counter += int64(records)
}

// huffmanOne is a one-symbol HUFFMAN encoding of v: it reads no bits.
func huffmanOne(v int32) []byte {
	p := itf8.AppendITF8(nil, 1)
	p = itf8.AppendITF8(p, v)
	p = itf8.AppendITF8(p, 1)
	p = itf8.AppendITF8(p, 0)
	e := itf8.AppendITF8(nil, encHuffman)
	e = itf8.AppendITF8(e, int32(len(p)))
	return append(e, p...)
}

// sized prefixes a map's entries with their count, and the whole with its
// size, as compression header maps are.
func sized(n int, entries []byte) []byte {
	m := append(itf8.AppendITF8(nil, int32(n)), entries...)
	return append(itf8.AppendITF8(nil, int32(len(m))), m...)
}

// slice appends a container of one slice of records unmapped reads: its
// series are coded by series (two-letter key to encoding), its external
// blocks are exts, and names are not stored.
func (h *hostileCRAM) slice(records int32, series map[string][]byte, exts [][]byte) {
	var ds []byte
	for _, k := range []string{"BF", "CF", "RL", "TL", "BA", "QS"} {
		if e, ok := series[k]; ok {
			ds = append(append(ds, k...), e...)
		}
	}
	ch := sized(1, []byte{'R', 'N', 0})
	ch = append(ch, sized(len(series), ds)...)
	ch = append(ch, sized(0, nil)...)

	sh := itf8.AppendITF8(nil, -1)
	sh = itf8.AppendITF8(sh, 0)
	sh = itf8.AppendITF8(sh, 0)
	sh = itf8.AppendITF8(sh, records)
	sh = itf8.AppendLTF8(sh, h.counter)
	sh = itf8.AppendITF8(sh, int32(1+len(exts)))
	sh = itf8.AppendITF8(sh, int32(len(exts)))
	for i := range exts {
		sh = itf8.AppendITF8(sh, int32(i+1))
	}
	sh = itf8.AppendITF8(sh, -1)
	sh = append(sh, make([]byte, 16)...)

	blocks := [][]byte{cramBlock(0, contentCompression, 0, ch, len(ch)), cramBlock(0, contentSliceHeader, 0, sh, len(sh)), cramBlock(0, contentCore, 0, nil, 0)}
	blocks = append(blocks, exts...)
	h.container(records, 0, []int{1}, blocks)
}

// end appends the EOF container of CRAM 3.0.
func (h *hostileCRAM) end() []byte {
	h.container(0, 0, nil, nil)
	return h.buf.Bytes()
}

// ransOne is a rANS 4x8 order-0 stream of n copies of one byte: a single
// symbol owns the whole frequency range, so the states never change and no
// byte is read after them.
func ransOne(n int) []byte {
	body := []byte{'A', 0x90, 0x00, 0x00}
	for range 4 {
		body = binary.LittleEndian.AppendUint32(body, 1<<23)
	}
	s := []byte{0}
	s = binary.LittleEndian.AppendUint32(s, uint32(len(body)))
	s = binary.LittleEndian.AppendUint32(s, uint32(n))
	return append(s, body...)
}

// ransNx16One is a rANS Nx16 order-0 stream of n copies of one byte, made
// as ransOne is.
func ransNx16One(n int) []byte {
	s := itf8.AppendUint7([]byte{0}, uint64(n))
	s = append(s, 'A', 0)
	s = itf8.AppendUint7(s, 4096)
	for range 4 {
		s = binary.LittleEndian.AppendUint32(s, 1<<23)
	}
	return s
}

// tok3Streams is a name tokeniser stream for ulen bytes of names whose
// every token position has every token stream, each as long as allowed
// and made from a few bytes: they decode to thousands of times ulen.
func tok3Streams(ulen int) []byte {
	s := binary.LittleEndian.AppendUint32(nil, uint32(ulen))
	s = binary.LittleEndian.AppendUint32(s, uint32(ulen/2))
	s = append(s, 0)
	stream := ransNx16One(4*ulen + 16)
	for range 128 {
		for typ := range 16 {
			b := byte(typ)
			if typ == 0 {
				b |= 128
			}
			s = append(s, b)
			s = itf8.AppendUint7(s, uint64(len(stream)))
			s = append(s, stream...)
		}
	}
	return s
}

// gzipZeros is a gzip stream of n zero bytes, about a thousandth of n.
func gzipZeros(t testing.TB, n int) []byte {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for left := n; left > 0; left -= len(zeros) {
		w.Write(zeros[:min(left, len(zeros))])
	}
	w.Close()
	return b.Bytes()
}

// hostileInputs are the hostile files, by name, each up to about 1 MB.
func hostileInputs(t testing.TB) []struct {
	name string
	data []byte
} {
	var out []struct {
		name string
		data []byte
	}
	add := func(name string, data []byte) {
		if len(data) > 1<<20+1<<16 {
			t.Fatalf("%s: %d bytes, more than a megabyte", name, len(data))
		}
		out = append(out, struct {
			name string
			data []byte
		}{name, data})
	}
	// Each file has containers padded with a raw block to make it a
	// megabyte.
	const containers = 8
	padding := func(used int) []byte {
		n := max(0, (1<<20-used)/containers-1<<10)
		return cramBlock(0, contentExternal, 99, make([]byte, n), n)
	}
	// Blocks that declare sizes, in codecs that make them from a few
	// bytes: n blocks of size to a container.
	blocks := func(name string, method byte, data []byte, n, size int) {
		h := newHostileCRAM()
		pad := padding(containers * n * len(data))
		for range containers {
			var exts [][]byte
			for i := range n {
				exts = append(exts, cramBlock(method, contentExternal, int32(i+1), data, size))
			}
			h.slice(0, nil, append(exts, pad))
		}
		add(name, h.end())
	}
	// The largest blocks the limits on blocks and containers let through.
	const most = DefaultMaxBlock - 1<<10
	blocks("rANS 4x8 blocks of 128 MiB", 4, ransOne(most), 1, most)
	blocks("gzip blocks of 128 MiB", 1, gzipZeros(t, most), 1, most)
	// Blocks that each fit what a megabyte may decode to, but not all
	// together.
	blocks("rANS 4x8 blocks of 12 MiB", 4, ransOne(12<<20), 3, 12<<20)
	blocks("gzip blocks of 12 MiB", 1, gzipZeros(t, 12<<20), 3, 12<<20)
	blocks("rANS Nx16 blocks of 12 MiB", 5, ransNx16One(12<<20), 3, 12<<20)
	blocks("name tokeniser blocks of 1 MiB", 8, tok3Streams(1<<20), 1, 1<<20)
	// Records whose every field is a one-symbol HUFFMAN code: long
	// unmapped reads of one base, their qualities absent, as many as the
	// container's work bound allows, or the memory.
	reads := func(name string, records int32, length int32) {
		h := newHostileCRAM()
		series := map[string][]byte{"BF": huffmanOne(flagUnmapped), "CF": huffmanOne(0), "RL": huffmanOne(length), "TL": huffmanOne(0), "BA": huffmanOne('A')}
		pad := padding(0)
		for range containers {
			h.slice(records, series, [][]byte{pad})
		}
		add(name, h.end())
	}
	reads("one-symbol reads, as many as allowed", 1<<12, 1<<20)
	reads("one-symbol reads of 12 MiB a container", 12, 1<<20)
	reads("short one-symbol reads of 12 MiB a container", 60000, 100)
	return out
}

// TestHostileMemory decodes files of a megabyte that declare gigabytes:
// whatever each ends with, decoding must hold less than the heap ceiling
// of every parser.
func TestHostileMemory(t *testing.T) {
	for _, in := range hostileInputs(t) {
		t.Run(in.name, func(t *testing.T) {
			var err error
			var n, charged int64
			// The input can be decoded again, should the first measurement
			// be inflated by a loaded machine.
			peak := heapcap.PeakOfRepeatable(heapcap.Ceiling, func() {
				var rd *Reader
				if rd, err = readToEnd(bytes.NewReader(in.data), nil, Options{}); rd != nil {
					n, charged = rd.Records(), rd.env.mem.peak
				}
			})
			t.Logf("%d bytes: %d records, held %.1f MiB (%.1f MiB charged), then %v", len(in.data), n, float64(peak)/(1<<20), float64(charged)/(1<<20), err)
			if peak > heapcap.Ceiling {
				t.Errorf("held %.1f MiB of heap, more than the %d MiB ceiling", float64(peak)/(1<<20), heapcap.Ceiling>>20)
			}
		})
	}
}

// FuzzMemory feeds whole files, checksums ignored, with the default
// limits on blocks and containers: only the memory account keeps what
// they decode to under the ceiling. Its seeds are small hostile files
// besides the real ones.
func FuzzMemory(f *testing.F) {
	ref := fuzzSeeds(f)
	h := newHostileCRAM()
	h.slice(0, nil, [][]byte{cramBlock(4, contentExternal, 1, ransOne(DefaultMaxBlock-1<<10), DefaultMaxBlock-1<<10)})
	h.slice(0, nil, [][]byte{cramBlock(4, contentExternal, 1, ransOne(8<<20), 8<<20)})
	h.slice(1<<10, map[string][]byte{"BF": huffmanOne(flagUnmapped), "CF": huffmanOne(0), "RL": huffmanOne(1 << 16), "TL": huffmanOne(0), "BA": huffmanOne('A')}, nil)
	f.Add(h.end())
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > heapcap.MaxInput {
			return
		}
		heapcap.Check(t, heapcap.Ceiling, func() {
			readToEnd(bytes.NewReader(data), ref, Options{NamePrefix: "fuzz", skipCRC: true})
		})
	})
}

// TestRatioLimit decodes a megabyte whose containers each decode to 48
// MiB: past 40 bytes per byte read it fails naming max-cram-ratio, and
// with that raised it decodes.
func TestRatioLimit(t *testing.T) {
	h := newHostileCRAM()
	for range 4 {
		var exts [][]byte
		for i := range 4 {
			exts = append(exts, cramBlock(4, contentExternal, int32(i+1), ransOne(12<<20), 12<<20))
		}
		pad := 1<<18 - 1<<10
		h.slice(0, nil, append(exts, cramBlock(0, contentExternal, 99, make([]byte, pad), pad)))
	}
	data := h.end()
	_, err := readToEnd(bytes.NewReader(data), nil, Options{})
	var le *limit.Error
	if !errors.As(err, &le) || le.Name != "max-cram-ratio" {
		t.Errorf("got %v, want an error naming max-cram-ratio", err)
	}
	if _, err := readToEnd(bytes.NewReader(data), nil, Options{MaxRatio: 1000}); err != io.EOF {
		t.Errorf("with max-cram-ratio=1000: %v", err)
	}
}
