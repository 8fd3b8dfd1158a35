package reference

import (
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/arn"
	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/blob/fileblob"
	"github.com/seqstore/seqstore/internal/location"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/meta/sqlmeta"
	"github.com/seqstore/seqstore/internal/testutil/panicky"
)

const testAccount = "123456789012"

// env is a reference service over a real SQLite database, a file object
// store and a file root for sources, with one reference store.
type env struct {
	t     *testing.T
	ctx   context.Context
	svc   *Service
	root  string
	store string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlmeta.OpenSQLite(ctx, filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	files, err := fileblob.Open(filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { files.Close() })
	root := filepath.Join(dir, "sources")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	locs, err := location.New(ctx, location.Config{FileRoots: []location.FileRoot{{Dir: root}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AccountPut(ctx, seqstore.Account{ID: testAccount, Name: "test", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	store := &seqstore.ReferenceStore{AccountID: testAccount, ID: "4000000001", Name: "refs", CreatedAt: time.Now()}
	if err := db.ReferenceStoreCreate(ctx, store); err != nil {
		t.Fatal(err)
	}
	svc := &Service{Meta: db, Blobs: files, ARN: arn.Builder{Partition: "aws", Region: "us-east-1"}, Log: slog.New(slog.DiscardHandler), Sources: locs}
	return &env{t: t, ctx: ctx, svc: svc, root: root, store: store.ID}
}

// source writes a source file and returns its URI.
func (e *env) source(name, text string) string {
	p := filepath.Join(e.root, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return "file://" + p
}

// runItems does a job's items one after another, as the job runner would.
func (e *env) runItems(j *seqstore.Job) []error {
	got, err := e.svc.Meta.JobGet(e.ctx, testAccount, e.store, seqstore.JobKindReferenceImport, j.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	var errs []error
	for i := range got.Items {
		errs = append(errs, ImportHandler{e.svc}.Do(e.ctx, got, &got.Items[i]))
	}
	return errs
}

// An item done again (its node died before recording its end) finds the
// reference it made and makes no second one.
func TestImportItemDoneTwice(t *testing.T) {
	e := newEnv(t)
	text := ">a desc\nACGTacgt\nAC\n>b\nNNNN\n"
	j, err := e.svc.StartImport(e.ctx, testAccount, e.store, "", []ImportSource{{SourceFile: e.source("r.fa", text), Name: "r"}})
	if err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		if errs := e.runItems(j); errs[0] != nil {
			t.Fatalf("run %d: %v", run, errs[0])
		}
	}
	refs, _, err := e.svc.List(e.ctx, testAccount, e.store, meta.ReferenceFilter{}, meta.Page{})
	if err != nil || len(refs) != 1 {
		t.Fatalf("references after two runs: %d, %v", len(refs), err)
	}
	ref := refs[0]
	m5 := func(residues string) string {
		sum := md5.Sum([]byte(residues))
		return hex.EncodeToString(sum[:])
	}
	ga4gh := func(residues string) string {
		sum := sha512.Sum512([]byte(residues))
		return "SQ." + base64.RawURLEncoding.EncodeToString(sum[:24])
	}
	want := []seqstore.ReferenceSequence{
		{Name: "a", Length: 10, MD5: m5("ACGTACGTAC"), GA4GH: ga4gh("ACGTACGTAC")},
		{Name: "b", Length: 4, MD5: m5("NNNN"), GA4GH: ga4gh("NNNN")},
	}
	if fmt.Sprint(ref.Sequences) != fmt.Sprint(want) {
		t.Errorf("sequences %+v, want %+v", ref.Sequences, want)
	}
	whole := md5.Sum([]byte(text))
	if ref.MD5 != hex.EncodeToString(whole[:]) {
		t.Errorf("md5 %s, want the MD5 of the FASTA, %x", ref.MD5, whole)
	}
	part, err := e.svc.GetPart(e.ctx, testAccount, e.store, ref.ID, "", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(part.Body)
	part.Body.Close()
	if string(b) != text {
		t.Errorf("served %q, want %q", b, text)
	}
}

// A failed item leaves no reference and no stored object.
func TestFailedImportLeavesNothing(t *testing.T) {
	e := newEnv(t)
	j, err := e.svc.StartImport(e.ctx, testAccount, e.store, "", []ImportSource{{SourceFile: e.source("bad.fa", ">a\nACGT\nAC\nACGT\n"), Name: "bad"}})
	if err != nil {
		t.Fatal(err)
	}
	errs := e.runItems(j)
	if errs[0] == nil || !strings.Contains(errs[0].Error(), `sequence "a", line 4: uneven lines`) {
		t.Fatalf("got %v", errs[0])
	}
	refs, _, _ := e.svc.List(e.ctx, testAccount, e.store, meta.ReferenceFilter{}, meta.Page{})
	if len(refs) != 0 {
		t.Errorf("%d references left", len(refs))
	}
	var left []string
	err = e.svc.Blobs.List(e.ctx, "references/", func(key string, _ blob.Attributes) error { left = append(left, key); return nil })
	if err != nil || len(left) != 0 {
		t.Errorf("objects left: %v, %v", left, err)
	}
}

func TestStartImportRefuses(t *testing.T) {
	e := newEnv(t)
	good := e.source("g.fa", ">a\nAC\n")
	tests := []struct {
		name    string
		store   string
		sources []ImportSource
		code    seqstore.ErrorCode
		want    string
	}{
		{"no sources", e.store, nil, seqstore.CodeValidation, "1 to 100 sources"},
		{"no name", e.store, []ImportSource{{SourceFile: good}}, seqstore.CodeValidation, "sources[0]: name is required"},
		{"not FASTA", e.store, []ImportSource{{SourceFile: good, Name: "x"}, {SourceFile: e.source("r.bam", "x"), Name: "y"}}, seqstore.CodeValidation, "sources[1]: sourceFile"},
		{"outside the roots", e.store, []ImportSource{{SourceFile: "file:///etc/hosts.fa", Name: "x"}}, seqstore.CodeAccessDenied, "sources[0]"},
		{"missing store", "4000000009", []ImportSource{{SourceFile: good, Name: "x"}}, seqstore.CodeNotFound, "reference store 4000000009"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.StartImport(e.ctx, testAccount, tt.store, "", tt.sources)
			se, ok := err.(*seqstore.Error)
			if !ok || se.Code != tt.code || !strings.Contains(se.Message, tt.want) {
				t.Errorf("got %v, want %s saying %q", err, tt.code, tt.want)
			}
		})
	}
}

func TestRangeResolve(t *testing.T) {
	tests := []struct {
		r           Range
		size        int64
		first, last int64
		bad         bool
	}{
		{Range{0, 9}, 100, 0, 9, false},
		{Range{90, -1}, 100, 90, 99, false},
		{Range{90, 1000}, 100, 90, 99, false},
		{Range{-10, -1}, 100, 90, 99, false},
		{Range{-1000, -1}, 100, 0, 99, false},
		{Range{100, -1}, 100, 0, 0, true},
		{Range{5, 4}, 100, 0, 0, true},
		{Range{0, -1}, 0, 0, 0, true},
	}
	for _, tt := range tests {
		first, last, err := tt.r.resolve(tt.size)
		if (err != nil) != tt.bad || (!tt.bad && (first != tt.first || last != tt.last)) {
			t.Errorf("%v of %d: %d-%d, %v", tt.r, tt.size, first, last, err)
		}
	}
}

// panickySources panics part-way through every source it opens.
type panickySources struct{ Sources }

func (p panickySources) Open(ctx context.Context, account, uri string) (io.ReadCloser, error) {
	r, err := p.Sources.Open(ctx, account, uri)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{panicky.Reader(r, 100), r}, nil
}

// A panic while reading a source fails the item as an error, and leaves
// neither a reference nor an object behind.
func TestPanicWhileImportingLeavesNothing(t *testing.T) {
	e := newEnv(t)
	e.svc.Sources = panickySources{e.svc.Sources}
	text := ">a\n" + strings.Repeat("ACGTACGTAC\n", 100)
	j, err := e.svc.StartImport(e.ctx, testAccount, e.store, "", []ImportSource{{SourceFile: e.source("p.fa", text), Name: "p"}})
	if err != nil {
		t.Fatal(err)
	}
	if errs := e.runItems(j); !panicky.Caught(errs[0]) {
		t.Fatalf("got %v, want the panic as an error", errs[0])
	}
	refs, _, _ := e.svc.List(e.ctx, testAccount, e.store, meta.ReferenceFilter{}, meta.Page{})
	var left []string
	e.svc.Blobs.List(e.ctx, "references/", func(key string, _ blob.Attributes) error { left = append(left, key); return nil })
	if len(refs) != 0 || len(left) != 0 {
		t.Errorf("left %d references and objects %v", len(refs), left)
	}
}
