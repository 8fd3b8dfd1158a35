package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore/internal/server"
)

// A server that stops in the middle of an ingestion leaves the read set in
// PROCESSING_UPLOAD, never ACTIVE with partial data; the next server (or
// another node, once the lease runs out) ingests it again from the parts.
func TestIngestionSurvivesAStopMidway(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg := newConfig(t, b)
			cfg.IngestLease = 2 * time.Second
			first := start(t, b, cfg)
			c := first.goClient(first.rootKey())
			store := newStore(t, c, "")
			dir := t.TempDir()
			path := filepath.Join(dir, "big.fq")
			want := writeFASTQ(t, path, 300_000, 1)
			id := uploadFiles(t, c, store, types.FileTypeFastq, "", 16<<20, path)
			// Stop as soon as ingestion has begun.
			time.Sleep(150 * time.Millisecond)
			first.stop()
			m, err := server.OpenMeta(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			md, err := m.ReadSetGet(context.Background(), "123456789012", store, id)
			m.Close()
			switch {
			case err != nil:
				t.Fatal(err)
			case md.Status == "ACTIVE":
				t.Log("ingestion finished before the stop; the restart below still checks the result")
			case md.Status != "PROCESSING_UPLOAD":
				t.Fatalf("after the stop the read set is %s, want PROCESSING_UPLOAD", md.Status)
			}
			second := start(t, b, cfg)
			c = second.goClient(second.rootKey())
			got := waitIngested(t, c, store, id)
			if got.Status != types.ReadSetStatusActive || *got.Etag.Source1 != want {
				t.Fatalf("after restart: %s %q etag %v, want ACTIVE %s", got.Status, aws.ToString(got.StatusMessage), got.Etag, want)
			}
			st, _ := os.Stat(path)
			if *got.SequenceInformation.TotalReadCount != 300_000 || *got.SequenceInformation.TotalBaseCount != 300_000*150 || st.Size() == 0 {
				t.Fatalf("counts %d/%d", *got.SequenceInformation.TotalReadCount, *got.SequenceInformation.TotalBaseCount)
			}
			data := download(t, c, store, id, types.ReadSetFileSource1, got.Files.Source1)
			orig, _ := os.ReadFile(path)
			if !bytesEqual(gunzip(t, data), orig) {
				t.Fatal("the stored file does not decompress to the upload")
			}
			_, err = c.GetReadSetMetadata(context.Background(), &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: aws.String(id)})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }
