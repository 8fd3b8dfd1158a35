package analyze

import (
	"bufio"
	"bytes"
	"io"

	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/format/compress"
)

// Detect guesses a file's type from its first bytes: BAM (BGZF whose data
// starts with the BAM magic), CRAM, or otherwise FASTQ. It reads from br
// only through Peek, so br still yields the whole file.
func Detect(br *bufio.Reader) string {
	head, _ := br.Peek(64 << 10)
	if bytes.HasPrefix(head, []byte("CRAM")) {
		return FileTypeCRAM
	}
	if bgzf.IsHeader(head) {
		rc, _, err := compress.Open(bytes.NewReader(head))
		if err == nil {
			magic := make([]byte, 4)
			_, err := io.ReadFull(rc, magic)
			rc.Close()
			if err == nil && bytes.Equal(magic, []byte("BAM\x01")) {
				return FileTypeBAM
			}
		}
	}
	return FileTypeFASTQ
}
