package transfer

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore/internal/analyze"
	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/format/compress"
)

// etagVerifiable reports whether a downloaded source of this type can be
// hashed into its ETag here. CRAM cannot: its SAM text needs the reference.
func etagVerifiable(t types.FileType) bool {
	return t == types.FileTypeFastq || t == types.FileTypeBam || t == types.FileTypeUbam
}

// contentETag hashes a source into its ETag: FASTQ by its uncompressed
// bytes, BAM by the SAM text of its records as ingestion renders them
// (package analyze). The algorithm is the read set's, such as FASTQ_MD5up
// or BAM_SHA256up. A FASTQ file is only inflated and hashed, not parsed:
// the ETag covers every byte, and ingestion checked the records already.
func contentETag(ctx context.Context, fileType types.FileType, algorithm string, r io.Reader) (string, error) {
	_, name, ok := strings.Cut(algorithm, "_")
	if !ok {
		return "", fmt.Errorf("unknown ETag algorithm %q", algorithm)
	}
	family, err := etag.ParseFamily(name)
	if err != nil {
		return "", err
	}
	families := []etag.Family{family}
	var res *analyze.Result
	switch fileType {
	case types.FileTypeFastq:
		return fastqETag(family, r)
	case types.FileTypeBam, types.FileTypeUbam:
		res, err = analyze.BAM(ctx, r, string(fileType), nil, families, analyze.Limits{})
	default:
		return "", fmt.Errorf("cannot hash %s content", fileType)
	}
	if err != nil {
		return "", err
	}
	// Whatever is left after the last record (nothing, in a sound file)
	// is read too, so that the whole file is seen to arrive.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return "", err
	}
	return res.ETags[family][0], nil
}

// fastqETag hashes the uncompressed bytes of a FASTQ file.
func fastqETag(family etag.Family, r io.Reader) (string, error) {
	rc, _, err := compress.Open(r)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := etag.NewHasher(family)
	if _, err := io.Copy(h, rc); err != nil {
		return "", err
	}
	return h.Sums()[family], nil
}
