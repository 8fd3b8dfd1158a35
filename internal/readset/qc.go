package readset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/qc"
)

// The QC report of a read set is kept in the metadata store, as the JSON
// the API serves, rather than as an object beside the read set's files:
// it is small (tens of kilobytes for short reads), it is written in the
// same step that makes the read set ACTIVE, it stays readable while the
// files sit in the archive tier, and the database deletes it with the read
// set's row, so no object can outlive its read set.

// storeQC names each source's stored file in the report (FastQC's report
// names the file it read) and stores it with the read set.
func (s *Service) storeQC(ctx context.Context, rs *seqstore.ReadSet, files []seqstore.StoredFile, rep *qc.Report) error {
	if rep == nil {
		return nil
	}
	for i := range rep.Sources {
		kind := seqstore.FileSource1
		if rep.Sources[i].Source == "source2" {
			kind = seqstore.FileSource2
		}
		for _, f := range files {
			if f.Kind == kind {
				rep.Sources[i].FileName = f.Name
			}
		}
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("encoding the QC report: %w", err)
	}
	if err := s.Meta.ReadSetQCPut(ctx, rs.AccountID, rs.StoreID, rs.ID, b); err != nil {
		return fmt.Errorf("storing the QC report: %w", err)
	}
	return nil
}

// QC returns a read set's quality-control report, as stored: JSON of a
// qc.Report.
func (s *Service) QC(ctx context.Context, account, storeID, id string) ([]byte, error) {
	rs, err := s.Get(ctx, account, storeID, id)
	if err != nil {
		return nil, err
	}
	rep, err := s.Meta.ReadSetQCGet(ctx, account, storeID, id)
	if errors.Is(err, meta.ErrNotFound) {
		switch rs.Status {
		case seqstore.ReadSetStatusProcessingUpload:
			return nil, seqstore.Errorf(seqstore.CodeNotFound, "read set %s has no QC report yet: it is still being ingested; ask again when it is ACTIVE", id)
		case seqstore.ReadSetStatusUploadFailed:
			return nil, seqstore.Errorf(seqstore.CodeNotFound, "read set %s has no QC report: its ingestion failed (%s)", id, rs.StatusMessage)
		}
		return nil, seqstore.Errorf(seqstore.CodeNotFound, "read set %s has no QC report: it was ingested without QC (the server ran with -ingest-qc=false) or by a seqstore version that did not compute one; upload it again to get one", id)
	}
	return rep, err
}
