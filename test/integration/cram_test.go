package integration

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore/internal/arn"
	"github.com/seqstore/seqstore/internal/testutil"
)

// importLambdaReference imports the lambda phage reference from places[0]
// and returns its ARN.
func importLambdaReference(t *testing.T, c *omics.Client, place *jobPlace, ref string) string {
	t.Helper()
	return importLambdaReferenceWith(t, c, place, ref, nil)
}

// importLambdaReferenceWith is importLambdaReference into a reference store
// created with sse.
func importLambdaReferenceWith(t *testing.T, c *omics.Client, place *jobPlace, ref string, sse *types.SseConfig) string {
	t.Helper()
	ctx := context.Background()
	rst, err := c.CreateReferenceStore(ctx, &omics.CreateReferenceStoreInput{Name: aws.String("refs"), SseConfig: sse})
	if err != nil {
		t.Fatal(err)
	}
	return importReferenceInto(t, c, place, *rst.Id, ref, "lambda")
}

// importReferenceInto imports the FASTA file into the reference store
// under name, from place, and returns the reference's ARN.
func importReferenceInto(t *testing.T, c *omics.Client, place *jobPlace, store, file, name string) string {
	t.Helper()
	ctx := context.Background()
	started, err := c.StartReferenceImportJob(ctx, &omics.StartReferenceImportJobInput{ReferenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn),
		Sources: []types.StartReferenceImportJobSourceItem{{SourceFile: aws.String(place.put(t, "ref/"+name+".fa", file)), Name: aws.String(name)}}})
	if err != nil {
		t.Fatal(err)
	}
	job := waitReferenceImport(t, c, store, *started.Id)
	if job.Status != types.ReferenceImportJobStatusCompleted {
		t.Fatalf("reference import %s: %+v", job.Status, job.Sources)
	}
	md, err := c.GetReferenceMetadata(ctx, &omics.GetReferenceMetadataInput{ReferenceStoreId: aws.String(store), Id: job.Sources[0].ReferenceId})
	if err != nil {
		t.Fatal(err)
	}
	return *md.Arn
}

