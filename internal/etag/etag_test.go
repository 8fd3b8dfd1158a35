package etag

import (
	"strings"
	"testing"
)

func TestParseAlgorithmInvertsAlgorithm(t *testing.T) {
	for _, f := range Families {
		for _, fileType := range []string{"FASTQ", "BAM", "UBAM", "CRAM"} {
			algorithm := f.Algorithm(fileType)
			got, err := ParseAlgorithm(algorithm)
			if err != nil || got != f {
				t.Errorf("ParseAlgorithm(%q) = %q, %v; want %q", algorithm, got, err, f)
			}
		}
	}
	for _, tc := range []struct{ algorithm, want string }{
		{"MD5up", "expected a file type and a family"},
		{"FASTQ_MD5", "unknown ETag algorithm family"},
		{"", "expected a file type and a family"},
	} {
		if _, err := ParseAlgorithm(tc.algorithm); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseAlgorithm(%q): %v, want an error saying %q", tc.algorithm, err, tc.want)
		}
	}
}
