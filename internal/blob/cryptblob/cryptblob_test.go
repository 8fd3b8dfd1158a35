package cryptblob_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/blob/blobtest"
	"github.com/seqstore/seqstore/internal/blob/cryptblob"
	"github.com/seqstore/seqstore/internal/blob/fileblob"
	"github.com/seqstore/seqstore/internal/blob/s3blob"
	"github.com/seqstore/seqstore/internal/keyring"
	"github.com/seqstore/seqstore/internal/testutil/leak"
	"github.com/seqstore/seqstore/internal/testutil/s3server"
)

// prefixPolicy encrypts everything under "plain/" not at all, and every
// other key with the key named "lab".
type prefixPolicy struct{}

func (prefixPolicy) KeyName(_ context.Context, key string) (string, error) {
	if strings.HasPrefix(key, "plain/") {
		return "", nil
	}
	return "lab", nil
}

// writeRing writes a keyring file with the given lines of fresh keys
// ("name version") and loads it.
func writeRing(t testing.TB, path string, keys ...string) *keyring.Ring {
	t.Helper()
	var b strings.Builder
	for _, k := range keys {
		var name string
		var version int
		if _, err := fmt.Sscan(k, &name, &version); err != nil {
			t.Fatal(err)
		}
		line, err := keyring.NewKeyLine(name, version)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(line)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ring, err := keyring.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

// fileStores opens an encrypting store over a directory, and the directory
// itself as a plain store to look at and tamper with the bytes at rest.
func fileStores(t testing.TB, ring *keyring.Ring) (enc *cryptblob.Store, raw blob.Store) {
	t.Helper()
	dir := t.TempDir()
	base, err := fileblob.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, err = fileblob.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return cryptblob.New(base, ring, prefixPolicy{}), raw
}

func TestConformanceOnFiles(t *testing.T) {
	ring := writeRing(t, filepath.Join(t.TempDir(), "keys"), "lab 1")
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, _ := fileStores(t, ring)
		return s
	})
}

func TestConformanceOnS3(t *testing.T) {
	ring := writeRing(t, filepath.Join(t.TempDir(), "keys"), "lab 1")
	srv := s3server.StartServer(t)
	n := 0
	blobtest.Run(t, func(t *testing.T) blob.Store {
		n++
		bucket := fmt.Sprintf("crypt-%d", n)
		if err := srv.CreateBucket(context.Background(), bucket); err != nil {
			t.Fatal(err)
		}
		base, err := s3blob.Open(context.Background(), s3blob.Config{
			Endpoint: srv.Endpoint, Region: srv.Region, Bucket: bucket,
			AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey,
			PartSize: s3blob.MinPartSize, Concurrency: 2,
		})
		if err != nil {
			t.Fatalf("%v\nserver log:\n%s", err, srv.Output())
		}
		return cryptblob.New(base, ring, prefixPolicy{})
	})
}

func TestCipherSizeCoversChunkBoundaries(t *testing.T) {
	ring := writeRing(t, filepath.Join(t.TempDir(), "keys"), "lab 1")
	enc, raw := fileStores(t, ring)
	for _, n := range []int{0, 1, cryptblob.ChunkSize - 1, cryptblob.ChunkSize, cryptblob.ChunkSize + 1, 3 * cryptblob.ChunkSize} {
		key := fmt.Sprintf("sizes/%d", n)
		data := blobtest.Content(uint64(n), n)
		blobtest.Put(t, enc, key, data)
		a, err := raw.Stat(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if a.Size != cryptblob.CipherSize(int64(n)) {
			t.Errorf("%d bytes are %d at rest, CipherSize says %d", n, a.Size, cryptblob.CipherSize(int64(n)))
		}
		if p, err := enc.Stat(context.Background(), key); err != nil || p.Size != int64(n) {
			t.Errorf("Stat of %d bytes = %d, %v", n, p.Size, err)
		}
		if got := blobtest.Get(t, enc, key); !bytes.Equal(got, data) {
			t.Errorf("%d bytes read back differently", n)
		}
	}
}

// sample is what a read-set file looks like: gzip with read names inside.
func sample(t testing.TB) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	for i := range 5000 {
		fmt.Fprintf(zw, "@read-name-%06d\nACGTACGTAC\n+\nIIIIIIIIII\n", i)
	}
	zw.Close()
	// Stored uncompressed too, so that the names are in the plaintext.
	return append(b.Bytes(), []byte("@read-name-000001 BAM\x01")...)
}

