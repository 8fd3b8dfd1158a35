package integration

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"
)

// With -throttle aws each account is held to AWS's quotas per operation:
// the second CreateSequenceStore of a second is answered with the
// ThrottlingException the SDKs retry, another account is not held back by
// the first, the refusal is counted in the metrics, and once the window has passed
// the call goes through again.
func TestThrottlingAtAWSQuotas(t *testing.T) {
	ctx := context.Background()
	cfg := newConfig(t, backends[0])
	// Half AWS's rates: one CreateSequenceStore in two seconds, so that
	// even a slow machine sends the second within the window.
	cfg.Throttle, cfg.ThrottleScale = "aws", 0.5
	in := start(t, backends[0], cfg)
	admin := in.startAdmin(t)
	noRetry := func(o *omics.Options) { o.RetryMaxAttempts = 1 }
	c := in.goClient(in.rootKey(), noRetry)
	other := in.goClient(in.newAccount(t, "210987654321"), noRetry)

	create := func(c *omics.Client) error {
		_, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("throttled")})
		return err
	}
	if err := create(c); err != nil {
		t.Fatal(err)
	}
	err := create(c)
	var te *types.ThrottlingException
	if !errors.As(err, &te) {
		t.Fatalf("a second CreateSequenceStore at once: %v, want ThrottlingException", err)
	}
	if err := create(other); err != nil {
		t.Fatalf("another account's CreateSequenceStore: %v", err)
	}
	// Listing has a rate of its own.
	if _, err := c.ListSequenceStores(ctx, &omics.ListSequenceStoresInput{}); err != nil {
		t.Fatalf("ListSequenceStores after a throttled create: %v", err)
	}
	if v, _ := sample(scrape(t, admin), "seqstore_throttled_requests_total", "operation", "CreateSequenceStore"); v != 1 {
		t.Errorf("seqstore_throttled_requests_total{operation=CreateSequenceStore} = %v, want 1", v)
	}
	time.Sleep(2 * time.Second)
	if err := create(c); err != nil {
		t.Fatalf("CreateSequenceStore two seconds later: %v", err)
	}
}