// TestCRAMReadSets: CRAM 3.0 and 3.1 (normal and archive profiles) made by
// samtools from the lambda alignments arrive through upload and through
// import, decoded against a reference imported into seqstore: the counts
// of the same reads as BAM, the ETag of what `samtools view -T` prints, a
// CRAI samtools accepts for region queries, and the stored bytes as sent.
func TestCRAMReadSets(t *testing.T) {
	d := lambdaData(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			in, places := startWithFilePlace(t, b)
			c := in.goClient(in.rootKey())
			ctx := context.Background()
			refArn := importLambdaReference(t, c, places[0], d.ref)
			store := newStore(t, c, "")
			dir := t.TempDir()
			primary := strings.TrimSpace(string(testutil.Run(t, "samtools", "view", "-c", "-F", "0x900", d.bam)))
			for _, v := range []struct{ name, opts string }{
				{"v30", "version=3.0"},
				{"v31-normal", "version=3.1"},
				{"v31-archive", "version=3.1,archive"},
				{"v30-embedded-reference", "version=3.0,embed_ref=1"},
			} {
				if b.scaleOut && v.name != "v31-normal" {
					continue // the codecs are the same on either backend
				}
				t.Run(v.name, func(t *testing.T) {
					file := filepath.Join(dir, v.name+".cram")
					args := append([]string{"view", "-C", "-T", d.ref, "--output-fmt-option", strings.Split(v.opts, ",")[0]}, profileArgs(v.opts)...)
					testutil.Run(t, "samtools", append(args, "-o", file, d.bam)...)
					want := md5Hex(testutil.Run(t, "samtools", "view", "-T", d.ref, file))
					// samtools' own index of a copy, to compare regions with.
					theirs := filepath.Join(dir, v.name+".theirs.cram")
					testutil.Run(t, "cp", file, theirs)
					testutil.Run(t, "samtools", "index", theirs)
					uploaded := waitIngested(t, c, store, uploadFiles(t, c, store, types.FileTypeCram, refArn, 1<<20, file))
					src := importSource(types.FileTypeCram, "imported-"+v.name, places[0].put(t, "cram/"+v.name+".cram", file))
					src.ReferenceArn = aws.String(refArn)
					started, err := c.StartReadSetImportJob(ctx, &omics.StartReadSetImportJobInput{SequenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn),
						Sources: []types.StartReadSetImportJobSourceItem{src}})
					if err != nil {
						t.Fatal(err)
					}
					job := waitImport(t, c, store, *started.Id)
					if job.Status != types.ReadSetImportJobStatusCompleted {
						t.Fatalf("import %s: %+v", job.Status, job.Sources)
					}
					imported, err := c.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: job.Sources[0].ReadSetId})
					if err != nil {
						t.Fatal(err)
					}
					for how, md := range map[string]*omics.GetReadSetMetadataOutput{"upload": uploaded, "import": imported} {
						if md.Status != types.ReadSetStatusActive {
							t.Fatalf("%s: %s %q", how, md.Status, aws.ToString(md.StatusMessage))
						}
						if got := strconv.FormatInt(*md.SequenceInformation.TotalReadCount, 10); got != primary {
							t.Errorf("%s: totalReadCount %s, samtools counts %s primary records", how, got, primary)
						}
						if md.Etag.Algorithm != types.ETagAlgorithmCramMd5up || aws.ToString(md.Etag.Source1) != want {
							t.Errorf("%s: etag %s %s, want CRAM_MD5up %s", how, md.Etag.Algorithm, aws.ToString(md.Etag.Source1), want)
						}
						if aws.ToString(md.ReferenceArn) != refArn {
							t.Errorf("%s: referenceArn %s", how, aws.ToString(md.ReferenceArn))
						}
						if md.Files.Index == nil {
							t.Fatalf("%s: a coordinate-sorted CRAM got no index", how)
						}
						original, _ := os.ReadFile(file)
						stored := download(t, c, store, *md.Id, types.ReadSetFileSource1, md.Files.Source1)
						if !bytes.Equal(stored, original) {
							t.Fatalf("%s: the stored CRAM differs from the one sent", how)
						}
						crai := filepath.Join(t.TempDir(), "ours.crai")
						os.WriteFile(crai, download(t, c, store, *md.Id, types.ReadSetFileIndex, md.Files.Index), 0o644)
						for _, region := range []string{"gi|9626243|ref|NC_001416.1|:1-1000", "gi|9626243|ref|NC_001416.1|:20000-20500"} {
							got := testutil.Run(t, "samtools", "view", "-T", d.ref, "-X", file, crai, region)
							wantRegion := testutil.Run(t, "samtools", "view", "-T", d.ref, theirs, region)
							if !bytes.Equal(got, wantRegion) || len(got) == 0 {
								t.Errorf("%s: region %s through seqstore's CRAI gives %d bytes, samtools' own %d", how, region, len(got), len(wantRegion))
							}
						}
					}
				})
			}
			// BAMs are checked against a reference kept here: the same
			// BAM passes, one whose @SQ line says another length fails,
			// naming the sequence.
			good := waitIngested(t, c, store, uploadFiles(t, c, store, types.FileTypeBam, refArn, 1<<20, d.bam))
			if good.Status != types.ReadSetStatusActive {
				t.Fatalf("a BAM that agrees with its reference: %s %q", good.Status, aws.ToString(good.StatusMessage))
			}
			header := string(testutil.Run(t, "samtools", "view", "-H", d.bam))
			wrong := filepath.Join(dir, "header.sam")
			os.WriteFile(wrong, []byte(strings.Replace(header, "LN:48502", "LN:48503", 1)), 0o644)
			reheadered := filepath.Join(dir, "wrong-length.bam")
			os.WriteFile(reheadered, testutil.Run(t, "samtools", "reheader", wrong, d.bam), 0o644)
			bad := waitIngested(t, c, store, uploadFiles(t, c, store, types.FileTypeBam, refArn, 1<<20, reheadered))
			if msg := aws.ToString(bad.StatusMessage); bad.Status != types.ReadSetStatusUploadFailed || !strings.Contains(msg, "gi|9626243|ref|NC_001416.1|") || !strings.Contains(msg, "48503") {
				t.Errorf("a BAM whose @SQ disagrees with its reference: %s %q", bad.Status, msg)
			}

			// A reference whose lambda sequence has the same name and
			// length but one base changed: the header agrees, a slice's
			// reference MD5 does not, and the read set fails naming the
			// sequence and the slice.
			refText, err := os.ReadFile(d.ref)
			if err != nil {
				t.Fatal(err)
			}
			altered := filepath.Join(dir, "altered.fa")
			os.WriteFile(altered, bytes.Replace(refText, []byte("GGGCGGCGACCT"), []byte("GGGCGGCGACCA"), 1), 0o644)
			lambdaRef, err := arn.Parse(refArn)
			if err != nil {
				t.Fatal(err)
			}
			alteredArn := importReferenceInto(t, c, places[0], lambdaRef.StoreID, altered, "lambda-altered")
			cramFile := filepath.Join(dir, "v31-normal.cram") // written above on either backend
			mismatch := waitIngested(t, c, store, uploadFiles(t, c, store, types.FileTypeCram, alteredArn, 1<<20, cramFile))
			msg := aws.ToString(mismatch.StatusMessage)
			if mismatch.Status != types.ReadSetStatusUploadFailed || !regexp.MustCompile(`container at byte \d+, slice \d+: reference MD5 mismatch for gi\|9626243\|ref\|NC_001416\.1\|:\d+-\d+`).MatchString(msg) {
				t.Errorf("a CRAM against a reference whose sequence differs in one base: %s %q", mismatch.Status, msg)
			}

			// A CRAM needs its reference here: an ARN of the right form
			// that names nothing stored is refused.
			_, err = c.CreateMultipartReadSetUpload(ctx, &omics.CreateMultipartReadSetUploadInput{SequenceStoreId: aws.String(store), SourceFileType: types.FileTypeCram,
				SubjectId: aws.String("s"), SampleId: aws.String("s"), Name: aws.String("no-ref"), ReferenceArn: aws.String(testReferenceArn)})
			if code := apiErrorCode(t, err); code != "ResourceNotFoundException" {
				t.Errorf("CRAM upload against a reference seqstore does not hold: %s", code)
			}
		})
	}
}

