package readset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/analyze"
	"github.com/seqstore/seqstore/internal/arn"
	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/format/fasta"
	"github.com/seqstore/seqstore/internal/format/sam"
	"github.com/seqstore/seqstore/internal/meta"
)

// storedReference returns the ACTIVE reference an ARN names in this
// seqstore: what a CRAM read set is decoded against. Unlike checkReference,
// which takes an ARN of a reference kept elsewhere on its form, a CRAM's
// reference must be here, since its bases are needed.
func (s *Service) storedReference(ctx context.Context, account, referenceArn string) (*seqstore.Reference, error) {
	ref, err := s.lookupReference(ctx, account, referenceArn)
	if err == nil && ref == nil {
		return nil, seqstore.Errorf(seqstore.CodeNotFound, "reference %s does not exist in this seqstore; CRAM read sets are decoded against their reference, so import it first (StartReferenceImportJob)", referenceArn)
	}
	return ref, err
}

// cramReference opens the stored FASTA of a CRAM read set's reference for
// decoding: its index read whole (a line per sequence), its bases read a
// sequence at a time from the object store as the CRAM reaches them.
func (s *Service) cramReference(ctx context.Context, rs *seqstore.ReadSet) (*fasta.File, error) {
	ref, err := s.storedReference(ctx, rs.AccountID, rs.ReferenceArn)
	if err != nil {
		var se *seqstore.Error
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%s", se.Message)
		}
		return nil, err
	}
	src, ok := ref.File(seqstore.FileSource)
	idx, okIdx := ref.File(seqstore.FileIndex)
	if !ok || !okIdx {
		return nil, fmt.Errorf("reference %s has no stored FASTA and index; import it again", rs.ReferenceArn)
	}
	r, err := s.Blobs.NewRangeReader(ctx, idx.Key, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("reading the index of reference %s: %w", rs.ReferenceArn, err)
	}
	defer r.Close()
	// The index is seqstore's own, a line per sequence; the bound keeps a
	// damaged object from being read into memory whole.
	entries, err := fasta.ReadIndex(io.LimitReader(r, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the index of reference %s: %w", rs.ReferenceArn, err)
	}
	return fasta.NewFile(&blobReaderAt{ctx: ctx, blobs: s.Blobs, key: src.Key, size: src.ContentLength}, "reference "+ref.ID, entries), nil
}

// blobReaderAt reads an object by ranges.
type blobReaderAt struct {
	ctx   context.Context
	blobs blob.Store
	key   string
	size  int64
}

func (b *blobReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= b.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), b.size-off)
	r, err := b.blobs.NewRangeReader(b.ctx, b.key, off, n)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	got, err := io.ReadFull(r, p[:n])
	if err == nil && n < int64(len(p)) {
		err = io.EOF
	}
	return got, err
}

// checkAgainstReference demands that an aligned read set's header agree
// with the reference it names: every @SQ sequence present in the reference
// with the same length, and the same M5 digest where the header gives one.
// Alignments to another assembly would otherwise be stored under a
// reference that gives them no meaning.
func checkAgainstReference(hdr *sam.Header, ref *seqstore.Reference, referenceArn string) error {
	if hdr == nil {
		return nil
	}
	byName := make(map[string]seqstore.ReferenceSequence, len(ref.Sequences))
	for _, seq := range ref.Sequences {
		byName[seq.Name] = seq
	}
	m5 := hdr.SequenceTag("M5")
	for _, sq := range hdr.References {
		seq, ok := byName[sq.Name]
		switch {
		case !ok:
			return &analyze.Error{Source: "source1", Where: "header", Msg: fmt.Sprintf("@SQ %q is not a sequence of reference %s (%s); align to that reference or name the one these reads were aligned to", sq.Name, ref.Name, referenceArn)}
		case int64(sq.Length) != seq.Length:
			return &analyze.Error{Source: "source1", Where: "header", Msg: fmt.Sprintf("@SQ %q has length %d, but reference %s's sequence has %d", sq.Name, sq.Length, ref.Name, seq.Length)}
		case m5[sq.Name] != "" && seq.MD5 != "" && !strings.EqualFold(m5[sq.Name], seq.MD5):
			return &analyze.Error{Source: "source1", Where: "header", Msg: fmt.Sprintf("@SQ %q has M5 %s, but reference %s's sequence has %s: another assembly", sq.Name, m5[sq.Name], ref.Name, seq.MD5)}
		}
	}
	return nil
}

// referenceToCheck is the stored reference an aligned read set is checked
// against: for CRAM always (it was decoded against it), for BAM when its
// ARN names a reference kept here (an ARN of a reference kept elsewhere is
// taken on its form).
func (s *Service) referenceToCheck(ctx context.Context, rs *seqstore.ReadSet) (*seqstore.Reference, error) {
	if rs.ReferenceArn == "" || rs.FileType == seqstore.FileTypeUBAM || rs.FileType == seqstore.FileTypeFASTQ {
		return nil, nil
	}
	r, err := arn.Parse(rs.ReferenceArn)
	if err != nil {
		return nil, nil
	}
	ref, err := s.Meta.ReferenceGet(ctx, rs.AccountID, r.StoreID, r.ID)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, nil
	}
	return ref, err
}
