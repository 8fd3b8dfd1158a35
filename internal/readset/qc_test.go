package readset

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/qc"
)

// wantNotFound checks that err is a NotFound whose message says what.
func wantNotFound(t *testing.T, what string, err error, says string) {
	t.Helper()
	var se *seqstore.Error
	if !errors.As(err, &se) || se.Code != seqstore.CodeNotFound || !strings.Contains(se.Message, says) {
		t.Errorf("%s: %v, want NotFound saying %q", what, err, says)
	}
}

// Ingestion stores the QC report with the read set, naming the stored
// file; a read set without one says why, in the words of its status.
func TestIngestStoresTheQCReport(t *testing.T) {
	e := newEnv(t)
	rs := e.complete(fastqGz(50))
	_, err := e.svc.QC(e.ctx, testAccount, e.store, rs.ID)
	wantNotFound(t, "before ingestion", err, "still being ingested")
	e.svc.Ingest(e.ctx, rs)
	body, err := e.svc.QC(e.ctx, testAccount, e.store, rs.ID)
	if err != nil {
		t.Fatal(err)
	}
	var rep qc.Report
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	src1, _ := e.get(rs.ID).File(seqstore.FileSource1)
	if rep.FileType != seqstore.FileTypeFASTQ || len(rep.Sources) != 1 || rep.Sources[0].Reads.Reads != 50 ||
		rep.Sources[0].FileName != src1.Name || rep.Sources[0].Reads.Bases != 500 {
		t.Errorf("report %s, want FASTQ of 50 reads of 10 bases in %s", body, src1.Name)
	}
	_, err = e.svc.QC(e.ctx, "222222222222", e.store, rs.ID)
	wantNotFound(t, "from another account", err, "does not exist")

	bad := e.complete(fastqGz(0))
	e.svc.Ingest(e.ctx, bad)
	_, err = e.svc.QC(e.ctx, testAccount, e.store, bad.ID)
	wantNotFound(t, "a failed read set", err, "ingestion failed")

	if _, err := e.svc.BatchDelete(e.ctx, testAccount, e.store, []string{rs.ID}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.QC(e.ctx, testAccount, e.store, rs.ID)
	wantNotFound(t, "a deleted read set", err, "does not exist")
}

// With QC turned off, ingestion still ends ACTIVE, with no report, and the
// read set says why it has none.
func TestIngestWithoutQCStoresNoReport(t *testing.T) {
	e := newEnv(t)
	e.svc.NoQC = true
	rs := e.complete(fastqGz(50))
	e.svc.Ingest(e.ctx, rs)
	if got := e.get(rs.ID); got.Status != seqstore.ReadSetStatusActive || got.SequenceInformation == nil || got.SequenceInformation.TotalReadCount != 50 {
		t.Fatalf("read set %s (%+v): %s", got.Status, got.SequenceInformation, got.StatusMessage)
	}
	_, err := e.svc.QC(e.ctx, testAccount, e.store, rs.ID)
	wantNotFound(t, "QC turned off", err, "-ingest-qc")
}
