package api

import (
	"context"
	"regexp"

	"github.com/seqstore/seqstore/internal/api/omicsapi"
)

// OpGetReadSetQC is seqstore's own operation, beside the HealthOmics
// model's: the quality-control report ingestion computed for a read set,
// as JSON (see docs/qc.md). It is signed and scoped to the caller's account
// like every operation of the API.
var OpGetReadSetQC = &omicsapi.Operation{
	Name:        "GetReadSetQC",
	Method:      "GET",
	URI:         "/sequencestore/{sequenceStoreId}/readset/{id}/qc",
	HostPrefix:  "storage-",
	SuccessCode: 200,
	ReadOnly:    true,
	Idempotent:  true,
	Errors: []string{omicsapi.CodeAccessDeniedException, omicsapi.CodeResourceNotFoundException,
		omicsapi.CodeValidationException, omicsapi.CodeThrottlingException, omicsapi.CodeInternalServerException},
}

// idPattern is the model's pattern for sequence store and read set IDs.
var idPattern = regexp.MustCompile(`^[0-9]{10,36}$`)

// getReadSetQC serves OpGetReadSetQC: the stored report as it is, without
// reading it, so that this layer knows nothing of what it holds.
func (s *Server) getReadSetQC(ctx context.Context, labels map[string]string) ([]byte, error) {
	for _, name := range []string{"sequenceStoreId", "id"} {
		if v := labels[name]; !idPattern.MatchString(v) {
			return nil, omicsapi.NewValidationException("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]{10,36}", v, name)
		}
	}
	return s.rs.QC(ctx, account(ctx), labels["sequenceStoreId"], labels["id"])
}
