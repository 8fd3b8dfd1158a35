package omicsapi

// Operation describes one storage operation of the model; the generated
// Op<Name> variables and Operations hold one per operation.
type Operation struct {
	Name        string // e.g. "GetSequenceStore"
	Method      string // HTTP method
	URI         string // URI template, e.g. "/sequencestore/{id}"
	HostPrefix  string // "storage-", "control-storage-" or "tags-": clients prepend it to the host
	SuccessCode int    // 200, or 204 for TagResource and UntagResource

	StreamingInput  bool // the request body is the raw payload (UploadReadSetPart)
	StreamingOutput bool // the response body is the raw payload (GetReadSet, GetReference)
	// UnsignedPayload: clients sign the body as UNSIGNED-PAYLOAD.
	UnsignedPayload bool

	IdempotencyToken string // body member SDKs fill with a random token when unset ("" if none)
	ReadOnly         bool
	Idempotent       bool

	Paginated bool   // has a paginator (maxResults/nextToken)
	ResultKey string // the paginated list member, e.g. "sequenceStores"

	Errors []string // the error codes the model lists for it
}

// LookupOperation returns the operation called name, or nil.
func LookupOperation(name string) *Operation {
	for _, op := range Operations {
		if op.Name == name {
			return op
		}
	}
	return nil
}
