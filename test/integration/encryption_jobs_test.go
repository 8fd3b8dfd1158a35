package integration

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore/internal/blob/cryptblob"
	"github.com/seqstore/seqstore/internal/keyring"
	"github.com/seqstore/seqstore/internal/testutil"
)

// atRest returns, by path under dir, every file under dir (the objects as
// the backend keeps them on disk, in both tiers) whose path names store.
func atRest(t *testing.T, dir, store string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || !strings.Contains(rel, "/"+store+"/") {
			return err
		}
		files[rel], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// plaintextAtRest checks the files of a store at rest: those of an
// encrypted store carry the encrypted header and none of the plaintext
// markers; of a plain store, the files as a whole show at least one of each
// marker, so that the checks of an encrypted store can fail. It returns the
// paths it checked.
func plaintextAtRest(t *testing.T, files map[string][]byte, encrypted bool, markers map[string][]byte) []string {
	t.Helper()
	seen := map[string]bool{}
	var paths []string
	for path, data := range files {
		paths = append(paths, path)
		if bytes.HasPrefix(data, []byte("SQCRYPT")) != encrypted {
			t.Errorf("%s: encrypted header %v, want %v", path, !encrypted, encrypted)
		}
		for name, m := range markers {
			if bytes.Contains(data, m) {
				seen[name] = true
				if encrypted {
					t.Errorf("%s holds plaintext at rest: %s", path, name)
				}
			}
		}
	}
	if !encrypted {
		for name := range markers {
			if !seen[name] {
				t.Errorf("no file of the plain store shows %s; the checks of the encrypted one prove nothing", name)
			}
		}
	}
	return paths
}

// flipAtRest flips one byte in the middle of the file at path, on disk
// under the backend, as a failing disk or someone with access to it could.
func flipAtRest(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, st.Size()/2); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x10
	if _, err := f.WriteAt(b, st.Size()/2); err != nil {
		t.Fatal(err)
	}
}

// objectKey is the object key of a file at rest under the server's prefix
// ("seqstore/" on S3): the part of its path from its kind on.
func objectKey(path, kind string) string {
	return path[strings.Index(path, "/"+kind+"/")+1:]
}

