package transfer

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// APIConfig says where the API is and who calls it. Empty fields fall back
// to the standard AWS chain: the environment (AWS_REGION,
// AWS_ENDPOINT_URL_OMICS, AWS_PROFILE, ...), then the shared config and
// credentials files.
type APIConfig struct {
	Profile  string
	Region   string
	Endpoint string
	// Connections is how many connections to keep open to the endpoint;
	// at least the number of parts that travel at once.
	Connections int
}

// responseTimeout is how long a request may wait for the answer's headers
// once it is sent.
const responseTimeout = 5 * time.Minute

// NewAPI makes an omics client from the standard AWS chain. When an
// endpoint is set, by Endpoint or by the chain, host prefixes are turned
// off, since a self-hosted server's name cannot carry them; with none set
// the client talks to AWS HealthOmics as any AWS client does.
func NewAPI(ctx context.Context, c APIConfig) (*omics.Client, error) {
	var opts []func(*config.LoadOptions) error
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	conns := max(c.Connections, DefaultConcurrency) + 2
	opts = append(opts, config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = conns
		// Parts are large: bigger socket buffers cut system calls.
		t.WriteBufferSize = 256 << 10
		t.ReadBufferSize = 256 << 10
		// A server that took a part and went silent should not hold the
		// command for ever; storing a 100 MiB part takes seconds.
		t.ResponseHeaderTimeout = responseTimeout
	})))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("no AWS region: set AWS_REGION, give -region, or set region in the profile")
	}
	return omics.NewFromConfig(cfg, func(o *omics.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		if o.BaseEndpoint != nil {
			o.APIOptions = append(o.APIOptions, disableHostPrefix)
		}
	}), nil
}

// disableHostPrefix stops the client putting control-storage- or storage-
// in front of the endpoint's host name.
func disableHostPrefix(s *middleware.Stack) error {
	return s.Initialize.Add(middleware.InitializeMiddlewareFunc("DisableHostPrefix",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}
