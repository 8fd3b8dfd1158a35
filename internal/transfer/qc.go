package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/omics"
)

// maxQCReport bounds the QC report read from a server: reports of long
// reads, with a table of 16384 positions, stay well under it.
const maxQCReport = 64 << 20

// QCError is an error the server answered a QC request with.
type QCError struct {
	Status  int
	Code    string
	Message string
}

func (e *QCError) Error() string {
	return fmt.Sprintf("%s: %s (HTTP %d)", e.Code, e.Message, e.Status)
}

// ReadSetQC fetches the quality-control report a seqstore server computed
// for a read set when it ingested it: GET
// /sequencestore/{id}/readset/{id}/qc, signed with the client's
// credentials like every request of the API. It is seqstore's own
// operation, which AWS HealthOmics does not serve, so it needs an endpoint.
func ReadSetQC(ctx context.Context, api *omics.Client, storeID, readSetID string) ([]byte, error) {
	o := api.Options()
	if o.BaseEndpoint == nil || *o.BaseEndpoint == "" {
		return nil, fmt.Errorf("QC reports are served by seqstore, not by AWS HealthOmics: give the server's -endpoint-url (or set AWS_ENDPOINT_URL_OMICS)")
	}
	u := strings.TrimSuffix(*o.BaseEndpoint, "/") + "/sequencestore/" + url.PathEscape(storeID) + "/readset/" + url.PathEscape(readSetID) + "/qc"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	creds, err := o.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("getting AWS credentials: %w", err)
	}
	empty := sha256.Sum256(nil)
	payloadHash := hex.EncodeToString(empty[:])
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, payloadHash, "omics", o.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("signing the request: %w", err)
	}
	resp, err := o.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxQCReport+1))
	if err != nil {
		return nil, fmt.Errorf("reading the QC report: %w", err)
	}
	if len(body) > maxQCReport {
		return nil, fmt.Errorf("the QC report is larger than %d bytes", maxQCReport)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		json.Unmarshal(body, &e)
		code := resp.Header.Get("X-Amzn-Errortype")
		if code == "" {
			code = http.StatusText(resp.StatusCode)
		}
		return nil, &QCError{Status: resp.StatusCode, Code: code, Message: e.Message}
	}
	return body, nil
}