func TestBytesAtRestHoldNoPlaintext(t *testing.T) {
	ring := writeRing(t, filepath.Join(t.TempDir(), "keys"), "lab 1")
	enc, raw := fileStores(t, ring)
	data := sample(t)
	blobtest.Put(t, enc, "readsets/a/s/r/source1", data)
	blobtest.Put(t, enc, "plain/control", data)
	atRest := blobtest.Get(t, raw, "readsets/a/s/r/source1")
	// Needles long enough that random ciphertext does not hold them by
	// chance: gzip's whole 10-byte header, not its 2-byte magic, which
	// tens of KiB of random bytes hold about half the time.
	for _, needle := range [][]byte{data[:10], []byte("BAM\x01"), []byte("read-name")} {
		if bytes.Contains(atRest, needle) {
			t.Errorf("the encrypted object holds %q at rest", needle)
		}
		if !bytes.Contains(blobtest.Get(t, raw, "plain/control"), needle) {
			t.Errorf("the control object lacks %q, so the check above proves nothing", needle)
		}
	}
}

func TestTamperingFailsTheRead(t *testing.T) {
	ring := writeRing(t, filepath.Join(t.TempDir(), "keys"), "lab 1")
	const size = 5*cryptblob.ChunkSize + 1234
	data := blobtest.Content(7, size)
	lastChunk := int64(cryptblob.HeaderSize + 5*(cryptblob.ChunkSize+16))
	tests := []struct {
		name   string
		change func(b []byte) []byte
	}{
		{"a flipped byte in the header's magic", func(b []byte) []byte { b[2] ^= 1; return b }},
		{"a flipped byte in the wrapped data key", func(b []byte) []byte { b[cryptblob.HeaderSize-20] ^= 1; return b }},
		{"a flipped byte in the first chunk", func(b []byte) []byte { b[cryptblob.HeaderSize+10] ^= 0x80; return b }},
		{"a flipped byte in a middle chunk", func(b []byte) []byte { b[cryptblob.HeaderSize+2*(cryptblob.ChunkSize+16)+5] ^= 1; return b }},
		{"a flipped byte in a tag", func(b []byte) []byte { b[lastChunk-1] ^= 1; return b }},
		{"the last chunk cut off", func(b []byte) []byte { return b[:lastChunk] }},
		{"one byte cut off", func(b []byte) []byte { return b[:len(b)-1] }},
		{"one byte added", func(b []byte) []byte { return append(b, 0) }},
		{"two chunks swapped", func(b []byte) []byte {
			c1 := bytes.Clone(b[cryptblob.HeaderSize : cryptblob.HeaderSize+cryptblob.ChunkSize+16])
			copy(b[cryptblob.HeaderSize:], b[cryptblob.HeaderSize+cryptblob.ChunkSize+16:cryptblob.HeaderSize+2*(cryptblob.ChunkSize+16)])
			copy(b[cryptblob.HeaderSize+cryptblob.ChunkSize+16:], c1)
			return b
		}},
		{"replaced by the plaintext", func([]byte) []byte { return bytes.Clone(data) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc, raw := fileStores(t, ring)
			blobtest.Put(t, enc, "obj/x", data)
			blobtest.Put(t, raw, "obj/x", tc.change(blobtest.Get(t, raw, "obj/x")))
			got, err := blobtest.ReadRange(enc, "obj/x", 0, -1)
			if !errors.Is(err, cryptblob.ErrIntegrity) {
				t.Errorf("whole read: error %v, want ErrIntegrity", err)
			}
			// Whatever came out before the error is a true prefix.
			if !bytes.HasPrefix(data, got) {
				t.Errorf("whole read returned %d bytes that are not the object's", len(got))
			}
		})
	}
	t.Run("a range away from a flipped byte still reads", func(t *testing.T) {
		enc, raw := fileStores(t, ring)
		blobtest.Put(t, enc, "obj/x", data)
		b := blobtest.Get(t, raw, "obj/x")
		b[cryptblob.HeaderSize+3*(cryptblob.ChunkSize+16)+5] ^= 1
		blobtest.Put(t, raw, "obj/x", b)
		got, err := blobtest.ReadRange(enc, "obj/x", cryptblob.ChunkSize+7, cryptblob.ChunkSize)
		if err != nil || !bytes.Equal(got, data[cryptblob.ChunkSize+7:2*cryptblob.ChunkSize+7]) {
			t.Errorf("range in untouched chunks: %d bytes, %v", len(got), err)
		}
		if _, err := blobtest.ReadRange(enc, "obj/x", 3*cryptblob.ChunkSize+100, 10); !errors.Is(err, cryptblob.ErrIntegrity) {
			t.Errorf("range in the changed chunk: error %v, want ErrIntegrity", err)
		}
	})
	t.Run("an object moved to another key does not open", func(t *testing.T) {
		enc, raw := fileStores(t, ring)
		blobtest.Put(t, enc, "obj/x", data)
		blobtest.Put(t, raw, "obj/y", blobtest.Get(t, raw, "obj/x"))
		if _, err := blobtest.ReadRange(enc, "obj/y", 0, -1); !errors.Is(err, cryptblob.ErrIntegrity) {
			t.Errorf("error %v, want ErrIntegrity", err)
		}
	})
}

