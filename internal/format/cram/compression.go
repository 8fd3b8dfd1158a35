package cram

import (
	"fmt"
	"sort"
)

// Data series, indexed by their position in dsNames.
const (
	dsBF = iota
	dsCF
	dsRI
	dsRL
	dsAP
	dsRG
	dsRN
	dsMF
	dsNS
	dsNP
	dsTS
	dsNF
	dsTL
	dsFN
	dsFC
	dsFP
	dsDL
	dsBB
	dsQQ
	dsBS
	dsIN
	dsRS
	dsPD
	dsHC
	dsSC
	dsMQ
	dsBA
	dsQS
	dsTC
	dsTN
	numDS
)

var dsNames = [numDS]string{"BF", "CF", "RI", "RL", "AP", "RG", "RN", "MF", "NS", "NP", "TS", "NF", "TL", "FN", "FC", "FP", "DL", "BB", "QQ", "BS", "IN", "RS", "PD", "HC", "SC", "MQ", "BA", "QS", "TC", "TN"}

// Encoding ids (CRAM 3.1 §13).
const (
	encNull          = 0
	encExternal      = 1
	encGolomb        = 2
	encHuffman       = 3
	encByteArrayLen  = 4
	encByteArrayStop = 5
	encBeta          = 6
	encSubexp        = 7
	encGolombRice    = 8
	encGamma         = 9
)

var encNames = map[int32]string{encNull: "NULL", encExternal: "EXTERNAL", encGolomb: "GOLOMB", encHuffman: "HUFFMAN",
	encByteArrayLen: "BYTE_ARRAY_LEN", encByteArrayStop: "BYTE_ARRAY_STOP", encBeta: "BETA", encSubexp: "SUBEXP",
	encGolombRice: "GOLOMB_RICE", encGamma: "GAMMA"}

// encoding is a parsed encoding descriptor; it is bound to a slice's blocks
// before use (see bind).
type encoding struct {
	kind      int32
	contentID int32 // EXTERNAL, BYTE_ARRAY_STOP
	stop      byte  // BYTE_ARRAY_STOP
	offset    int32 // BETA, SUBEXP, GAMMA
	param     int32 // BETA bit count, SUBEXP k
	huff      *huffman
	length    *encoding // BYTE_ARRAY_LEN
	value     *encoding // BYTE_ARRAY_LEN
}

// tagDesc is one tag of a tag line: its name and BAM type.
type tagDesc struct {
	key  int32 // name[0]<<16 | name[1]<<8 | type
	name [2]byte
	typ  byte
}

// compressionHeader is a container's compression header.
type compressionHeader struct {
	readNames bool // RN: names are stored for every record
	apDelta   bool // AP: positions are deltas from the previous record
	refNeeded bool // RR: bases are differences from an external reference
	subst     [5][4]byte
	tagLines  [][]tagDesc
	series    [numDS]*encoding
	tags      map[int32]*encoding
}

var baseOrder = [5]byte{'A', 'C', 'G', 'T', 'N'}

