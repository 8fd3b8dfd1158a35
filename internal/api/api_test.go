package api

import (
	"fmt"
	"testing"

	"github.com/seqstore/seqstore"
)

func TestMapError(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		code   string
		status int
	}{
		{"a validation error", seqstore.Errorf(seqstore.CodeValidation, "bad"), "ValidationException", 400},
		{"a missing resource", fmt.Errorf("wrapped: %w", seqstore.Errorf(seqstore.CodeNotFound, "gone")), "ResourceNotFoundException", 404},
		{"a conflict", seqstore.Errorf(seqstore.CodeConflict, "busy"), "ConflictException", 409},
		{"a quota", seqstore.Errorf(seqstore.CodeQuotaExceeded, "full"), "ServiceQuotaExceededException", 402},
		{"a bad token", errBadToken, "ValidationException", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mapError(tt.err)
			if got == nil || got.Code != tt.code || got.Status != tt.status {
				t.Fatalf("mapError(%v) = %+v, want %s %d", tt.err, got, tt.code, tt.status)
			}
		})
	}
	if mapError(fmt.Errorf("disk on fire")) != nil {
		t.Fatal("an unknown error must be left to the router as an internal error")
	}
}