func TestRangesTouchOnlyTheirChunks(t *testing.T) {
	ring := writeRing(t, filepath.Join(t.TempDir(), "keys"), "lab 1")
	enc, _ := fileStores(t, ring)
	const size = 4*cryptblob.ChunkSize + 99
	data := blobtest.Content(3, size)
	blobtest.Put(t, enc, "obj/r", data)
	C := int64(cryptblob.ChunkSize)
	for _, r := range [][2]int64{{0, 1}, {C - 1, 2}, {C, C}, {2*C + 5, -1}, {4 * C, 99}, {4*C + 98, 1}, {size, -1}, {3, 4*C + 50}} {
		got, err := blobtest.ReadRange(enc, "obj/r", r[0], r[1])
		end := int64(size)
		if r[1] >= 0 && r[0]+r[1] < end {
			end = r[0] + r[1]
		}
		if err != nil || !bytes.Equal(got, data[r[0]:end]) {
			t.Errorf("range %d+%d: %d bytes, %v", r[0], r[1], len(got), err)
		}
	}
	if _, err := blobtest.ReadRange(enc, "obj/r", size+1, 1); !errors.Is(err, blob.ErrOutOfRange) {
		t.Errorf("past the end: %v, want ErrOutOfRange", err)
	}
}

func TestMissingKeyVersionIsNamed(t *testing.T) {
	dir := t.TempDir()
	ring := writeRing(t, filepath.Join(dir, "keys"), "lab 1")
	enc, raw := fileStores(t, ring)
	blobtest.Put(t, enc, "obj/x", []byte("hello"))
	other := writeRing(t, filepath.Join(dir, "other"), "lab 1")
	_, err := blobtest.ReadRange(cryptblob.New(raw, other, prefixPolicy{}), "obj/x", 0, -1)
	if !errors.Is(err, keyring.ErrUnknownKey) || !strings.Contains(err.Error(), "obj/x") {
		t.Errorf("read with a keyring lacking the key: %v, want ErrUnknownKey naming the object", err)
	}
	if _, err := enc.NewWriter(context.Background(), "obj/x"); err != nil {
		t.Fatal(err)
	}
	noLab := writeRing(t, filepath.Join(dir, "nolab"), "else 1")
	if _, err := cryptblob.New(raw, noLab, prefixPolicy{}).NewWriter(context.Background(), "obj/z"); !errors.Is(err, keyring.ErrUnknownKey) || !strings.Contains(err.Error(), `"lab"`) {
		t.Errorf("write with a keyring lacking the key: %v, want ErrUnknownKey naming it", err)
	}
}

