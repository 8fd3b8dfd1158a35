package sigv4

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// sdkHeaders are the headers the Go SDK's omics client adds and signs.
var sdkHeaders = http.Header{
	"Amz-Sdk-Invocation-Id": {"6c6f2a1e-0bb1-4b61-9a2b-8e6f0c1d2e3f"},
	"Amz-Sdk-Request":       {"attempt=1; max=3"},
	"User-Agent":            {"aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26 md/GOOS#linux api/omics#1.49.5"},
}

// BenchmarkVerifyGET is the load benchmark's request: a signed
// GetReadSetMetadata as the Go SDK sends it.
func BenchmarkVerifyGET(b *testing.B) {
	h := sdkHeaders.Clone()
	h.Set("X-Amz-Content-Sha256", emptySHA256)
	r := onWire(b, goSign(b, clientRequest{method: "GET", header: h,
		url: "http://control-storage-localhost:9393/sequencestore/1234567890/readset/1234567890/metadata"}, ""), nil)
	v := newVerifier()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyGETParallel(b *testing.B) {
	r := onWire(b, goSign(b, clientRequest{method: "GET", header: sdkHeaders,
		url: "http://control-storage-localhost:9393/sequencestore/1234567890/readset/1234567890/metadata"}, ""), nil)
	v := newVerifier()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(r, Options{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkVerifyPOSTJSON: a ListReadSets with a query and a small JSON
// body, which is read into memory and hashed. Resetting the body costs two
// of the allocations reported.
func BenchmarkVerifyPOSTJSON(b *testing.B) {
	body := `{"filter":{"status":"ACTIVE","createdAfter":"2024-01-02T03:04:05Z","sampleId":"sample-1"}}`
	h := sdkHeaders.Clone()
	h.Set("Content-Type", "application/json")
	r := onWire(b, goSign(b, clientRequest{method: "POST", header: h, body: body,
		url: "http://control-storage-localhost:9393/sequencestore/1234567890/readsets?maxResults=50&nextToken=abc%2Fdef"}, ""), nil)
	v := newVerifier()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r.Body = io.NopCloser(strings.NewReader(body))
		if _, err := v.Verify(r, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPresigned(b *testing.B) {
	r := goPresign(b, "http://storage-localhost:9393/sequencestore/1234567890/readset/1234567890?partNumber=1&file=SOURCE1", unsignedPayload, 3600, nil, nil)
	v := newVerifier()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyStreamedPart: an 8 MiB UploadReadSetPart whose signed
// X-Amz-Content-Sha256 is checked while the body is read; the figure is
// SHA-256's speed plus the copy.
func BenchmarkVerifyStreamedPart(b *testing.B) {
	part := bytes.Repeat([]byte("ACGTNACGTA"), 8<<20/10)
	hash := sha256Hex(part)
	h := http.Header{"X-Amz-Content-Sha256": {hash}}
	signed := goSign(b, clientRequest{method: "PUT", header: h, body: string(part),
		url: "http://storage-localhost:9393/sequencestore/1234567890/upload/1111111111/part?partSource=SOURCE1&partNumber=1"}, hash)
	r := onWire(b, signed, nil)
	v := newVerifier()
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(part)))
	b.ReportAllocs()
	for b.Loop() {
		r.Body = io.NopCloser(bytes.NewReader(part))
		if _, err := v.Verify(r, Options{AllowUnsignedPayload: true}); err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r.Body}, buf); err != nil {
			b.Fatal(err)
		}
	}
}