// profileArgs turns "version=3.1,archive" into samtools' options.
func profileArgs(opts string) []string {
	parts := strings.Split(opts, ",")
	var args []string
	for _, p := range parts[1:] {
		args = append(args, "--output-fmt-option", p)
	}
	return args
}

const (
	htslibTestDir = "/usr/share/htslib-test/test"
	stadenDataDir = "/usr/share/doc/staden-io-lib/test/data"
)

// corpusCRAM is a CRAM of the corpus test and the FASTA it was written
// against; fails is the statusMessage of a read set seqstore must refuse.
type corpusCRAM struct {
	name, file, fasta string
	fails             string
}

// corpusCRAMs gathers the test's CRAMs in dir: those htslib's and
// io_lib's test suites ship, and a representative set of htslib's SAM
// files written by samtools in CRAM 3.0 and each CRAM 3.1 profile. The
// SAM files cover multi-reference, unmapped, supplementary, padded,
// read-group, long-read and many-record slices; every one of htslib's
// SAM files goes through the decoder in analyze's corpus test, this set
// through a server.
func corpusCRAMs(t *testing.T, dir string) []corpusCRAM {
	htslib := testutil.RequireDir(t, htslibTestDir)
	staden := testutil.RequireDir(t, stadenDataDir)
	crams := []corpusCRAM{
		{"auxf#values_java", filepath.Join(htslib, "auxf#values_java.cram"), filepath.Join(htslib, "auxf.fa"), ""},
		{"ce#5b_java", filepath.Join(htslib, "ce#5b_java.cram"), filepath.Join(htslib, "ce.fa"), ""},
		{"range", filepath.Join(htslib, "range.cram"), filepath.Join(htslib, "ce.fa"), ""},
		// Its header says sequence xx is 30 bases long with the digest of
		// xx.fa's zz; samtools decodes it (no read needs a reference
		// base), seqstore keeps no read set under a reference its header
		// contradicts.
		{"xx#large_aux_java", filepath.Join(htslib, "xx#large_aux_java.cram"), filepath.Join(htslib, "xx.fa"),
			`source1, header: @SQ "xx" has length 30, but reference ref-xx's sequence has 20`},
		{"tag_aux#aux_java", filepath.Join(staden, "tag_aux#aux_java.cram"), filepath.Join(staden, "tag_aux.fa"), ""},
		// io_lib's 9827_rand3.cram is left out: it was written against
		// hs37d5, which neither package ships, and seqstore keeps a CRAM
		// only under a reference that holds its @SQ sequences. Its
		// ce#5b_java and xx#large_aux_java are htslib's.
	}
	profiles := []struct{ name, opts string }{
		{"v30", "version=3.0"},
		{"v31-fast", "version=3.1,fast"},
		{"v31-normal", "version=3.1"},
		{"v31-small", "version=3.1,small"},
		{"v31-archive", "version=3.1,archive"},
	}
	for _, sam := range []string{"ce#5b", "ce#1000", "ce#large_seq", "ce#supp", "ce#unmap2", "c1#pad2", "md#1", "xx#rg", "xx#large_aux", "xx#pair"} {
		fasta := filepath.Join(htslib, sam[:strings.IndexByte(sam, '#')]+".fa")
		for _, p := range profiles {
			name := sam + "." + p.name
			file := filepath.Join(dir, name+".cram")
			args := append([]string{"view", "-T", fasta, "-O", "cram," + strings.Split(p.opts, ",")[0]}, profileArgs(p.opts)...)
			testutil.Run(t, "samtools", append(args, "-o", file, filepath.Join(htslib, sam+".sam"))...)
			crams = append(crams, corpusCRAM{name, file, fasta, ""})
		}
	}
	return crams
}

