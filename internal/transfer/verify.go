package transfer

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore/internal/analyze"
	"github.com/seqstore/seqstore/internal/etag"
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
	family, err := etag.ParseAlgorithm(algorithm)
	if err != nil {
		return "", err
	}
	families := []etag.Family{family}
	var res *analyze.Result
	switch fileType {
	case types.FileTypeFastq:
		return analyze.FASTQETag(r, family)
	case types.FileTypeBam, types.FileTypeUbam:
		res, err = analyze.BAM(analyze.WithoutQC(ctx), r, string(fileType), nil, families, analyze.Limits{})
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
