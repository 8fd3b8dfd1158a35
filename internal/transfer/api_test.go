package transfer

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// errStop ends a request before it leaves the machine.
var errStop = errors.New("stopped before sending")

// requestHost is the host a ListSequenceStores call would be sent to.
func requestHost(t *testing.T, api *omics.Client) string {
	t.Helper()
	var host string
	_, err := api.ListSequenceStores(context.Background(), &omics.ListSequenceStoresInput{}, func(o *omics.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("Capture",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					host = in.Request.(*smithyhttp.Request).URL.Host
					return middleware.FinalizeOutput{}, middleware.Metadata{}, errStop
				}), middleware.After)
		})
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("request was not stopped: %v", err)
	}
	return host
}

// clearAWSEnv leaves only the variables given, so that a developer's shell
// cannot steer the client.
func clearAWSEnv(t *testing.T, keep ...string) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	for _, kv := range keep {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Without an endpoint the client talks to AWS HealthOmics as any AWS client
// does, host prefix included; with one, from a flag or the environment, the
// prefix is off.
func TestNewAPIEndpoints(t *testing.T) {
	base := []string{"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	for _, tc := range []struct {
		name     string
		env      []string
		cfg      APIConfig
		wantHost string
	}{
		{"AWS", []string{"AWS_REGION=eu-west-2"}, APIConfig{}, "control-storage-omics.eu-west-2.amazonaws.com"},
		{"region flag", []string{"AWS_REGION=eu-west-2"}, APIConfig{Region: "us-east-1"}, "control-storage-omics.us-east-1.amazonaws.com"},
		{"endpoint flag", []string{"AWS_REGION=us-east-1"}, APIConfig{Endpoint: "http://127.0.0.1:9393"}, "127.0.0.1:9393"},
		{"endpoint variable", []string{"AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_OMICS=http://seqstore.lab:9393"}, APIConfig{}, "seqstore.lab:9393"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearAWSEnv(t, append(base, tc.env...)...)
			api, err := NewAPI(context.Background(), tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := requestHost(t, api); got != tc.wantHost {
				t.Errorf("request goes to %s, want %s", got, tc.wantHost)
			}
		})
	}
	clearAWSEnv(t, base...)
	if _, err := NewAPI(context.Background(), APIConfig{}); err == nil || !strings.Contains(err.Error(), "no AWS region") {
		t.Errorf("no region: %v", err)
	}
}