// TestCRAMCorpusReadSets: the CRAMs htslib's and io_lib's test suites
// ship, and CRAMs samtools writes from htslib's SAM files in CRAM 3.0 and
// every CRAM 3.1 profile, arrive through upload and through one import
// job, each decoded against its FASTA imported into seqstore: samtools'
// counts of primary reads and bases, the ETag of what `samtools view -T`
// prints, and for coordinate-sorted files a CRAI that gives samtools the
// records its own index gives for each reference sequence.
func TestCRAMCorpusReadSets(t *testing.T) {
	testutil.RequireTool(t, "samtools")
	dir := t.TempDir()
	crams := corpusCRAMs(t, dir)
	b := backends[0] // the codecs do not depend on the backend; TestCRAMReadSets runs both
	in, places := startWithFilePlace(t, b)
	c := in.goClient(in.rootKey())
	ctx := context.Background()

	// Every FASTA in one reference import job.
	rst, err := c.CreateReferenceStore(ctx, &omics.CreateReferenceStoreInput{Name: aws.String("corpus")})
	if err != nil {
		t.Fatal(err)
	}
	var fastas []string
	var refSources []types.StartReferenceImportJobSourceItem
	for _, cr := range crams {
		if !slices.Contains(fastas, cr.fasta) {
			fastas = append(fastas, cr.fasta)
			name := "ref-" + strings.TrimSuffix(filepath.Base(cr.fasta), ".fa")
			refSources = append(refSources, types.StartReferenceImportJobSourceItem{Name: aws.String(name),
				SourceFile: aws.String(places[0].put(t, "ref/"+filepath.Base(cr.fasta), cr.fasta))})
		}
	}
	started, err := c.StartReferenceImportJob(ctx, &omics.StartReferenceImportJobInput{ReferenceStoreId: rst.Id, RoleArn: aws.String(testRoleArn), Sources: refSources})
	if err != nil {
		t.Fatal(err)
	}
	refJob := waitReferenceImport(t, c, *rst.Id, *started.Id)
	if refJob.Status != types.ReferenceImportJobStatusCompleted {
		t.Fatalf("reference import %s: %+v", refJob.Status, refJob.Sources)
	}
	arns := map[string]string{} // FASTA file to reference ARN
	for i, src := range refJob.Sources {
		if src.Status != types.ReferenceImportJobItemStatusFinished {
			t.Fatalf("reference %s: %s %s", fastas[i], src.Status, aws.ToString(src.StatusMessage))
		}
		md, err := c.GetReferenceMetadata(ctx, &omics.GetReferenceMetadataInput{ReferenceStoreId: rst.Id, Id: src.ReferenceId})
		if err != nil {
			t.Fatal(err)
		}
		arns[fastas[slices.IndexFunc(refSources, func(s types.StartReferenceImportJobSourceItem) bool { return *s.Name == *md.Name })]] = *md.Arn
	}

	store := newStore(t, c, "")
	// Uploads, and one import job of every CRAM.
	uploaded := map[string]string{}
	var sources []types.StartReadSetImportJobSourceItem
	for _, cr := range crams {
		uploaded[cr.name] = uploadFiles(t, c, store, types.FileTypeCram, arns[cr.fasta], 1<<20, cr.file)
		src := importSource(types.FileTypeCram, cr.name, places[0].put(t, "cram/"+cr.name+".cram", cr.file))
		src.ReferenceArn = aws.String(arns[cr.fasta])
		sources = append(sources, src)
	}
	job, err := c.StartReadSetImportJob(ctx, &omics.StartReadSetImportJobInput{SequenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn), Sources: sources})
	if err != nil {
		t.Fatal(err)
	}
	imported := waitImport(t, c, store, *job.Id)
	for i, cr := range crams {
		t.Run(cr.name, func(t *testing.T) {
			want := samtoolsFacts(t, cr.file, cr.fasta)
			src := imported.Sources[i]
			switch {
			case cr.fails == "" && src.Status != types.ReadSetImportJobItemStatusFinished:
				t.Errorf("import: %s %s", src.Status, aws.ToString(src.StatusMessage))
			case cr.fails != "" && (src.Status != types.ReadSetImportJobItemStatusFailed || aws.ToString(src.StatusMessage) != cr.fails):
				t.Errorf("import: %s %q, want FAILED %q", src.Status, aws.ToString(src.StatusMessage), cr.fails)
			}
			for how, id := range map[string]string{"upload": uploaded[cr.name], "import": aws.ToString(src.ReadSetId)} {
				if id == "" {
					continue
				}
				md := waitIngested(t, c, store, id)
				if cr.fails != "" {
					if md.Status != types.ReadSetStatusUploadFailed || aws.ToString(md.StatusMessage) != cr.fails {
						t.Errorf("%s: %s %q, want UPLOAD_FAILED %q", how, md.Status, aws.ToString(md.StatusMessage), cr.fails)
					}
					continue
				}
				if md.Status != types.ReadSetStatusActive {
					t.Errorf("%s: %s %q", how, md.Status, aws.ToString(md.StatusMessage))
					continue
				}
				if got := *md.SequenceInformation.TotalReadCount; got != want.reads {
					t.Errorf("%s: totalReadCount %d, samtools counts %d primary records", how, got, want.reads)
				}
				if got := *md.SequenceInformation.TotalBaseCount; got != want.bases {
					t.Errorf("%s: totalBaseCount %d, samtools' primary records hold %d bases", how, got, want.bases)
				}
				if md.Etag.Algorithm != types.ETagAlgorithmCramMd5up || aws.ToString(md.Etag.Source1) != want.etag {
					t.Errorf("%s: etag %s %s, want CRAM_MD5up %s", how, md.Etag.Algorithm, aws.ToString(md.Etag.Source1), want.etag)
				}
				checkCRAI(t, c, store, md, cr, want, how)
			}
		})
	}
}

