package reference

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/format/fasta"
	"github.com/seqstore/seqstore/internal/meta"
)

// AnyAccount, as the account of FindSequence, searches the references of
// every account: for an operator who publishes all references' sequences.
const AnyAccount = ""

// maxSequenceNames bounds the places FindSequence reports for one
// sequence, which an account importing one assembly many times could
// otherwise grow without end.
const maxSequenceNames = 100

// FoundSequence is a sequence of the stored references, found by digest.
type FoundSequence struct {
	seqstore.ReferenceSequence
	// Names are where it lies: each ACTIVE reference holding it, by ARN,
	// and the name it has there (at most 100).
	Names []SequenceName

	// ref and name say where its residues are read from.
	ref  *seqstore.Reference
	name string
}

// SequenceName is a sequence's name in one reference.
type SequenceName struct {
	ReferenceARN string
	Name         string
}

// FindSequence finds the sequence whose MD5 (lower-case hex) or GA4GH
// identifier ("SQ." and base64url) is digest among the ACTIVE references
// of the account (of all accounts for AnyAccount). None is a
// CodeNotFound error.
func (s *Service) FindSequence(ctx context.Context, account, digest string) (*FoundSequence, error) {
	accounts := []string{account}
	if account == AnyAccount {
		all, err := s.Meta.AccountList(ctx)
		if err != nil {
			return nil, err
		}
		accounts = accounts[:0]
		for _, a := range all {
			accounts = append(accounts, a.ID)
		}
	}
	var found *FoundSequence
	for _, acct := range accounts {
		page := meta.Page{}
		for {
			refs, next, err := s.Meta.ReferenceList(ctx, acct, "", meta.ReferenceFilter{Sequence: digest}, page)
			if err != nil {
				return nil, err
			}
			for _, ref := range refs {
				found = s.addSequence(found, ref, digest)
			}
			if next == "" {
				break
			}
			page.After = next
		}
	}
	if found == nil {
		return nil, seqstore.Errorf(seqstore.CodeNotFound, "no reference holds a sequence with digest %s", digest)
	}
	if found.GA4GH == "" {
		s.fillGA4GH(ctx, found)
	}
	return found, nil
}

// fillGA4GH computes the GA4GH identifier of a sequence whose reference
// was imported before seqstore kept it, from the stored residues, and
// stores it with the reference, so that from then on the sequence is
// found by it too. It costs one read of the sequence, once; a failure
// leaves the identifier unknown (the caller serves the sequence without
// it) and is logged.
func (s *Service) fillGA4GH(ctx context.Context, f *FoundSequence) {
	body, err := s.OpenSequence(ctx, f, 0, f.Length)
	if err == nil {
		h := sha512.New()
		_, err = io.Copy(h, body)
		body.Close()
		if err == nil {
			f.GA4GH = fasta.GA4GHPrefix + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:24])
		}
	}
	if err != nil {
		s.Log.WarnContext(ctx, "cannot compute the GA4GH identifier of a sequence imported before seqstore kept it", "reference", f.ref.ID, "sequence", f.name, "error", err)
		return
	}
	seqs := append([]seqstore.ReferenceSequence(nil), f.ref.Sequences...)
	for i := range seqs {
		if seqs[i].MD5 == f.MD5 && seqs[i].GA4GH == "" {
			seqs[i].GA4GH = f.GA4GH
		}
	}
	if err := s.Meta.ReferenceSequencesSet(ctx, f.ref.AccountID, f.ref.StoreID, f.ref.ID, seqs); err != nil && !errors.Is(err, meta.ErrNotFound) {
		s.Log.WarnContext(ctx, "cannot keep the GA4GH identifier computed for a sequence", "reference", f.ref.ID, "sequence", f.name, "error", err)
		return
	}
	s.Log.InfoContext(ctx, "computed the GA4GH identifier of a sequence imported before seqstore kept it", "reference", f.ref.ID, "sequence", f.name, "ga4gh", f.GA4GH)
}

// addSequence adds the sequences of ref with the digest to what was found.
func (s *Service) addSequence(found *FoundSequence, ref *seqstore.Reference, digest string) *FoundSequence {
	if ref.Status != seqstore.ReferenceStatusActive {
		return found
	}
	for _, sq := range ref.Sequences {
		if sq.MD5 != digest && sq.GA4GH != digest {
			continue
		}
		switch {
		case found == nil:
			found = &FoundSequence{ReferenceSequence: sq, ref: ref, name: sq.Name}
		case found.GA4GH == "" && sq.GA4GH != "":
			// A reference imported before GA4GH digests were kept
			// yields to one that has it.
			found.GA4GH = sq.GA4GH
		}
		if len(found.Names) < maxSequenceNames {
			found.Names = append(found.Names, SequenceName{ReferenceARN: s.ARN.Reference(ref.AccountID, ref.StoreID, ref.ID), Name: sq.Name})
		}
	}
	return found
}

// OpenSequence streams the residues [start, end) of a found sequence,
// upper-cased and without line breaks, reading its reference's FASTA by
// the byte range that holds them. The caller has checked 0 <= start <=
// end <= Length.
func (s *Service) OpenSequence(ctx context.Context, f *FoundSequence, start, end int64) (io.ReadCloser, error) {
	src, okSrc := f.ref.File(seqstore.FileSource)
	idx, okIdx := f.ref.File(seqstore.FileIndex)
	if !okSrc || !okIdx {
		return nil, fmt.Errorf("reference %s has no stored FASTA and index; import it again", f.ref.ID)
	}
	ir, err := s.Blobs.NewRangeReader(ctx, idx.Key, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("reading the index of reference %s: %w", f.ref.ID, err)
	}
	entry, err := fasta.FindEntry(ir, f.name)
	ir.Close()
	if err != nil {
		if errors.Is(err, fasta.ErrNotFound) {
			return nil, fmt.Errorf("the index of reference %s lacks sequence %q; import the reference again", f.ref.ID, f.name)
		}
		return nil, fmt.Errorf("reading the index of reference %s: %w", f.ref.ID, err)
	}
	if entry.Length != f.Length {
		return nil, fmt.Errorf("the index of reference %s gives sequence %q %d residues where its record says %d; import the reference again", f.ref.ID, f.name, entry.Length, f.Length)
	}
	off, n := entry.Span(start, end)
	if n == 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	body, err := s.Blobs.NewRangeReader(ctx, src.Key, off, n)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{fasta.Residues(body, entry, start, end), body}, nil
}