func TestRotationAndRewrap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	v1 := writeRing(t, path, "lab 1")
	base, err := fileblob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	old := blobtest.Content(1, 3*cryptblob.ChunkSize)
	blobtest.Put(t, cryptblob.New(base, v1, prefixPolicy{}), "obj/old", old)

	v2 := writeRing(t, path, "lab 2") // appends version 2
	enc := cryptblob.New(base, v2, prefixPolicy{})
	fresh := blobtest.Content(2, 1000)
	blobtest.Put(t, enc, "obj/new", fresh)
	if got := blobtest.Get(t, enc, "obj/old"); !bytes.Equal(got, old) {
		t.Fatal("an object of version 1 no longer reads after rotation")
	}
	// The new object is wrapped by version 2: a ring of version 1 alone
	// cannot read it.
	if _, err := blobtest.ReadRange(cryptblob.New(base, v1, prefixPolicy{}), "obj/new", 0, -1); !errors.Is(err, keyring.ErrUnknownKey) {
		t.Fatalf("version 1 read a version 2 object: %v", err)
	}

	before := blobtest.Get(t, base, "obj/old")
	for key, want := range map[string]bool{"obj/old": true, "obj/new": false, "plain/x": false} {
		if key == "plain/x" {
			blobtest.Put(t, enc, key, []byte("p"))
		}
		changed, err := enc.Rewrap(context.Background(), key)
		if err != nil || changed != want {
			t.Errorf("Rewrap(%s) = %v, %v; want %v", key, changed, err, want)
		}
	}
	after := blobtest.Get(t, base, "obj/old")
	if !bytes.Equal(before[cryptblob.HeaderSize:], after[cryptblob.HeaderSize:]) {
		t.Error("rewrap changed the chunks; it should copy them as they are")
	}
	if bytes.Equal(before[:cryptblob.HeaderSize], after[:cryptblob.HeaderSize]) {
		t.Error("rewrap left the header as it was")
	}
	// Version 1 can go now: a ring with version 2 alone reads everything.
	only2 := filepath.Join(t.TempDir(), "keys")
	lines, _ := os.ReadFile(path)
	os.WriteFile(only2, []byte(strings.SplitAfter(string(lines), "\n")[1]), 0o600)
	ring2, err := keyring.Load(only2)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := blobtest.ReadRange(cryptblob.New(base, ring2, prefixPolicy{}), "obj/old", 0, -1); err != nil || !bytes.Equal(got, old) {
		t.Errorf("after rewrap, without version 1: %d bytes, %v", len(got), err)
	}
}

func TestWriterReadFromMatchesWrite(t *testing.T) {
	ring := writeRing(t, filepath.Join(t.TempDir(), "keys"), "lab 1")
	enc, _ := fileStores(t, ring)
	data := blobtest.Content(9, 3*cryptblob.ChunkSize+17)
	w, err := enc.NewWriter(context.Background(), "obj/rf")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.ReadFrom(io.MultiReader(bytes.NewReader(data[:100]), bytes.NewReader(data[100:]))); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := blobtest.Get(t, enc, "obj/rf"); !bytes.Equal(got, data) {
		t.Error("ReadFrom wrote different bytes")
	}
}

// BenchmarkFiles measures encryption's cost next to the same directory
// without it: go test -bench . -benchtime 20x ./internal/blob/cryptblob
func BenchmarkFiles(b *testing.B) {
	ring := writeRing(b, filepath.Join(b.TempDir(), "keys"), "lab 1")
	b.Run("plain", func(b *testing.B) {
		s, err := fileblob.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		blobtest.Bench(b, s)
	})
	b.Run("encrypted", func(b *testing.B) {
		s, _ := fileStores(b, ring)
		defer s.Close()
		blobtest.Bench(b, s)
	})
}