// samtoolsCRAM is what samtools says of a CRAM.
type samtoolsCRAM struct {
	reads, bases int64
	etag         string
	sorted       bool     // the header says SO:coordinate
	sequences    []string // the @SQ names
}

func samtoolsFacts(t *testing.T, file, fasta string) samtoolsCRAM {
	t.Helper()
	text := testutil.Run(t, "samtools", "view", "-T", fasta, file)
	var f samtoolsCRAM
	f.etag = md5Hex(text)
	for _, line := range strings.Split(strings.TrimSuffix(string(text), "\n"), "\n") {
		fields := strings.Split(line, "\t")
		if len(fields) < 10 {
			continue
		}
		flag, err := strconv.ParseInt(fields[1], 0, 32)
		if err != nil {
			t.Fatalf("samtools printed flag %q", fields[1])
		}
		if flag&0x900 != 0 {
			continue
		}
		f.reads++
		if fields[9] != "*" {
			f.bases += int64(len(fields[9]))
		}
	}
	for _, line := range strings.Split(string(testutil.Run(t, "samtools", "view", "-H", file)), "\n") {
		switch {
		case strings.HasPrefix(line, "@HD\t") && strings.Contains(line, "\tSO:coordinate"):
			f.sorted = true
		case strings.HasPrefix(line, "@SQ\t"):
			for _, field := range strings.Split(line, "\t") {
				if name, ok := strings.CutPrefix(field, "SN:"); ok {
					f.sequences = append(f.sequences, name)
				}
			}
		}
	}
	return f
}

