package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/omics"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and localhost
// and its key as PEM files, returning their paths and the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "seqstore test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// With -tls-cert and -tls-key the API is served over HTTPS: the Go SDK,
// trusting the certificate, uploads and reads back through it, and plain
// HTTP on the same port gets nowhere.
func TestTLS(t *testing.T) {
	certFile, keyFile, cert := selfSigned(t)
	cfg := newConfig(t, backends[0])
	cfg.API.TLSCert, cfg.API.TLSKey = certFile, keyFile
	in := start(t, backends[0], cfg)
	if !strings.HasPrefix(in.endpoint, "https://") {
		t.Fatalf("endpoint %s is not HTTPS", in.endpoint)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	key := in.rootKey()
	c := in.goClient(key, func(o *omics.Options) {
		o.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	})
	ctx := context.Background()
	store := newStore(t, c, "")
	fastq := filepath.Join(t.TempDir(), "r.fastq")
	writeFASTQ(t, fastq, 100, 0)
	id := uploadFiles(t, c, store, "FASTQ", "", 1<<20, fastq)
	meta := waitIngested(t, c, store, id)
	if got := *meta.SequenceInformation.TotalReadCount; got != 100 {
		t.Fatalf("read set over TLS has %d reads, want 100", got)
	}

	// A client that does not trust the certificate refuses it.
	if _, err := in.goClient(key).ListSequenceStores(ctx, &omics.ListSequenceStoresInput{}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a client without the certificate: %v, want a certificate error", err)
	}
	// Plain HTTP on the TLS port is not served.
	resp, err := http.Get("http://" + strings.TrimPrefix(in.endpoint, "https://") + "/sequencestores")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP on the TLS port: %d", resp.StatusCode)
		}
	}
}
