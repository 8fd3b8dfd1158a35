package deflate

// splitter decides where a block ends: where the symbols start to look
// unlike those before them, so that each block's Huffman codes fit its own
// statistics. It keeps a coarse histogram (eight classes of literal by
// their top bits, short and long matches) and compares each run of new
// observations with the block's so far, as libdeflate's block splitting
// does.
type splitter struct {
	seen     [numClasses]uint32 // observations in the block so far
	fresh    [numClasses]uint32 // since the last check
	numSeen  uint32
	numFresh uint32
}

const (
	numClasses       = 10
	checkEvery       = 512   // observations between checks
	minBlockLength   = 10000 // bytes before a block may end
	splitSensitivity = 200   // the smaller, the more eager to split
)

func (s *splitter) reset() { *s = splitter{} }

func (s *splitter) literal(b byte) {
	s.fresh[b>>5]++
	s.numFresh++
}

func (s *splitter) match(length int) {
	class := 8
	if length >= 9 {
		class = 9
	}
	s.fresh[class]++
	s.numFresh++
}

// due reports whether enough has been observed since the last check.
func (s *splitter) due() bool { return s.numFresh >= checkEvery }

// shouldEnd compares the fresh observations with the block's, which holds
// n bytes so far, and reports whether the block should end before them;
// otherwise it folds them in.
func (s *splitter) shouldEnd(n int) bool {
	if s.numSeen > 0 && n >= minBlockLength {
		// The difference of the two distributions, each scaled by the
		// other's total to keep to integers.
		var delta uint64
		for i := range s.seen {
			expected := uint64(s.seen[i]) * uint64(s.numFresh)
			actual := uint64(s.fresh[i]) * uint64(s.numSeen)
			if actual > expected {
				delta += actual - expected
			} else {
				delta += expected - actual
			}
		}
		if delta >= uint64(s.numFresh)*uint64(s.numSeen)*splitSensitivity/512 {
			return true
		}
	}
	for i := range s.seen {
		s.seen[i] += s.fresh[i]
		s.fresh[i] = 0
	}
	s.numSeen += s.numFresh
	s.numFresh = 0
	return false
}
