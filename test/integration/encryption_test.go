package integration

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/config"
	"github.com/seqstore/seqstore/internal/keyring"
	"github.com/seqstore/seqstore/internal/server"
	"github.com/seqstore/seqstore/internal/testutil"
)

const labKeyArn = "arn:aws:kms:us-east-1:123456789012:key/lab"

// addKeys appends fresh keys ("name version") to the keyring file at path.
func addKeys(t *testing.T, path string, keys ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, k := range keys {
		name, v, _ := strings.Cut(k, " ")
		version, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		line, err := keyring.NewKeyLine(name, version)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(line); err != nil {
			t.Fatal(err)
		}
	}
}

// rawObjects opens the server's object store without decryption and
// returns every object under prefix.
func rawObjects(t *testing.T, cfg *config.Config, prefix string) map[string][]byte {
	t.Helper()
	raw, err := server.OpenBlobs(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	objects := map[string][]byte{}
	err = raw.List(context.Background(), prefix, func(key string, _ blob.Attributes) error {
		r, err := raw.NewRangeReader(context.Background(), key, 0, -1)
		if err != nil {
			return err
		}
		defer r.Close()
		objects[key], err = io.ReadAll(r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return objects
}

// putRaw replaces an object at rest, as someone with disk access could.
func putRaw(t *testing.T, cfg *config.Config, key string, data []byte) {
	t.Helper()
	raw, err := server.OpenBlobs(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	w, err := raw.NewWriter(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// readSetFiles is what a client can learn of a read set: its metadata
// (without IDs, names and times) and every file's bytes.
type readSetFiles struct {
	etag     *types.ETag
	info     *types.SequenceInformation
	files    map[types.ReadSetFile]types.FileInformation
	contents map[types.ReadSetFile][]byte
}

func fetchReadSet(t *testing.T, c *omics.Client, store, id string) readSetFiles {
	t.Helper()
	md := waitIngested(t, c, store, id)
	if md.Status != types.ReadSetStatusActive {
		t.Fatalf("read set %s is %s: %s", id, md.Status, aws.ToString(md.StatusMessage))
	}
	r := readSetFiles{etag: md.Etag, info: md.SequenceInformation, files: map[types.ReadSetFile]types.FileInformation{}, contents: map[types.ReadSetFile][]byte{}}
	for file, fi := range map[types.ReadSetFile]*types.FileInformation{
		types.ReadSetFileSource1: md.Files.Source1, types.ReadSetFileSource2: md.Files.Source2, types.ReadSetFileIndex: md.Files.Index,
	} {
		if fi != nil {
			r.files[file] = *fi
			r.contents[file] = download(t, c, store, id, file, fi)
		}
	}
	return r
}

func TestEncryptionAtRest(t *testing.T) {
	d := lambdaData(t)
	firstRead, err := os.ReadFile(d.r1)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(firstRead), "\n", 3)
	// The name alone ("@r1") is too short to be absent from megabytes of
	// ciphertext by chance; with its bases it is not.
	readName, readSeq := []byte(lines[0]+"\n"+lines[1]+"\n"), []byte(lines[1])
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := newConfig(t, b)
			cfg.Keyring = filepath.Join(t.TempDir(), "keyring")
			addKeys(t, cfg.Keyring, labKeyArn+" 1")
			in := start(t, b, cfg)
			c := in.goClient(in.rootKey())
			created, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{
				Name: aws.String("encrypted"), SseConfig: &types.SseConfig{Type: types.EncryptionTypeKms, KeyArn: aws.String(labKeyArn)},
			})
			if err != nil {
				t.Fatal(err)
			}
			enc, plain := *created.Id, newStore(t, c, "")
			got, err := c.GetSequenceStore(ctx, &omics.GetSequenceStoreInput{Id: created.Id})
			if err != nil || got.SseConfig == nil || aws.ToString(got.SseConfig.KeyArn) != labKeyArn {
				t.Fatalf("GetSequenceStore of the encrypted store: %+v, %v", got, err)
			}

			// The same files into both stores: a client sees no difference.
			uploads := []struct {
				fileType types.FileType
				ref      string
				files    []string
			}{
				{types.FileTypeFastq, "", []string{d.r1gz, d.r2gz}},
				{types.FileTypeBam, testReferenceArn, []string{d.bam}},
			}
			encIDs := map[types.FileType]string{}
			want := map[types.FileType]readSetFiles{}
			for _, u := range uploads {
				encIDs[u.fileType] = uploadFiles(t, c, enc, u.fileType, u.ref, 300_000, u.files...)
				gotRS := fetchReadSet(t, c, enc, encIDs[u.fileType])
				want[u.fileType] = fetchReadSet(t, c, plain, uploadFiles(t, c, plain, u.fileType, u.ref, 300_000, u.files...))
				if !reflect.DeepEqual(gotRS.etag, want[u.fileType].etag) || !reflect.DeepEqual(gotRS.info, want[u.fileType].info) {
					t.Errorf("%s: the encrypted store reports %+v %+v, the plain one %+v %+v", u.fileType, gotRS.etag, gotRS.info, want[u.fileType].etag, want[u.fileType].info)
				}
				for file, fi := range want[u.fileType].files {
					gfi := gotRS.files[file]
					if *gfi.ContentLength != *fi.ContentLength || *gfi.TotalParts != *fi.TotalParts || *gfi.PartSize != *fi.PartSize {
						t.Errorf("%s %s: file information differs: %+v vs %+v", u.fileType, file, gfi, fi)
					}
					if !bytes.Equal(gotRS.contents[file], want[u.fileType].contents[file]) {
						t.Errorf("%s %s: the encrypted store serves other bytes", u.fileType, file)
					}
				}
			}
			if len(want[types.FileTypeBam].files) != 2 {
				t.Fatalf("the BAM read set has files %v, want source1 and its index", want[types.FileTypeBam].files)
			}
			if got, _ := os.ReadFile(d.bam); !bytes.Equal(want[types.FileTypeBam].contents[types.ReadSetFileSource1], got) {
				t.Fatal("the plain store serves other bytes than uploaded")
			}

			// An upload left open keeps its plain FASTQ part at rest.
			for _, store := range []string{enc, plain} {
				up := createFASTQUpload(t, c, store)
				putPart(t, c, store, up, d.r1)
			}

			// Bytes at rest: the plain store's show what the encrypted
			// store's must not.
			// A BGZF block's fixed 16-byte header: long enough that
			// megabytes of ciphertext never hold it by chance, as they
			// may a 4-byte magic.
			gzipMagic := []byte{0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff, 0x06, 0, 'B', 'C', 0x02, 0}
			for store, encrypted := range map[string]bool{enc: true, plain: false} {
				objects := map[string][]byte{}
				for _, kind := range []string{"readsets/", "uploads/"} {
					for k, v := range rawObjects(t, cfg, kind+cfg.AccountID+"/"+store+"/") {
						objects[k] = v
					}
				}
				if len(objects) != 5 { // FASTQ pair, BAM and BAI, one part
					t.Errorf("store %s holds %d objects, want 5", store, len(objects))
				}
				var sawGzip, sawRead bool
				for key, data := range objects {
					if bytes.HasPrefix(data, []byte("SQCRYPT")) != encrypted {
						t.Errorf("%s: encrypted header %v, want %v", key, !encrypted, encrypted)
					}
					gz := bytes.Contains(data, gzipMagic)
					read := bytes.Contains(data, readName) || bytes.Contains(data, readSeq)
					if encrypted && (gz || read) {
						t.Errorf("%s holds plaintext at rest (gzip magic %v, a read %v)", key, gz, read)
					}
					sawGzip, sawRead = sawGzip || gz, sawRead || read
				}
				if !encrypted && (!sawGzip || !sawRead) {
					t.Fatalf("the plain store's objects show gzip %v and a read %v; the checks of the encrypted one prove nothing", sawGzip, sawRead)
				}
			}

			// Range reads of the stored BAM through the server's object
			// store open only the chunks they touch, on either backend.
			bamBytes := want[types.FileTypeBam].contents[types.ReadSetFileSource1]
			bamKeys := rawObjects(t, cfg, "readsets/"+cfg.AccountID+"/"+enc+"/"+encIDs[types.FileTypeBam]+"/")
			ranged := 0
			for key := range bamKeys {
				if !strings.HasSuffix(key, ".bam") {
					continue
				}
				ranged++
				size := int64(len(bamBytes))
				for _, r := range [][2]int64{{0, 1}, {1000, 70000}, {3*65536 + 5, 200000}, {size - 10, -1}, {size, -1}} {
					rd, err := in.srv.Blobs.NewRangeReader(ctx, key, r[0], r[1])
					if err != nil {
						t.Fatalf("range %v: %v", r, err)
					}
					got, err := io.ReadAll(rd)
					rd.Close()
					end := size
					if r[1] >= 0 {
						end = min(size, r[0]+r[1])
					}
					if err != nil || !bytes.Equal(got, bamBytes[r[0]:end]) {
						t.Errorf("range %v of the stored BAM: %d bytes, %v", r, len(got), err)
					}
				}
			}

			if ranged != 1 {
				t.Fatalf("found %d stored BAM files to read ranges of, want 1", ranged)
			}

			// A restart with the same keyring reads everything.
			in = in.restart(b)
			c = in.goClient(in.rootKey())
			for ft, id := range encIDs {
				if got := fetchReadSet(t, c, enc, id); !reflect.DeepEqual(got.contents, want[ft].contents) {
					t.Errorf("%s after restart: other bytes", ft)
				}
			}

			// A flipped byte (in the FASTQ's second mate) or a cut (the
			// BAM's index) at rest fails the download; it never returns
			// other bytes.
			damage := []struct {
				readSet, suffix string
				file            types.ReadSetFile
				change          func([]byte) []byte
			}{
				{encIDs[types.FileTypeFastq], "_source2.fastq.gz", types.ReadSetFileSource2, func(b []byte) []byte { b[len(b)/2] ^= 1; return b }},
				{encIDs[types.FileTypeBam], ".bam.bai", types.ReadSetFileIndex, func(b []byte) []byte { return b[:len(b)-100] }},
			}
			for _, d := range damage {
				changed := 0
				for key, data := range rawObjects(t, cfg, "readsets/"+cfg.AccountID+"/"+enc+"/"+d.readSet+"/") {
					if strings.HasSuffix(key, d.suffix) {
						putRaw(t, cfg, key, d.change(data))
						changed++
					}
				}
				if changed != 1 {
					t.Fatalf("found %d %s files to damage, want 1", changed, d.suffix)
				}
				var fileType types.FileType = types.FileTypeFastq
				if d.readSet == encIDs[types.FileTypeBam] {
					fileType = types.FileTypeBam
				}
				whole := want[fileType].contents[d.file]
				out, err := c.GetReadSet(ctx, &omics.GetReadSetInput{SequenceStoreId: aws.String(enc), Id: aws.String(d.readSet), File: d.file, PartNumber: aws.Int32(1)})
				if err != nil {
					continue // refused before the first byte
				}
				got, rerr := io.ReadAll(out.Payload)
				out.Payload.Close()
				if rerr == nil {
					t.Errorf("a damaged %s downloaded without error (%d bytes of %d)", d.suffix, len(got), len(whole))
				}
				if !bytes.HasPrefix(whole, got) {
					t.Errorf("a damaged %s returned %d bytes that are not the file's", d.suffix, len(got))
				}
			}

			// Without its key the server does not start, and says which.
			in.stop()
			for _, ring := range []string{"", filepath.Join(t.TempDir(), "other")} {
				cfg2 := *cfg
				cfg2.Keyring = ring
				if ring != "" {
					addKeys(t, ring, "arn:aws:kms:us-east-1:123456789012:key/other 1")
				}
				srv, err := server.Open(ctx, &cfg2, testLogger(t))
				if err == nil {
					srv.Close()
					t.Fatalf("the server started with keyring %q, which lacks the store's key", ring)
				}
				if !strings.Contains(err.Error(), labKeyArn) || !strings.Contains(err.Error(), enc) {
					t.Errorf("the refusal does not name the key and the store: %v", err)
				}
			}
		})
	}
}

func TestSSEConfigIsValidated(t *testing.T) {
	ctx := context.Background()
	b := backends[0]
	sse := func(arn string) *types.SseConfig {
		s := &types.SseConfig{Type: types.EncryptionTypeKms}
		if arn != "" {
			s.KeyArn = aws.String(arn)
		}
		return s
	}
	t.Run("without a keyring", func(t *testing.T) {
		in := start(t, b, nil)
		c := in.goClient(in.rootKey())
		_, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("s"), SseConfig: sse(labKeyArn)})
		if code := apiErrorCode(t, err); code != "ValidationException" || !strings.Contains(err.Error(), "-keyring") {
			t.Errorf("CreateSequenceStore with sseConfig: %v, want a ValidationException saying how to configure a keyring", err)
		}
		_, err = c.CreateReferenceStore(ctx, &omics.CreateReferenceStoreInput{Name: aws.String("r"), SseConfig: sse("")})
		if code := apiErrorCode(t, err); code != "ValidationException" {
			t.Errorf("CreateReferenceStore with sseConfig: %v, want ValidationException", err)
		}
		ref, err := c.CreateReferenceStore(ctx, &omics.CreateReferenceStoreInput{Name: aws.String("r")})
		if err != nil || ref.SseConfig != nil {
			t.Errorf("a reference store without sseConfig: %+v, %v; it must report none", ref, err)
		}

		// Another node, one with a keyring, made an encrypted store: this
		// node refuses its objects rather than write them in plaintext.
		now := time.Now()
		other := &seqstore.SequenceStore{AccountID: in.cfg.AccountID, ID: "1234512345", Name: "theirs", SSEType: "KMS", SSEKeyArn: labKeyArn,
			ETagAlgorithmFamily: "MD5up", Status: seqstore.StoreStatusActive, CreatedAt: now, UpdatedAt: now}
		if err := in.srv.Meta.SequenceStoreCreate(ctx, other); err != nil {
			t.Fatal(err)
		}
		up := createFASTQUpload(t, c, other.ID)
		_, err = c.UploadReadSetPart(ctx, &omics.UploadReadSetPartInput{SequenceStoreId: aws.String(other.ID), UploadId: aws.String(up),
			PartSource: types.ReadSetPartSourceSource1, PartNumber: aws.Int32(1), Payload: strings.NewReader("@r\nACGT\n+\nIIII\n")})
		if err == nil {
			t.Error("a node without a keyring stored a part of an encrypted store")
		}
		if objects := rawObjects(t, in.cfg, "uploads/"+in.cfg.AccountID+"/"+other.ID+"/"); len(objects) > 0 {
			t.Errorf("a node without a keyring left %d objects of an encrypted store", len(objects))
		}
	})
	t.Run("with a keyring", func(t *testing.T) {
		cfg := newConfig(t, b)
		cfg.Keyring = filepath.Join(t.TempDir(), "keyring")
		addKeys(t, cfg.Keyring, labKeyArn+" 1")
		in := start(t, b, cfg)
		c := in.goClient(in.rootKey())
		for _, arn := range []string{"arn:aws:kms:us-east-1:123456789012:key/absent", ""} {
			_, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("s"), SseConfig: sse(arn)})
			if code := apiErrorCode(t, err); code != "ValidationException" || !strings.Contains(err.Error(), "keyring") {
				t.Errorf("keyArn %q not in the keyring: %v, want ValidationException", arn, err)
			}
		}
		// A "default" key serves stores that name none.
		in.stop()
		addKeys(t, cfg.Keyring, keyring.DefaultName+" 1")
		in = start(t, b, cfg)
		c = in.goClient(in.rootKey())
		st, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("s"), SseConfig: sse("")})
		if err != nil || st.SseConfig == nil || st.SseConfig.KeyArn != nil {
			t.Fatalf("sseConfig without keyArn and a default key: %+v, %v", st, err)
		}
		fq := filepath.Join(t.TempDir(), "r.fq")
		writeFASTQ(t, fq, 100, 1)
		id := uploadFiles(t, c, *st.Id, types.FileTypeFastq, "", 1<<20, fq)
		fetchReadSet(t, c, *st.Id, id)
		for key, data := range rawObjects(t, cfg, "readsets/"+cfg.AccountID+"/"+*st.Id+"/") {
			if !bytes.HasPrefix(data, []byte("SQCRYPT")) {
				t.Errorf("%s is not encrypted", key)
			}
		}
	})
}

