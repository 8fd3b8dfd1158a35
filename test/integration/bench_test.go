package integration

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/omics"
)

// BenchmarkGetSequenceStore measures one signed GetSequenceStore through the
// whole server (SigV4, routing, SQLite, JSON) over loopback HTTP.
func BenchmarkGetSequenceStore(b *testing.B) {
	in := start(b, backends[0], nil)
	key := in.rootKey()
	st, err := in.goClient(key).CreateSequenceStore(context.Background(), &omics.CreateSequenceStoreInput{Name: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}
	const emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	b.RunParallel(func(pb *testing.PB) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		for pb.Next() {
			req, _ := http.NewRequest("GET", in.endpoint+"/sequencestore/"+*st.Id, nil)
			signer.SignHTTP(context.Background(), creds, req, emptySHA, "omics", "us-east-1", time.Now())
			resp, err := client.Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("%v %v", err, resp)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
