package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/qc"
	"github.com/seqstore/seqstore/internal/testutil"
)

// getQC sends GET .../readset/{id}/qc signed with key (unsigned when key
// is the zero key) and returns the status, the error code and the body.
func (in *instance) getQC(t *testing.T, key seqstore.AccessKey, method, store, id string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, in.endpoint+"/sequencestore/"+store+"/readset/"+id+"/qc", nil)
	if err != nil {
		t.Fatal(err)
	}
	if key.ID != "" {
		signNow(t, req, key.ID, key.Secret, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), body
}

// tableOf returns the rows of one module of a fastqc_data.txt.
func tableOf(t *testing.T, text []byte, module string) [][]string {
	t.Helper()
	var rows [][]string
	in := false
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, ">>"+module+"\t"):
			in = true
		case strings.HasPrefix(line, ">>END_MODULE"):
			in = false
		case in && !strings.HasPrefix(line, "#"):
			rows = append(rows, strings.Split(line, "\t"))
		}
	}
	if len(rows) == 0 {
		t.Fatalf("no %q module in:\n%.500s", module, text)
	}
	return rows
}

// column returns one column of a table, with the row labels.
func column(rows [][]string, i int) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r[0]+"="+r[i])
	}
	return out
}

// A FASTQ pair, a BAM and a CRAM uploaded through a real server get QC
// reports computed as they are ingested: each FASTQ source's per-base mean
// quality, GC distribution and duplication levels are FastQC's on the same
// file, the BAM's and
// the CRAM's flagstat is samtools', and the BAM's SN lines are samtools
// stats'. The reports are served signed and to their account only, and
// `seqstore qc -o` writes them so that MultiQC reports every read set.
func TestReadSetQC(t *testing.T) {
	d := lambdaData(t)
	fastqc := testutil.RequireTool(t, "fastqc")
	multiqc := testutil.RequireTool(t, "multiqc")
	b := backends[0]
	places := jobPlaces(t)[:1]
	cfg := newConfig(t, b)
	cfg.SkipQC = false // -ingest-qc
	allowJobs(t, cfg, places)
	in := start(t, b, cfg)
	key := in.rootKey()
	c := in.goClient(key)
	refArn := importLambdaReference(t, c, places[0], d.ref)
	store := newStore(t, c, "")
	cram := filepath.Join(t.TempDir(), "aligned.cram")
	testutil.Run(t, "samtools", "view", "-C", "-T", d.ref, "-o", cram, d.bam)

	ids := map[string]string{
		"FASTQ": uploadFiles(t, c, store, types.FileTypeFastq, "", 1<<20, d.r1gz, d.r2gz),
		"BAM":   uploadFiles(t, c, store, types.FileTypeBam, refArn, 1<<20, d.bam),
		"CRAM":  uploadFiles(t, c, store, types.FileTypeCram, refArn, 1<<20, cram),
	}
	reports := map[string]*qc.Report{}
	for kind, id := range ids {
		if md := waitIngested(t, c, store, id); md.Status != types.ReadSetStatusActive {
			t.Fatalf("%s: %s %q", kind, md.Status, aws.ToString(md.StatusMessage))
		}
		status, code, body := in.getQC(t, key, "GET", store, id)
		if status != http.StatusOK {
			t.Fatalf("%s: GET qc: %d %s %s", kind, status, code, body)
		}
		var rep qc.Report
		if err := json.Unmarshal(body, &rep); err != nil {
			t.Fatalf("%s: %v: %.300s", kind, err, body)
		}
		if rep.FileType != kind {
			t.Errorf("%s: the report says fileType %s", kind, rep.FileType)
		}
		reports[kind] = &rep
	}

	t.Run("FASTQ per-base mean quality, GC distribution and duplication are FastQC's", func(t *testing.T) {
		rep := reports["FASTQ"]
		if len(rep.Sources) != 2 {
			t.Fatalf("%d sources, want 2", len(rep.Sources))
		}
		out := t.TempDir()
		testutil.Run(t, fastqc, "--quiet", "--extract", "--outdir", out, d.r1gz, d.r2gz)
		for i, file := range []string{d.r1gz, d.r2gz} {
			theirs, err := os.ReadFile(filepath.Join(out, strings.TrimSuffix(filepath.Base(file), ".fq.gz")+"_fastqc", "fastqc_data.txt"))
			if err != nil {
				t.Fatal(err)
			}
			var ours bytes.Buffer
			if err := qc.WriteFastQCReport(&ours, rep.Sources[i].FileName, rep.Sources[i].Reads); err != nil {
				t.Fatal(err)
			}
			for _, m := range []struct {
				module string
				col    int
			}{{"Per base sequence quality", 1}, {"Per sequence GC content", 1}, {"Sequence Duplication Levels", 2}} {
				got, want := column(tableOf(t, ours.Bytes(), m.module), m.col), column(tableOf(t, theirs, m.module), m.col)
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("source%d %s:\nseqstore %v\nFastQC   %v", i+1, m.module, got, want)
				}
			}
		}
	})

	t.Run("BAM and CRAM flagstat and SN are samtools'", func(t *testing.T) {
		flagstat := string(testutil.Run(t, "samtools", "flagstat", d.bam))
		for _, kind := range []string{"BAM", "CRAM"} {
			var got bytes.Buffer
			if err := qc.WriteFlagstatReport(&got, reports[kind].Alignments); err != nil {
				t.Fatal(err)
			}
			if got.String() != flagstat {
				t.Errorf("%s flagstat:\n%s\nsamtools flagstat of the BAM:\n%s", kind, got.String(), flagstat)
			}
		}
		var sn bytes.Buffer
		if err := qc.WriteStatsSNReport(&sn, reports["BAM"].Alignments); err != nil {
			t.Fatal(err)
		}
		theirs := string(testutil.Run(t, "samtools", "stats", d.bam))
		lines := 0
		for _, line := range strings.Split(sn.String(), "\n") {
			if !strings.HasPrefix(line, "SN\t") {
				continue
			}
			lines++
			name, _, _ := strings.Cut(strings.TrimPrefix(line, "SN\t"), "\t")
			if !strings.Contains(theirs, "\n"+line+"\t") && !strings.Contains(theirs, "\n"+line+"\n") {
				t.Errorf("SN %s: seqstore %q, not in samtools stats' SN lines", name, line)
			}
		}
		if lines < 20 {
			t.Errorf("only %d SN lines", lines)
		}
		if refs := reports["BAM"].Alignments.References; len(refs) != 1 || refs[0].Length != 48502 || refs[0].MeanDepth <= 0 {
			t.Errorf("per-reference counts %+v, want the lambda genome covered", refs)
		}
	})

	t.Run("seqstore qc writes what MultiQC reports, every read set in it", func(t *testing.T) {
		dir := t.TempDir()
		for _, id := range ids {
			in.mustSeqstore(t, "qc", "-store", store, "-o", dir, id)
		}
		report := t.TempDir()
		testutil.Run(t, multiqc, "--quiet", "--data-format", "json", "--outdir", report, dir)
		text, err := os.ReadFile(filepath.Join(report, "multiqc_data", "multiqc_data.json"))
		if err != nil {
			t.Fatal(err)
		}
		var data struct {
			Raw struct {
				FastQC   map[string]map[string]any `json:"multiqc_fastqc"`
				Flagstat map[string]map[string]any `json:"multiqc_samtools_flagstat"`
				Stats    map[string]map[string]any `json:"multiqc_samtools_stats"`
			} `json:"report_saved_raw_data"`
		}
		// MultiQC writes NaN for the rates it cannot compute, which JSON
		// does not have.
		text = bytes.ReplaceAll(text, []byte(": NaN"), []byte(": null"))
		if err := json.Unmarshal(text, &data); err != nil {
			t.Fatal(err)
		}
		for i, src := range reports["FASTQ"].Sources {
			name := strings.TrimSuffix(src.FileName, ".fastq.gz")
			if got := data.Raw.FastQC[name]["Total Sequences"]; got != float64(src.Reads.Reads) {
				t.Errorf("MultiQC's FastQC sample %s (source%d): Total Sequences %v, want %d (samples: %v)", name, i+1, got, src.Reads.Reads, keys(data.Raw.FastQC))
			}
		}
		for _, kind := range []string{"BAM", "CRAM"} {
			rep := reports[kind]
			name := strings.TrimSuffix(strings.TrimSuffix(rep.Sources[0].FileName, ".bam"), ".cram")
			if got := data.Raw.Stats[name]["raw_total_sequences"]; got != float64(rep.Alignments.Summary.RawTotalSequences) {
				t.Errorf("MultiQC's samtools stats sample %s: raw_total_sequences %v, want %d (samples: %v)", name, got, rep.Alignments.Summary.RawTotalSequences, keys(data.Raw.Stats))
			}
			if got := data.Raw.Flagstat[name]["total_passed"]; got != float64(rep.Alignments.QCPassed.Total) {
				t.Errorf("MultiQC's flagstat sample %s: total_passed %v, want %d (samples: %v)", name, got, rep.Alignments.QCPassed.Total, keys(data.Raw.Flagstat))
			}
		}
		if n := len(data.Raw.FastQC) + len(data.Raw.Stats); n != 4 {
			t.Errorf("MultiQC reports %d FastQC and samtools stats samples, want 4", n)
		}
	})

	t.Run("only the account's signed requests get a report", func(t *testing.T) {
		other := in.newAccount(t, "210987654321")
		id := ids["BAM"]
		for _, c := range []struct {
			name          string
			key           seqstore.AccessKey
			method, store string
			id            string
			status        int
			code          string
		}{
			{"unsigned", seqstore.AccessKey{}, "GET", store, id, 403, "MissingAuthenticationTokenException"},
			{"a wrong secret", seqstore.AccessKey{ID: key.ID, Secret: "wrong"}, "GET", store, id, 403, "InvalidSignatureException"},
			{"another account", other, "GET", store, id, 404, "ResourceNotFoundException"},
			{"a read set that does not exist", key, "GET", store, "1234567890", 404, "ResourceNotFoundException"},
			{"a malformed ID", key, "GET", store, "abc", 400, "ValidationException"},
			{"another method", key, "POST", store, id, 405, "MethodNotAllowedException"},
		} {
			status, code, body := in.getQC(t, c.key, c.method, c.store, c.id)
			if status != c.status || code != c.code || !bytes.Contains(body, []byte(`"message"`)) {
				t.Errorf("%s: %d %s %s, want %d %s", c.name, status, code, body, c.status, c.code)
			}
			if status == 200 {
				t.Errorf("%s: got the report", c.name)
			}
		}
	})

	t.Run("a deleted read set's report is gone", func(t *testing.T) {
		id := ids["BAM"]
		out, err := c.BatchDeleteReadSet(context.Background(), &omics.BatchDeleteReadSetInput{SequenceStoreId: aws.String(store), Ids: []string{id}})
		if err != nil || len(out.Errors) > 0 {
			t.Fatalf("delete: %v %+v", err, out)
		}
		if status, code, body := in.getQC(t, key, "GET", store, id); status != 404 || code != "ResourceNotFoundException" {
			t.Errorf("after delete: %d %s %s", status, code, body)
		}
		if _, err := in.srv.Meta.ReadSetQCGet(context.Background(), cfg.AccountID, store, id); err == nil {
			t.Error("the report outlived its read set in the metadata store")
		}
	})
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
