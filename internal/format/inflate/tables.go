package inflate

import "math/bits"

// A decode table entry packs everything the decoder needs after one lookup:
//
//	bits 0-3   bits of input the entry's code takes (in a subtable, the bits
//	           past the main table's)
//	bits 4-7   flags saying what kind of entry it is
//	bits 8-12  extra bits that follow the code (lengths, distances), or for a
//	           subtable pointer the subtable's index bits, or for a literal
//	           entry the count of literals less one
//	bits 16-31 the literal byte (two for a pair: the first in bits 16-23),
//	           the length or distance base, the code-length symbol, or the
//	           subtable's start in the table
//
// A length or distance entry has no flag, so the hot path tests one bit for
// a literal and goes straight on to a match otherwise.
const (
	codeLenMask = 0x0f
	flagBad     = 0x10 // no code of the tree maps here, or the symbol is unusable
	flagSub     = 0x20 // points to a subtable for codes longer than the main table's index
	flagEOB     = 0x40 // end of block
	flagLiteral = 0x80
)

const (
	// An 11-bit main table holds every literal/length code of a typical
	// block directly; longer codes take one more lookup in a subtable.
	litlenTableBits = 11
	// The worst case of main table plus subtables for 288 symbols, an
	// 11-bit main table and 15-bit codes (zlib's "enough" bound).
	litlenTableSize = 2342
	distTableBits   = 8
	// The same bound for 32 symbols and an 8-bit main table.
	distTableSize = 402
	// Code-length codes are at most 7 bits long: one table, no subtables.
	codeLenTableBits = 7
	codeLenTableSize = 1 << codeLenTableBits

	maxCodeLen     = 15
	numLitlenSyms  = 288
	maxDynLitlen   = 286 // HLIT allows 257..288 but symbols 286, 287 are invalid
	numDistSyms    = 32
	maxDynDist     = 30 // likewise distance symbols 30 and 31
	numCodeLenSyms = 19
	endOfBlock     = 256
)

// litlenSymEntry and distSymEntry are each symbol's table entry less its
// code length, which buildTable adds.
var (
	litlenSymEntry [numLitlenSyms]uint32
	distSymEntry   [numDistSyms]uint32
	codeLenEntry   [numCodeLenSyms]uint32

	// The fixed Huffman codes' tables, built once.
	fixedLitlen [litlenTableSize]uint32
	fixedDist   [distTableSize]uint32
)