func TestWriteToMatchesRead(t *testing.T) {
	ring := writeRing(t, filepath.Join(t.TempDir(), "keys"), "lab 1")
	enc, raw := fileStores(t, ring)
	data := blobtest.Content(5, 3*cryptblob.ChunkSize+5)
	blobtest.Put(t, enc, "obj/w", data)
	r, err := enc.NewRangeReader(context.Background(), "obj/w", 7, 2*cryptblob.ChunkSize)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := r.(io.WriterTo).WriteTo(&got); err != nil || !bytes.Equal(got.Bytes(), data[7:7+2*cryptblob.ChunkSize]) {
		t.Errorf("WriteTo: %d bytes, %v", got.Len(), err)
	}
	r.Close()
	// A changed chunk stops WriteTo with ErrIntegrity after the good ones.
	b := blobtest.Get(t, raw, "obj/w")
	b[len(b)-20] ^= 1
	blobtest.Put(t, raw, "obj/w", b)
	r, err = enc.NewRangeReader(context.Background(), "obj/w", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got.Reset()
	if _, err := r.(io.WriterTo).WriteTo(&got); !errors.Is(err, cryptblob.ErrIntegrity) || !bytes.Equal(got.Bytes(), data[:3*cryptblob.ChunkSize]) {
		t.Errorf("WriteTo of a changed object: %d bytes, %v", got.Len(), err)
	}
}

func TestReadersOpeningAheadStopWhenClosed(t *testing.T) {
	ring := writeRing(t, filepath.Join(t.TempDir(), "keys"), "lab 1")
	enc, _ := fileStores(t, ring)
	data := blobtest.Content(6, 20*cryptblob.ChunkSize+3)
	blobtest.Put(t, enc, "obj/long", data)
	check := leak.Check(t)
	for _, readFirst := range []int{0, 10, cryptblob.ChunkSize + 5, len(data)} {
		r, err := enc.NewRangeReader(context.Background(), "obj/long", 1, -1)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, readFirst)
		if _, err := io.ReadFull(r, got[:min(readFirst, len(data)-1)]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[:min(readFirst, len(data)-1)], data[1:1+min(readFirst, len(data)-1)]) {
			t.Errorf("after %d bytes: other bytes", readFirst)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	check()
}

// Long ranges are opened ahead by several goroutines at once; the chunks
// must still come out in order, and a bad one must stop the read exactly
// after the good chunks before it.
func TestLongRangesOpenInOrder(t *testing.T) {
	cryptblob.DecideAheadAfter(t, 0)
	ring := writeRing(t, filepath.Join(t.TempDir(), "keys"), "lab 1")
	enc, raw := fileStores(t, ring)
	const chunks = 40
	C := int64(cryptblob.ChunkSize)
	data := blobtest.Content(11, chunks*cryptblob.ChunkSize+777)
	blobtest.Put(t, enc, "obj/long", data)
	for _, r := range []struct{ off, n int64 }{
		{0, -1}, {1, -1}, {C - 1, 30*C + 2}, {5*C + 3, 8 * C}, {int64(len(data)) - 6*C - 1, -1},
	} {
		got, err := blobtest.ReadRange(enc, "obj/long", r.off, r.n)
		end := int64(len(data))
		if r.n >= 0 {
			end = r.off + r.n
		}
		if err != nil || !bytes.Equal(got, data[r.off:end]) {
			t.Errorf("range %d+%d: %d bytes, %v; want bytes %d to %d", r.off, r.n, len(got), err, r.off, end)
		}
	}
	const bad = 23
	b := blobtest.Get(t, raw, "obj/long")
	b[cryptblob.HeaderSize+bad*(cryptblob.ChunkSize+16)+100] ^= 4
	blobtest.Put(t, raw, "obj/long", b)
	got, err := blobtest.ReadRange(enc, "obj/long", 0, -1)
	if !errors.Is(err, cryptblob.ErrIntegrity) || !bytes.Equal(got, data[:bad*cryptblob.ChunkSize]) {
		t.Errorf("read past chunk %d changed at rest: %d bytes, %v; want the %d bytes before it and ErrIntegrity", bad, len(got), err, bad*cryptblob.ChunkSize)
	}
}

// A long range opens ahead only if no other long range is being read when
// it decides, a moment after it starts (at once here): reads in parallel
// spread the work over the cores already. Each reads the right bytes
// either way, and once the others are closed, the next read alone opens
// ahead again.
func TestOnlyALoneLongReadOpensAhead(t *testing.T) {
	cryptblob.DecideAheadAfter(t, 0)
	ring := writeRing(t, filepath.Join(t.TempDir(), "keys"), "lab 1")
	enc, _ := fileStores(t, ring)
	data := blobtest.Content(12, 20*cryptblob.ChunkSize+5)
	blobtest.Put(t, enc, "obj/long", data)
	ctx := context.Background()
	// open starts a read of all but the first 3 bytes and reads its first
	// 6 chunks, past the point where it decides.
	open := func() (io.ReadCloser, []byte) {
		r, err := enc.NewRangeReader(ctx, "obj/long", 3, -1)
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 6*cryptblob.ChunkSize)
		if _, err := io.ReadFull(r, head); err != nil {
			t.Fatal(err)
		}
		return r, head
	}
	alone, aloneHead := open()
	if !cryptblob.OpensAhead(alone) {
		t.Error("a long read alone does not open ahead")
	}
	second, secondHead := open()
	if cryptblob.OpensAhead(second) {
		t.Error("a long read alongside another opens ahead")
	}
	// A short range never opens ahead, and does not count.
	short, err := enc.NewRangeReader(ctx, "obj/long", 0, cryptblob.ChunkSize)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range []struct {
		rc   io.ReadCloser
		head []byte
		want []byte
	}{{second, secondHead, data[3:]}, {alone, aloneHead, data[3:]}, {short, nil, data[:cryptblob.ChunkSize]}} {
		rest, err := io.ReadAll(r.rc)
		if got := append(r.head, rest...); err != nil || !bytes.Equal(got, r.want) {
			t.Errorf("read %d: %d bytes, %v; want %d", i, len(got), err, len(r.want))
		}
		r.rc.Close()
	}
	third, _ := open()
	defer third.Close()
	if !cryptblob.OpensAhead(third) {
		t.Error("a long read alone after the others were closed does not open ahead")
	}
}