// checkCRAI demands a CRAI of a coordinate-sorted read set and none of
// another, and that samtools, given seqstore's CRAI, finds for each
// reference sequence the records its own index finds.
func checkCRAI(t *testing.T, c *omics.Client, store string, md *omics.GetReadSetMetadataOutput, cr corpusCRAM, want samtoolsCRAM, how string) {
	t.Helper()
	if !want.sorted {
		if md.Files.Index != nil {
			t.Errorf("%s: a CRAM not sorted by coordinate got an index", how)
		}
		return
	}
	if md.Files.Index == nil {
		t.Errorf("%s: a coordinate-sorted CRAM got no index", how)
		return
	}
	dir := t.TempDir()
	crai := filepath.Join(dir, "ours.crai")
	if err := os.WriteFile(crai, download(t, c, store, *md.Id, types.ReadSetFileIndex, md.Files.Index), 0o644); err != nil {
		t.Fatal(err)
	}
	theirs := filepath.Join(dir, "theirs.cram")
	testutil.Run(t, "cp", cr.file, theirs)
	testutil.Run(t, "samtools", "index", theirs)
	for _, region := range want.sequences {
		got := testutil.Run(t, "samtools", "view", "-T", cr.fasta, "-X", cr.file, crai, region)
		wantRegion := testutil.Run(t, "samtools", "view", "-T", cr.fasta, theirs, region)
		if !bytes.Equal(got, wantRegion) {
			t.Errorf("%s: region %s through seqstore's CRAI gives %d bytes, samtools' own index %d", how, region, len(got), len(wantRegion))
		}
	}
}