func parseCompressionHeader(b []byte) (*compressionHeader, error) {
	h := &compressionHeader{readNames: true, apDelta: true, refNeeded: true, tags: map[int32]*encoding{}}
	// Without an SM entry, alternatives are coded in ACGTN order.
	for r := range baseOrder {
		k := 0
		for _, alt := range baseOrder {
			if alt != baseOrder[r] {
				h.subst[r][k] = alt
				k++
			}
		}
	}
	c := cursor{b: b}

	// Preservation map.
	size := c.count(len(b), "preservation map size")
	end := c.pos + size
	n := c.count(size, "preservation map entries")
	for i := 0; i < n && c.err == nil; i++ {
		key := c.bytes(2, "preservation map key")
		if c.err != nil {
			break
		}
		switch string(key) {
		case "RN":
			h.readNames = c.byte1("RN") != 0
		case "AP":
			h.apDelta = c.byte1("AP") != 0
		case "RR":
			h.refNeeded = c.byte1("RR") != 0
		case "QO":
			c.byte1("QO")
		case "SM":
			sm := c.bytes(5, "SM")
			if c.err != nil {
				break
			}
			// Each reference base's byte gives, two bits per alternative in
			// ACGTN order, the code that stands for that alternative.
			for r := range baseOrder {
				k := 0
				for _, alt := range baseOrder {
					if alt == baseOrder[r] {
						continue
					}
					code := sm[r] >> (6 - 2*uint(k)) & 3
					h.subst[r][code] = alt
					k++
				}
			}
		case "TD":
			td := c.bytes(c.count(len(b), "TD size"), "TD")
			if c.err != nil {
				break
			}
			start := 0
			for i, ch := range td {
				if ch != 0 {
					continue
				}
				line := td[start:i]
				start = i + 1
				if len(line)%3 != 0 {
					return nil, fmt.Errorf("tag dictionary line %d is %d bytes, not a multiple of 3", len(h.tagLines), len(line))
				}
				var descs []tagDesc
				for j := 0; j < len(line); j += 3 {
					descs = append(descs, tagDesc{
						key:  int32(line[j])<<16 | int32(line[j+1])<<8 | int32(line[j+2]),
						name: [2]byte{line[j], line[j+1]},
						typ:  line[j+2],
					})
				}
				h.tagLines = append(h.tagLines, descs)
			}
		default:
			return nil, fmt.Errorf("unknown preservation map key %q", key)
		}
	}
	if c.err == nil && c.pos != end {
		return nil, fmt.Errorf("preservation map does not end after the %d bytes its size says", size)
	}

	// Data series encoding map.
	size = c.count(len(b), "data series map size")
	end = c.pos + size
	n = c.count(size, "data series map entries")
	for i := 0; i < n && c.err == nil; i++ {
		key := c.bytes(2, "data series key")
		e, err := parseEncoding(&c, 0)
		if err != nil {
			return nil, fmt.Errorf("data series %q: %w", key, err)
		}
		found := false
		for d, name := range dsNames {
			if name == string(key) {
				h.series[d] = e
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown data series %q", key)
		}
	}
	if c.err == nil && c.pos != end {
		return nil, fmt.Errorf("data series map does not end after the %d bytes its size says", size)
	}

	// Tag encoding map.
	size = c.count(len(b), "tag encoding map size")
	end = c.pos + size
	n = c.count(size, "tag encoding map entries")
	for i := 0; i < n && c.err == nil; i++ {
		key := c.itf8("tag key")
		e, err := parseEncoding(&c, 0)
		if err != nil {
			return nil, fmt.Errorf("tag %c%c:%c: %w", byte(key>>16), byte(key>>8), byte(key), err)
		}
		h.tags[key] = e
	}
	if c.err == nil && c.pos != end {
		return nil, fmt.Errorf("tag encoding map does not end after the %d bytes its size says", size)
	}
	if c.err != nil {
		return nil, c.err
	}
	return h, nil
}

// parseEncoding reads an encoding id, its parameter size and parameters.
func parseEncoding(c *cursor, depth int) (*encoding, error) {
	if depth > 2 {
		return nil, fmt.Errorf("byte array encodings nested too deeply")
	}
	kind := c.itf8("encoding id")
	params := c.bytes(c.count(len(c.b), "encoding parameter size"), "encoding parameters")
	if c.err != nil {
		return nil, c.err
	}
	p := cursor{b: params}
	e := &encoding{kind: kind}
	switch kind {
	case encNull:
	case encExternal:
		e.contentID = p.itf8("EXTERNAL content id")
	case encHuffman:
		n := p.count(1<<16, "HUFFMAN alphabet size")
		syms := make([]int32, 0, n)
		for i := 0; i < n && p.err == nil; i++ {
			syms = append(syms, p.itf8("HUFFMAN symbol"))
		}
		m := p.count(1<<16, "HUFFMAN code length count")
		lens := make([]int32, 0, m)
		for i := 0; i < m && p.err == nil; i++ {
			lens = append(lens, p.itf8("HUFFMAN code length"))
		}
		if p.err != nil {
			return nil, p.err
		}
		if n != m {
			return nil, fmt.Errorf("HUFFMAN has %d symbols but %d code lengths", n, m)
		}
		h, err := newHuffman(syms, lens)
		if err != nil {
			return nil, err
		}
		e.huff = h
	case encByteArrayLen:
		var err error
		if e.length, err = parseEncoding(&p, depth+1); err != nil {
			return nil, fmt.Errorf("BYTE_ARRAY_LEN length: %w", err)
		}
		if e.value, err = parseEncoding(&p, depth+1); err != nil {
			return nil, fmt.Errorf("BYTE_ARRAY_LEN value: %w", err)
		}
	case encByteArrayStop:
		e.stop = p.byte1("BYTE_ARRAY_STOP stop byte")
		e.contentID = p.itf8("BYTE_ARRAY_STOP content id")
	case encBeta:
		e.offset = p.itf8("BETA offset")
		e.param = p.itf8("BETA bit count")
		if p.err == nil && (e.param < 0 || e.param > 32) {
			return nil, fmt.Errorf("BETA bit count %d out of range", e.param)
		}
	case encSubexp:
		e.offset = p.itf8("SUBEXP offset")
		e.param = p.itf8("SUBEXP k")
		if p.err == nil && (e.param < 0 || e.param > 32) {
			return nil, fmt.Errorf("SUBEXP k %d out of range", e.param)
		}
	case encGamma:
		e.offset = p.itf8("GAMMA offset")
	default:
		name := encNames[kind]
		if name == "" {
			name = fmt.Sprintf("encoding %d", kind)
		}
		return nil, fmt.Errorf("%s is not supported in CRAM 3", name)
	}
	if p.err != nil {
		return nil, p.err
	}
	return e, nil
}

// huffman is a canonical Huffman code: codes of each length are consecutive
// in (length, symbol) order.
type huffman struct {
	single  bool // one symbol with a zero-length code: nothing is read
	symbol0 int32
	maxLen  int
	// For each code length: the first code, the index of its first symbol
	// in sorted, and how many codes have that length.
	first  [33]uint32
	start  [33]int32
	count  [33]int32
	sorted []int32
}

func newHuffman(syms, lens []int32) (*huffman, error) {
	h := &huffman{}
	if len(syms) == 0 {
		// htsjdk writes empty codes for series it never uses; decoding
		// with one is an error (see fieldCodec.huffman).
		return h, nil
	}
	if len(syms) == 1 && lens[0] == 0 {
		h.single = true
		h.symbol0 = syms[0]
		return h, nil
	}
	type code struct{ sym, len int32 }
	codes := make([]code, len(syms))
	for i := range syms {
		if lens[i] < 0 || lens[i] > 32 {
			return nil, fmt.Errorf("HUFFMAN code length %d out of range", lens[i])
		}
		codes[i] = code{syms[i], lens[i]}
	}
	sort.Slice(codes, func(i, j int) bool {
		if codes[i].len != codes[j].len {
			return codes[i].len < codes[j].len
		}
		return codes[i].sym < codes[j].sym
	})
	var next uint64
	prevLen := int32(0)
	for i, cd := range codes {
		if cd.len == 0 {
			return nil, fmt.Errorf("HUFFMAN code length 0 in a %d-symbol alphabet", len(codes))
		}
		next <<= uint(cd.len - prevLen)
		prevLen = cd.len
		if next >= 1<<uint(cd.len) {
			return nil, fmt.Errorf("HUFFMAN code lengths over-subscribe the code space")
		}
		if h.count[cd.len] == 0 {
			h.first[cd.len] = uint32(next)
			h.start[cd.len] = int32(i)
		}
		h.count[cd.len]++
		h.sorted = append(h.sorted, cd.sym)
		next++
		h.maxLen = int(cd.len)
	}
	return h, nil
}
