package s3server

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestStartServesAnEmptyBucketAndStops(t *testing.T) {
	s := StartServer(t)
	ctx := context.Background()
	if err := s.CreateBucket(ctx, "probe"); err != nil {
		t.Fatal(err)
	}
	c := s.Client()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("probe"), Key: aws.String("k"), Body: strings.NewReader("v")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("probe")})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(out.Contents); got != 1 {
		t.Errorf("listed %d objects, want 1", got)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListBuckets(ctx, &s3.ListBucketsInput{}); err == nil {
		t.Error("the server still answers after Stop")
	}
}
