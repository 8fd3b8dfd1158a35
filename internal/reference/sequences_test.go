package reference

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
)

// importText imports one FASTA text into the env's store and returns the
// reference made.
func (e *env) importText(name, text string) *seqstore.Reference {
	e.t.Helper()
	j, err := e.svc.StartImport(e.ctx, testAccount, e.store, "", []ImportSource{{SourceFile: e.source(name+".fa", text), Name: name}})
	if err != nil {
		e.t.Fatal(err)
	}
	if errs := e.runItems(j); errs[0] != nil {
		e.t.Fatal(errs[0])
	}
	got, err := e.svc.Meta.JobGet(e.ctx, testAccount, e.store, seqstore.JobKindReferenceImport, j.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	ref, err := e.svc.Get(e.ctx, testAccount, e.store, got.Items[0].ReadSetID)
	if err != nil {
		e.t.Fatal(err)
	}
	return ref
}

// A sequence is found by either digest in every reference of the account
// that holds it, and any range of it reads back upper-cased from the
// stored FASTA; another account finds nothing, and every account's
// sequences are found with AnyAccount.
func TestFindAndOpenSequence(t *testing.T) {
	e := newEnv(t)
	residues := strings.Repeat("ACGTacgtNN", 13) + "acg" // 133 residues over lines of 10
	var lines strings.Builder
	for i := 0; i < len(residues); i += 10 {
		lines.WriteString(residues[i:min(i+10, len(residues))] + "\n")
	}
	first := e.importText("one", ">x\nGGGG\n>chrA desc\n"+lines.String())
	second := e.importText("two", ">renamed\n"+strings.ToUpper(residues)+"\n")
	upper := strings.ToUpper(residues)
	sum := md5.Sum([]byte(upper))
	md5hex := hex.EncodeToString(sum[:])
	ga4gh := first.Sequences[1].GA4GH
	if ga4gh == "" || second.Sequences[0].GA4GH != ga4gh {
		t.Fatalf("GA4GH digests %q and %q, want one and the same", ga4gh, second.Sequences[0].GA4GH)
	}
	for _, digest := range []string{md5hex, ga4gh} {
		found, err := e.svc.FindSequence(e.ctx, testAccount, digest)
		if err != nil {
			t.Fatalf("FindSequence(%s): %v", digest, err)
		}
		if found.MD5 != md5hex || found.GA4GH != ga4gh || found.Length != int64(len(residues)) || len(found.Names) != 2 {
			t.Errorf("FindSequence(%s) = %+v", digest, found)
		}
		for _, r := range [][2]int64{{0, 133}, {0, 0}, {9, 11}, {130, 133}, {50, 51}} {
			body, err := e.svc.OpenSequence(e.ctx, found, r[0], r[1])
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(body)
			body.Close()
			if err != nil || string(got) != upper[r[0]:r[1]] {
				t.Errorf("residues [%d, %d): got %q, %v; want %q", r[0], r[1], got, err, upper[r[0]:r[1]])
			}
		}
	}
	if _, err := e.svc.FindSequence(e.ctx, "210987654321", md5hex); !isNotFound(err) {
		t.Errorf("another account's search: got %v, want not found", err)
	}
	other := "210987654321"
	if err := e.svc.Meta.AccountPut(e.ctx, seqstore.Account{ID: other, Name: "other", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if found, err := e.svc.FindSequence(e.ctx, AnyAccount, ga4gh); err != nil || len(found.Names) != 2 {
		t.Errorf("a search of every account: %+v, %v", found, err)
	}
	if _, err := e.svc.FindSequence(e.ctx, testAccount, strings.Repeat("0", 32)); !isNotFound(err) {
		t.Errorf("an unknown digest: got %v, want not found", err)
	}
	// A deleted reference's sequences are no longer served.
	for _, ref := range []*seqstore.Reference{first, second} {
		if err := e.svc.Delete(e.ctx, testAccount, e.store, ref.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.FindSequence(e.ctx, testAccount, md5hex); !isNotFound(err) {
		t.Errorf("after the references' deletion: got %v, want not found", err)
	}
}

func isNotFound(err error) bool {
	var se *seqstore.Error
	return errors.As(err, &se) && se.Code == seqstore.CodeNotFound
}

// A sequence of a reference imported before GA4GH identifiers were kept
// gets its identifier on its first use by MD5, computed from the stored
// residues and kept, so that it is found by it from then on.
func TestGA4GHFilledOnFirstUse(t *testing.T) {
	e := newEnv(t)
	ref := e.importText("old", ">a\nACGTacgt\nAC\n>b\nNNNN\n>c\nACGT\n")
	want := ref.Sequences[0].GA4GH
	if want == "" {
		t.Fatal("the import computed no GA4GH identifier")
	}
	legacy := append([]seqstore.ReferenceSequence(nil), ref.Sequences...)
	for i := range legacy {
		legacy[i].GA4GH = ""
	}
	if err := e.svc.Meta.ReferenceSequencesSet(e.ctx, testAccount, e.store, ref.ID, legacy); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.FindSequence(e.ctx, testAccount, want); !isNotFound(err) {
		t.Fatalf("before its first use by MD5: got %v, want not found", err)
	}
	found, err := e.svc.FindSequence(e.ctx, testAccount, ref.Sequences[0].MD5)
	if err != nil || found.GA4GH != want {
		t.Fatalf("first use by MD5: %+v, %v; want GA4GH %s", found, err, want)
	}
	again, err := e.svc.FindSequence(e.ctx, testAccount, want)
	if err != nil || again.MD5 != ref.Sequences[0].MD5 {
		t.Fatalf("by the GA4GH identifier afterwards: %+v, %v", again, err)
	}
	stored, err := e.svc.Get(e.ctx, testAccount, e.store, ref.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Sequences[0].GA4GH != want || stored.Sequences[1].GA4GH != "" || stored.Sequences[2].GA4GH != "" {
		t.Errorf("stored sequences %+v: want the identifier of the used one alone", stored.Sequences)
	}
}
