package transfer

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore/internal/analyze"
	"github.com/seqstore/seqstore/internal/etag"
)

// etagVerifiable reports whether a downloaded source of this type can be
// hashed into its ETag here. CRAM cannot: its SAM text needs the reference.
func etagVerifiable(t types.FileType) bool {
	return t == types.FileTypeFastq || t == types.FileTypeBam || t == types.FileTypeUbam
}

// contentETag hashes a source the way ingestion does (package analyze):
// FASTQ by its uncompressed bytes, BAM by the SAM text of its records. The
// algorithm is the read set's, such as FASTQ_MD5up or BAM_SHA256up.
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
		res, err = analyze.FASTQ(ctx, []io.Reader{r}, nil, families)
	case types.FileTypeBam, types.FileTypeUbam:
		res, err = analyze.BAM(ctx, r, string(fileType), nil, families)
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