// admin runs `seqstore admin ARGS...` as an operator on the server's
// machine would, with the S3 credentials in the environment.
func admin(t *testing.T, cfg *config.Config, args ...string) string {
	t.Helper()
	cmd := exec.Command(seqstoreBinary(t), append([]string{"admin"}, args...)...)
	cmd.Env = append(testutil.EnvWithoutAWS(), "SEQSTORE_S3_ACCESS_KEY_ID="+cfg.S3AccessKeyID, "SEQSTORE_S3_SECRET_ACCESS_KEY="+cfg.S3SecretAccessKey)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("seqstore admin %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// dropFirstKey removes the first key line (the oldest version) from the
// keyring file at path, as an operator does once rewrap has run.
func dropFirstKey(t *testing.T, path string) {
	t.Helper()
	lines, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.SplitAfterN(string(lines), "\n", 2)[1]), 0o600); err != nil {
		t.Fatal(err)
	}
}

// rewrap runs `seqstore admin rewrap` on the server's stores.
func rewrap(t *testing.T, cfg *config.Config) string {
	t.Helper()
	return admin(t, cfg, "rewrap", "-data", cfg.DataDir, "-metadata", cfg.Metadata, "-objects", cfg.Objects, "-keyring", cfg.Keyring)
}

// wrappingKeys maps each encrypted object under prefix to the version of
// labKeyArn whose ID its header carries.
func wrappingKeys(t *testing.T, cfg *config.Config, prefix string) map[string]int {
	t.Helper()
	ring, err := keyring.Load(cfg.Keyring)
	if err != nil {
		t.Fatal(err)
	}
	versions := map[string]int{}
	for key, data := range rawObjects(t, cfg, prefix) {
		var id keyring.ID
		copy(id[:], data[len("SQCRYPT\x01"):])
		k, err := ring.ByID(id)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		versions[key] = k.Version
	}
	return versions
}