// TestEncryptedStoreJobsAndArchive runs imports, exports, reference imports
// and the archive round trip on an encrypted store next to a plain one, on
// both backends, and looks at the bytes where the backend keeps them on
// disk (the data directory, or the S3 server's bucket directory): every
// object of the encrypted stores, in either tier, is encrypted and shows
// no plaintext; rewrap moves every one of them, in both tiers, to a new key
// version; a byte flipped there fails the read with the integrity error,
// never returning other bytes; and what clients see (ETags, counts, parts,
// bytes, exports) is the plain store's.
func TestEncryptedStoreJobsAndArchive(t *testing.T) {
	d := lambdaData(t)
	firstRead, err := os.ReadFile(d.r1)
	if err != nil {
		t.Fatal(err)
	}
	fastqLines := strings.SplitN(string(firstRead), "\n", 3)
	refText, err := os.ReadFile(d.ref)
	if err != nil {
		t.Fatal(err)
	}
	refLines := strings.SplitN(string(refText), "\n", 3)
	markers := map[string][]byte{
		"a BGZF block header":     {0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff, 0x06, 0, 'B', 'C', 0x02, 0},
		"a BAI index header":      {'B', 'A', 'I', 1, 1, 0, 0, 0},                      // magic and one reference
		"a read's name and bases": []byte(fastqLines[0] + "\n" + fastqLines[1] + "\n"), // the name alone is too short to be absent by chance
	}
	refMarkers := map[string][]byte{
		"the reference's name":      []byte(strings.TrimPrefix(strings.Fields(refLines[0])[0], ">")),
		"a line of the reference's": []byte(refLines[1]),
	}
	sse := &types.SseConfig{Type: types.EncryptionTypeKms, KeyArn: aws.String(labKeyArn)}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			clock := testutil.NewClock(time.Now().UTC())
			cfg, restDir := newConfigAtRest(t, b)
			places := jobPlaces(t)
			allowJobs(t, cfg, places)
			cfg.Keyring = filepath.Join(t.TempDir(), "keyring")
			addKeys(t, cfg.Keyring, labKeyArn+" 1")
			cfg.Now = clock.Now
			cfg.Lifecycle.ArchiveAfter = archiveAfter
			cfg.Lifecycle.ArchiveSweep = time.Hour // the test sweeps
			cfg.JobPoll = 20 * time.Millisecond
			in := start(t, b, cfg)
			c := in.goClient(in.rootKey())

			var enc, plain string
			for _, s := range []struct {
				id  *string
				sse *types.SseConfig
			}{{&enc, sse}, {&plain, nil}} {
				st, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("s"), SseConfig: s.sse})
				if err != nil {
					t.Fatal(err)
				}
				*s.id = *st.Id
			}
			// An account has one reference store: the plain one is
			// another account's.
			refClients := map[string]*omics.Client{}
			var encRefs, plainRefs string
			for _, s := range []struct {
				id  *string
				c   *omics.Client
				sse *types.SseConfig
			}{{&encRefs, c, sse}, {&plainRefs, in.goClient(in.newAccount(t, "210987654321")), nil}} {
				rs, err := s.c.CreateReferenceStore(ctx, &omics.CreateReferenceStoreInput{Name: aws.String("r"), SseConfig: s.sse})
				if err != nil {
					t.Fatal(err)
				}
				if (rs.SseConfig != nil) != (s.sse != nil) {
					t.Fatalf("reference store created with sseConfig %+v reports %+v", s.sse, rs.SseConfig)
				}
				*s.id = *rs.Id
				refClients[*rs.Id] = s.c
			}

			// Imports from an S3 source (the FASTQ pair) and a file one
			// (the BAM): the same read sets in both stores.
			fileSrc, s3Src := places[0], places[1]
			sources := []types.StartReadSetImportJobSourceItem{
				importSource(types.FileTypeFastq, "pair", s3Src.put(t, "in/r1.fq.gz", d.r1gz), s3Src.put(t, "in/r2.fq.gz", d.r2gz)),
				importSource(types.FileTypeBam, "aligned", fileSrc.put(t, "in/aligned.bam", d.bam)),
			}
			imported := map[string][]string{}
			served := map[string]readSetFiles{}
			for _, store := range []string{enc, plain} {
				started, err := c.StartReadSetImportJob(ctx, &omics.StartReadSetImportJobInput{SequenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn), Sources: sources})
				if err != nil {
					t.Fatal(err)
				}
				job := waitImport(t, c, store, *started.Id)
				if job.Status != types.ReadSetImportJobStatusCompleted {
					t.Fatalf("import into %s: %s %+v", store, job.Status, job.Sources)
				}
				for _, src := range job.Sources {
					imported[store] = append(imported[store], *src.ReadSetId)
					served[*src.ReadSetId] = fetchReadSet(t, c, store, *src.ReadSetId)
				}
			}
			for i := range sources {
				e, p := served[imported[enc][i]], served[imported[plain][i]]
				if !reflect.DeepEqual(e.etag, p.etag) || !reflect.DeepEqual(e.info, p.info) || !reflect.DeepEqual(e.contents, p.contents) {
					t.Errorf("%s: the encrypted store's import reports %+v %+v, the plain one's %+v %+v (same bytes: %v)",
						sources[i].SourceFileType, e.etag, e.info, p.etag, p.info, reflect.DeepEqual(e.contents, p.contents))
				}
				for file, fi := range p.files {
					if gfi := e.files[file]; *gfi.ContentLength != *fi.ContentLength || *gfi.TotalParts != *fi.TotalParts || *gfi.PartSize != *fi.PartSize {
						t.Errorf("%s %s: file information %+v, plain %+v", sources[i].SourceFileType, file, gfi, fi)
					}
				}
			}
			if bam, _ := os.ReadFile(d.bam); !bytes.Equal(served[imported[enc][1]].contents[types.ReadSetFileSource1], bam) {
				t.Fatal("the encrypted store serves other bytes than the BAM imported")
			}

			// A reference imported into each reference store.
			refIDs := map[string]string{}
			for _, store := range []string{encRefs, plainRefs} {
				started, err := refClients[store].StartReferenceImportJob(ctx, &omics.StartReferenceImportJobInput{ReferenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn),
					Sources: []types.StartReferenceImportJobSourceItem{{SourceFile: aws.String(fileSrc.put(t, "in/lambda.fa", d.ref)), Name: aws.String("lambda")}}})
				if err != nil {
					t.Fatal(err)
				}
				job := waitReferenceImport(t, refClients[store], store, *started.Id)
				if job.Status != types.ReferenceImportJobStatusCompleted {
					t.Fatalf("reference import into %s: %s %+v", store, job.Status, job.Sources)
				}
				refIDs[store] = *job.Sources[0].ReferenceId
			}
			md, err := c.GetReferenceMetadata(ctx, &omics.GetReferenceMetadataInput{ReferenceStoreId: aws.String(encRefs), Id: aws.String(refIDs[encRefs])})
			if err != nil {
				t.Fatal(err)
			}
			if got := downloadReference(t, c, encRefs, refIDs[encRefs], types.ReferenceFileSource, *md.Files.Source.TotalParts); !bytes.Equal(got, refText) {
				t.Fatalf("the encrypted reference store serves %d bytes, not the %d of the FASTA imported", len(got), len(refText))
			}
			encIndex := downloadReference(t, c, encRefs, refIDs[encRefs], types.ReferenceFileIndex, *md.Files.Index.TotalParts)
			pmd, err := refClients[plainRefs].GetReferenceMetadata(ctx, &omics.GetReferenceMetadataInput{ReferenceStoreId: aws.String(plainRefs), Id: aws.String(refIDs[plainRefs])})
			if err != nil {
				t.Fatal(err)
			}
			if plainIndex := downloadReference(t, refClients[plainRefs], plainRefs, refIDs[plainRefs], types.ReferenceFileIndex, *pmd.Files.Index.TotalParts); !bytes.Equal(encIndex, plainIndex) || aws.ToString(md.Md5) != aws.ToString(pmd.Md5) {
				t.Errorf("the encrypted reference's index or md5 differs from the plain one's")
			}

			// Exports of the encrypted store, to a file root and a bucket,
			// write the files in plaintext, as GetReadSet serves them.
			for _, p := range places {
				dest := p.uri("out-" + p.name + "/")
				if !strings.HasSuffix(dest, "/") {
					dest += "/"
				}
				var exports []types.ExportReadSet
				for _, id := range imported[enc] {
					exports = append(exports, types.ExportReadSet{ReadSetId: aws.String(id)})
				}
				ex, err := c.StartReadSetExportJob(ctx, &omics.StartReadSetExportJobInput{SequenceStoreId: aws.String(enc), RoleArn: aws.String(testRoleArn),
					Destination: aws.String(dest), Sources: exports})
				if err != nil {
					t.Fatal(err)
				}
				if j := waitExport(t, c, enc, *ex.Id); j.Status != types.ReadSetExportJobStatusCompleted {
					t.Fatalf("export to %s: %s %+v", p.name, j.Status, j.ReadSets)
				}
				for _, id := range imported[enc] {
					for file, fi := range served[id].files {
						key := "out-" + p.name + "/" + id + "/" + filepath.Base(*fi.S3Access.S3Uri)
						if got := p.get(t, key); !bytes.Equal(got, served[id].contents[file]) {
							t.Errorf("export to %s: %s has %d bytes, not the %d GetReadSet serves", p.name, key, len(got), len(served[id].contents[file]))
						}
					}
				}
			}

			// The active tier at rest: read-set files, indexes and the
			// reference with its index, nothing else of either store.
			checkStores := func(stage string, want int) {
				t.Helper()
				if got := plaintextAtRest(t, atRest(t, restDir, enc), true, markers); len(got) != want {
					t.Errorf("%s: the encrypted store has %d files at rest, want %d: %v", stage, len(got), want, got)
				}
				if got := plaintextAtRest(t, atRest(t, restDir, plain), false, markers); len(got) != want {
					t.Errorf("%s: the plain store has %d files at rest, want %d: %v", stage, len(got), want, got)
				}
			}
			// An upload left open keeps its part, plain FASTQ, at rest.
			for _, store := range []string{enc, plain} {
				putPart(t, c, store, createFASTQUpload(t, c, store), d.r1)
			}
			checkStores("after import", 5) // FASTQ pair, BAM and BAI, a part
			if got := plaintextAtRest(t, atRest(t, restDir, encRefs), true, refMarkers); len(got) != 2 {
				t.Errorf("the encrypted reference store has %d files at rest, want the FASTA and its index: %v", len(got), got)
			}
			plaintextAtRest(t, atRest(t, restDir, plainRefs), false, refMarkers)

			// The archive round trip: the copies in the archive tier are
			// encrypted, and activation brings back the same bytes and
			// ETags.
			clock.Advance(archiveAfter + time.Hour)
			if n := sweep(t, in); n != 4 {
				t.Fatalf("the sweep queued %d read sets, want the 4 imported", n)
			}
			for _, id := range imported[enc] {
				waitStatus(t, c, enc, id, types.ReadSetStatusArchived)
			}
			for _, id := range imported[plain] {
				waitStatus(t, c, plain, id, types.ReadSetStatusArchived)
			}
			waitNoKeys(t, in.srv.Blobs, "readsets/") // the active copies go just after
			checkStores("archived", 5)
			for path := range atRest(t, restDir, enc) {
				tier, _, _ := strings.Cut(path, "/")
				if strings.Contains(path, "/readsets/") != strings.Contains(tier, "archive") {
					t.Errorf("%s: in the %s tier", path, tier)
				}
			}
			// Rotation: with a second version of the key, rewrap rewraps
			// every object of the encrypted stores, in both tiers (the
			// archived copies, the open upload's part, the reference and
			// its index), after which the first version may go.
			in.stop()
			addKeys(t, cfg.Keyring, labKeyArn+" 2")
			if out := rewrap(t, cfg); !strings.Contains(out, "rewrapped 7 objects") {
				t.Errorf("rewrap said %q, want 7 objects rewrapped", out)
			}
			ring, err := keyring.Load(cfg.Keyring)
			if err != nil {
				t.Fatal(err)
			}
			for _, store := range []string{enc, encRefs} {
				for path, data := range atRest(t, restDir, store) {
					var id keyring.ID
					copy(id[:], data[len("SQCRYPT\x01"):])
					if k, err := ring.ByID(id); err != nil || k.Version != 2 {
						t.Errorf("after rewrap %s is wrapped by %+v (%v), want version 2", path, k, err)
					}
				}
			}
			dropFirstKey(t, cfg.Keyring)
			in = start(t, b, cfg)
			c = in.goClient(in.rootKey())
			if got := downloadReference(t, c, encRefs, refIDs[encRefs], types.ReferenceFileSource, *md.Files.Source.TotalParts); !bytes.Equal(got, refText) {
				t.Errorf("after rewrap and without version 1 the reference reads %d bytes, not the FASTA's %d", len(got), len(refText))
			}

			var sourcesToActivate []types.StartReadSetActivationJobSourceItem
			for _, id := range imported[enc] {
				sourcesToActivate = append(sourcesToActivate, types.StartReadSetActivationJobSourceItem{ReadSetId: aws.String(id)})
			}
			j, err := c.StartReadSetActivationJob(ctx, &omics.StartReadSetActivationJobInput{SequenceStoreId: aws.String(enc), Sources: sourcesToActivate})
			if err != nil {
				t.Fatal(err)
			}
			if done := waitActivation(t, c, enc, *j.Id); done.Status != types.ReadSetActivationJobStatusCompleted {
				t.Fatalf("activation: %s %+v", done.Status, done.Sources)
			}
			for _, id := range imported[enc] {
				after := fetchReadSet(t, c, enc, id)
				if !reflect.DeepEqual(after.etag, served[id].etag) || !reflect.DeepEqual(after.info, served[id].info) {
					t.Errorf("read set %s after activation: %+v %+v, before %+v %+v", id, after.etag, after.info, served[id].etag, served[id].info)
				}
				if !reflect.DeepEqual(after.contents, served[id].contents) {
					t.Errorf("read set %s serves other bytes after activation", id)
				}
			}
			if got := plaintextAtRest(t, atRest(t, restDir, enc), true, markers); len(got) != 5 {
				t.Errorf("after activation the encrypted store has %d files at rest, want 5: %v", len(got), got)
			}

			// A byte flipped on disk in the BAM, or in the reference: the
			// object store reports the integrity error, and clients get an
			// error, never other bytes.
			bamID := imported[enc][1]
			var bamPath, refPath string
			for path := range atRest(t, restDir, enc) {
				if strings.Contains(path, "/"+bamID+"/") && strings.HasSuffix(path, ".bam") {
					bamPath = path
				}
			}
			for path := range atRest(t, restDir, encRefs) {
				if !strings.HasSuffix(path, ".fai") {
					refPath = path
				}
			}
			if bamPath == "" || refPath == "" {
				t.Fatalf("no BAM (%q) or reference (%q) at rest to damage", bamPath, refPath)
			}
			for _, path := range []string{bamPath, refPath} {
				flipAtRest(t, filepath.Join(restDir, path))
				kind := "readsets"
				if path == refPath {
					kind = "references"
				}
				r, err := in.srv.Blobs.NewRangeReader(ctx, objectKey(path, kind), 0, -1)
				if err == nil {
					_, err = io.ReadAll(r)
					r.Close()
				}
				if !errors.Is(err, cryptblob.ErrIntegrity) {
					t.Errorf("reading %s after a byte flipped at rest: %v, want the integrity error", objectKey(path, kind), err)
				}
			}
			bam := served[bamID].contents[types.ReadSetFileSource1]
			out, err := c.GetReadSet(ctx, &omics.GetReadSetInput{SequenceStoreId: aws.String(enc), Id: aws.String(bamID), PartNumber: aws.Int32(1)})
			if err == nil {
				got, rerr := io.ReadAll(out.Payload)
				out.Payload.Close()
				if rerr == nil || !bytes.HasPrefix(bam, got) {
					t.Errorf("GetReadSet of a damaged BAM: %d bytes (a prefix of the file: %v), error %v", len(got), bytes.HasPrefix(bam, got), rerr)
				}
			}
			ref, err := c.GetReference(ctx, &omics.GetReferenceInput{ReferenceStoreId: aws.String(encRefs), Id: aws.String(refIDs[encRefs]), PartNumber: aws.Int32(1)})
			if err == nil {
				got, rerr := io.ReadAll(ref.Payload)
				ref.Payload.Close()
				if rerr == nil || !bytes.HasPrefix(refText, got) {
					t.Errorf("GetReference of a damaged FASTA: %d bytes (a prefix of the file: %v), error %v", len(got), bytes.HasPrefix(refText, got), rerr)
				}
			}
		})
	}
}
