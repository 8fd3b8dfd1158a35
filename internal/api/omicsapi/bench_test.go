package omicsapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/seqstore/seqstore/internal/sigv4"
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

// benchKeys is the one access key of the signed benchmark.
type benchKeys struct{}

func (benchKeys) SecretFor(ctx context.Context, id string) (string, string, error) {
	if id != "AKIDEXAMPLE" {
		return "", "", sigv4.ErrUnknownAccessKey
	}
	return "secret", "123456789012", nil
}

// BenchmarkSignedRoundTrip is the whole stack's figure: a SigV4-signed
// GetSequenceStore over loopback through NewRouter with the sigv4 verifier
// as Authenticate, against a bare net/http handler given the same signed
// request. The client signs in both, so the ratio is the server's cost.
func BenchmarkSignedRoundTrip(b *testing.B) {
	out, _ := (storeHandler{}).GetSequenceStore(context.Background(), &GetSequenceStoreInput{Id: "1234567890"})
	body := out.appendJSON(nil)
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	verifier := &sigv4.Verifier{Credentials: benchKeys{}, Service: "omics", Region: "us-east-1"}
	authenticate := func(r *http.Request, op *Operation) (context.Context, error) {
		if _, err := verifier.Verify(r, sigv4.Options{AllowUnsignedPayload: op.UnsignedPayload}); err != nil {
			return nil, err
		}
		return r.Context(), nil
	}
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}
	const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", bare},
		{"router", NewRouter(storeHandler{}, RouterOptions{Authenticate: authenticate})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := httptest.NewServer(bc.h)
			defer srv.Close()
			client := srv.Client()
			url := srv.URL + "/sequencestore/1234567890"
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest("GET", url, nil)
				if err := signer.SignHTTP(context.Background(), creds, req, emptyHash, "omics", "us-east-1", time.Now()); err != nil {
					b.Fatal(err)
				}
				resp, err := client.Do(req)
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
