package readset

import (
	"errors"
	"strings"
	"testing"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/analyze"
	"github.com/seqstore/seqstore/internal/format/sam"
)

func TestCheckAgainstReference(t *testing.T) {
	ref := &seqstore.Reference{Name: "lambda", Sequences: []seqstore.ReferenceSequence{
		{Name: "chr1", Length: 100, MD5: "0123456789abcdef0123456789abcdef"},
		{Name: "chr2", Length: 50},
	}}
	header := func(text string, refs ...sam.Reference) *sam.Header { return &sam.Header{Text: text, References: refs} }
	for _, tc := range []struct {
		name string
		hdr  *sam.Header
		want string // "" = agrees
	}{
		{"no header", nil, ""},
		{"a subset", header("@SQ\tSN:chr2\tLN:50\n", sam.Reference{Name: "chr2", Length: 50}), ""},
		{"M5 in upper case", header("@SQ\tSN:chr1\tLN:100\tM5:0123456789ABCDEF0123456789ABCDEF\n", sam.Reference{Name: "chr1", Length: 100}), ""},
		{"no M5 in the reference", header("@SQ\tSN:chr2\tLN:50\tM5:ffff\n", sam.Reference{Name: "chr2", Length: 50}), ""},
		{"unknown name", header("@SQ\tSN:chrX\tLN:100\n", sam.Reference{Name: "chrX", Length: 100}), `@SQ "chrX" is not a sequence`},
		{"other length", header("@SQ\tSN:chr1\tLN:101\n", sam.Reference{Name: "chr1", Length: 101}), `"chr1" has length 101`},
		{"other M5", header("@SQ\tSN:chr1\tLN:100\tM5:ffffffffffffffffffffffffffffffff\n", sam.Reference{Name: "chr1", Length: 100}), "another assembly"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkAgainstReference(tc.hdr, ref, "arn:ref")
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ae *analyze.Error
			if !errors.As(err, &ae) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an analyze.Error saying %q", err, tc.want)
			}
		})
	}
}
