package compress

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/seqstore/seqstore/internal/format/bgzf"
)

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestOpen(t *testing.T) {
	text := []byte("@r\nACGT\n+\n!!!!\n")
	var bg bytes.Buffer
	w := bgzf.NewWriter(&bg)
	w.Write(text)
	w.Close()
	tests := []struct {
		name string
		in   []byte
		kind Kind
		want []byte
	}{
		{"plain text", text, Plain, text},
		{"gzip", gz(text), Gzip, text},
		{"two gzip members", append(gz(text[:5]), gz(text[5:])...), Gzip, text},
		{"BGZF", bg.Bytes(), BGZF, text},
		{"an empty file", nil, Plain, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, kind, err := Open(bytes.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			if err != nil || kind != tt.kind || !bytes.Equal(got, tt.want) {
				t.Fatalf("kind %s, %q, %v; want %s %q", kind, got, err, tt.kind, tt.want)
			}
		})
	}
}

func TestTruncatedGzipFails(t *testing.T) {
	z := gz(bytes.Repeat([]byte("ACGT"), 10000))
	rc, _, err := Open(bytes.NewReader(z[:len(z)/2]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(rc); err == nil {
		t.Fatal("a truncated gzip read without error")
	}
}

func FuzzOpen(f *testing.F) {
	f.Add(gz([]byte("@r\nA\n+\n!\n")))
	f.Add([]byte("plain"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rc, _, err := Open(bytes.NewReader(b))
		if err != nil {
			return
		}
		io.Copy(io.Discard, rc)
		rc.Close()
	})
}
