package omicsapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// storeHandler answers GetSequenceStore with a typical store, as the real
// server would from its metadata.
type storeHandler struct{ UnimplementedHandler }

var benchCreated = NewTime(time.Date(2024, 1, 12, 4, 50, 33, 548e6, time.UTC))

func (storeHandler) GetSequenceStore(ctx context.Context, in *GetSequenceStoreInput) (*GetSequenceStoreOutput, error) {
	return &GetSequenceStoreOutput{
		Id: in.Id, Arn: "arn:aws:omics:us-east-1:123456789012:sequenceStore/" + in.Id, Name: "benchmark store",
		Description: "a store for the benchmark", CreationTime: benchCreated, Status: SequenceStoreStatusActive,
		ETagAlgorithmFamily: ETagAlgorithmFamilyMd5up, SseConfig: &SseConfig{Type: EncryptionTypeKms},
	}, nil
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the router rather than a recorder.
type discardWriter struct{ header http.Header }

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkGetSequenceStore measures routing, binding, validation, the
// handler call and response encoding of one GetSequenceStore, in process.
func BenchmarkGetSequenceStore(b *testing.B) {
	rt := NewRouter(storeHandler{}, RouterOptions{})
	req := httptest.NewRequest("GET", "/sequencestore/1234567890", nil)
	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.header)
		rt.ServeHTTP(w, req)
	}
}

// BenchmarkRoundTrip compares a GetSequenceStore round trip over loopback
// through NewRouter with a bare net/http handler writing the same response.
// The ratio of the two is the router's cost as a client sees it.
func BenchmarkRoundTrip(b *testing.B) {
	body := (&GetSequenceStoreOutput{}).appendJSON(nil)
	if out, _ := (storeHandler{}).GetSequenceStore(context.Background(), &GetSequenceStoreInput{Id: "1234567890"}); out != nil {
		body = out.appendJSON(nil)
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", bare},
		{"router", NewRouter(storeHandler{}, RouterOptions{})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := httptest.NewServer(bc.h)
			defer srv.Close()
			client := srv.Client()
			url := srv.URL + "/sequencestore/1234567890"
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatal(resp.Status)
				}
			}
		})
	}
}