func TestKeyRotationAndRewrap(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := newConfig(t, b)
			cfg.Keyring = filepath.Join(t.TempDir(), "keyring")
			// keyring add makes the file, mode 0600, and the first version.
			if out := admin(t, cfg, "keyring", "add", "-keyring", cfg.Keyring, labKeyArn); !strings.Contains(out, "version 1") {
				t.Fatalf("keyring add: %s", out)
			}
			in := start(t, b, cfg)
			c := in.goClient(in.rootKey())
			st, err := c.CreateSequenceStore(ctx, &omics.CreateSequenceStoreInput{Name: aws.String("rotated"), SseConfig: &types.SseConfig{Type: types.EncryptionTypeKms, KeyArn: aws.String(labKeyArn)}})
			if err != nil {
				t.Fatal(err)
			}
			prefix := "readsets/" + cfg.AccountID + "/" + *st.Id + "/"
			fq := filepath.Join(t.TempDir(), "r.fq")
			writeFASTQ(t, fq, 2000, 1)
			first := uploadFiles(t, c, *st.Id, types.FileTypeFastq, "", 1<<20, fq)
			want := fetchReadSet(t, c, *st.Id, first).contents

			// A new version wraps new objects; the old one still unwraps.
			in.stop()
			admin(t, cfg, "keyring", "add", "-keyring", cfg.Keyring, labKeyArn)
			in = start(t, b, cfg)
			c = in.goClient(in.rootKey())
			second := uploadFiles(t, c, *st.Id, types.FileTypeFastq, "", 1<<20, fq)
			if got := fetchReadSet(t, c, *st.Id, second).contents; !reflect.DeepEqual(got, want) {
				t.Error("the read set written under version 2 reads back differently")
			}
			if got := fetchReadSet(t, c, *st.Id, first).contents; !reflect.DeepEqual(got, want) {
				t.Error("the read set written under version 1 no longer reads after rotation")
			}
			for key, v := range wrappingKeys(t, cfg, prefix) {
				if wantV := map[bool]int{true: 1, false: 2}[strings.Contains(key, "/"+first+"/")]; v != wantV {
					t.Errorf("%s is wrapped by version %d, want %d", key, v, wantV)
				}
			}

			// rewrap, with the server running, moves everything to
			// version 2 ...
			if out := rewrap(t, cfg); !strings.Contains(out, "rewrapped 1 objects") {
				t.Errorf("rewrap said %q, want one object rewrapped", out)
			}
			for key, v := range wrappingKeys(t, cfg, prefix) {
				if v != 2 {
					t.Errorf("after rewrap %s is wrapped by version %d", key, v)
				}
			}
			// ... so that version 1 can leave the keyring.
			in.stop()
			dropFirstKey(t, cfg.Keyring)
			in = start(t, b, cfg)
			c = in.goClient(in.rootKey())
			for _, id := range []string{first, second} {
				if got := fetchReadSet(t, c, *st.Id, id).contents; !reflect.DeepEqual(got, want) {
					t.Errorf("read set %s reads differently with version 2 alone", id)
				}
			}
		})
	}
}