func init() {
	for sym := range 256 {
		litlenSymEntry[sym] = flagLiteral | uint32(sym)<<16
	}
	litlenSymEntry[endOfBlock] = flagEOB
	// Length symbols 257..284 come in groups of four sharing an extra-bit
	// count, after eight with none; 285 is 258 with no extra bits.
	base := uint32(3)
	for i := range 28 {
		extra := uint32(0)
		if i >= 8 {
			extra = uint32(i-4) / 4
		}
		litlenSymEntry[257+i] = base<<16 | extra<<8
		base += 1 << extra
	}
	litlenSymEntry[285] = 258 << 16
	litlenSymEntry[286] = flagBad
	litlenSymEntry[287] = flagBad

	// Distances: four with no extra bits, then pairs sharing a count.
	base = 1
	for i := range maxDynDist {
		extra := uint32(0)
		if i >= 4 {
			extra = uint32(i-2) / 2
		}
		distSymEntry[i] = base<<16 | extra<<8
		base += 1 << extra
	}
	distSymEntry[30] = flagBad
	distSymEntry[31] = flagBad

	for sym := range numCodeLenSyms {
		codeLenEntry[sym] = uint32(sym) << 16
	}

	var lens [numLitlenSyms]uint8
	for i := range lens {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	if !buildTable(fixedLitlen[:], lens[:], litlenSymEntry[:], litlenTableBits) {
		panic("inflate: fixed literal/length code does not build")
	}
	pairLiterals(&fixedLitlen)
	for i := range numDistSyms {
		lens[i] = 5
	}
	if !buildTable(fixedDist[:], lens[:numDistSyms], distSymEntry[:], distTableBits) {
		panic("inflate: fixed distance code does not build")
	}
}

// buildTable fills table with the canonical Huffman code that lens
// describes (one code length per symbol, zero for unused symbols), using a
// main table indexed by tableBits bits of input and subtables after it for
// longer codes. It reports false for a code that is over-subscribed or
// incomplete. As zlib and Go's compress/flate do, it accepts a code with no
// symbols and one with a single one-bit code; the unused bit patterns decode
// to flagBad entries, an error only if the stream uses them.
func buildTable(table []uint32, lens []uint8, symEntry []uint32, tableBits uint) bool {
	var count [maxCodeLen + 1]uint16
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	maxLen := uint(0)
	left := 1
	for l := uint(1); l <= maxCodeLen; l++ {
		left = left<<1 - int(count[l])
		if left < 0 {
			return false
		}
		if count[l] != 0 {
			maxLen = l
		}
	}
	if left != 0 {
		// Incomplete: only the empty code and a lone one-bit code pass.
		single := maxLen == 1 && count[1] == 1
		if maxLen != 0 && !single {
			return false
		}
		for i := range table[:1<<tableBits] {
			table[i] = flagBad
		}
		if maxLen == 0 {
			return true
		}
	}

	// Symbols sorted by code length, then by value: canonical code order.
	var offsets [maxCodeLen + 2]uint16
	for l := 1; l <= maxCodeLen; l++ {
		offsets[l+1] = offsets[l] + count[l]
	}
	var sorted [numLitlenSyms]uint16
	for sym, l := range lens {
		if l != 0 {
			sorted[offsets[l]] = uint16(sym)
			offsets[l]++
		}
	}
	numCodes := int(offsets[maxCodeLen+1])

	mainMask := uint32(1)<<tableBits - 1
	code := uint32(0) // the next code, most significant bit first
	prevLen := uint(0)
	subPrefix := ^uint32(0)
	subStart := uint32(0)
	next := uint32(1) << tableBits // where the next subtable goes
	for _, sym := range sorted[:numCodes] {
		l := uint(lens[sym])
		code <<= l - prevLen
		prevLen = l
		// Deflate sends codes most significant bit first into a stream
		// read least significant bit first, so tables are indexed by the
		// bit-reversed code.
		rev := uint32(bits.Reverse16(uint16(code))) >> (16 - l)
		entry := symEntry[sym]
		if l <= tableBits {
			for i := rev; i <= mainMask; i += 1 << l {
				table[i] = entry | uint32(l)
			}
		} else {
			prefix := rev & mainMask
			if prefix != subPrefix {
				// A new subtable, just big enough for the codes that
				// share this prefix: grow it while the codes of the
				// lengths still to come leave it incomplete.
				subBits := l - tableBits
				room := 1 << subBits
				for subBits+tableBits < maxLen {
					room -= int(count[subBits+tableBits])
					if room <= 0 {
						break
					}
					subBits++
					room <<= 1
				}
				if int(next)+1<<subBits > len(table) {
					return false
				}
				subPrefix, subStart = prefix, next
				table[prefix] = flagSub | subStart<<16 | uint32(subBits)<<8 | uint32(tableBits)
				next += 1 << subBits
			}
			subBits := table[prefix] >> 8 & 0x1f
			for i := rev >> tableBits; i < 1<<subBits; i += 1 << (l - tableBits) {
				table[subStart+i] = entry | uint32(l-tableBits)
			}
		}
		count[l]--
		code++
	}
	return true
}

// pairLiterals turns each main-table literal entry whose index bits also
// hold the whole code of a second literal into an entry for both. Decoding
// is a chain of table lookups, each waiting on the one before for how far
// to shift; text with short literal codes, such as FASTQ, gets two literals
// from one link of the chain.
func pairLiterals(table *[litlenTableSize]uint32) {
	// Downwards, so that the second lookup, at a lower index, still sees
	// a single literal.
	for i := uint32(litlenMask); ; i-- {
		first := table[i]
		firstLen := first & codeLenMask
		if first&flagLiteral != 0 && firstLen < litlenTableBits {
			second := table[i>>firstLen]
			secondLen := second & codeLenMask
			if second&flagLiteral != 0 && firstLen+secondLen <= litlenTableBits {
				table[i] = flagLiteral | 1<<8 | (first>>16&0xff|second>>8&0xff00)<<16 | (firstLen + secondLen)
			}
		}
		if i == 0 {
			break
		}
	}
}
