// Package rangecoder is the byte-wise range decoder and the adaptive
// frequency model that CRAM 3.1's arithmetic codec and fqzcomp quality
// codec share (the "Range coding" and "Adaptive Modelling" sections of the
// hts-specs CRAMcodecs document, after Eugene Shelwien's coder as used by
// htscodecs). Both must reproduce the encoder's model updates exactly,
// including the frequency step, the halving and the one-step reordering.
package rangecoder

const (
	top = 1 << 24
	// MaxFreq is the model total above which frequencies are halved.
	MaxFreq = 1<<16 - 17
	step    = 16
)

// Decoder is the range decoder state over one input slice. Errors (running
// out of input, a frequency outside the model) are sticky: check Failed
// after decoding.
type Decoder struct {
	src    []byte
	p      int
	rng    uint32
	code   uint32
	failed bool
	failAt int
}

// Init starts decoding src, reading its first five bytes. With fewer than
// five bytes the decoder is marked failed.
func (d *Decoder) Init(src []byte) {
	*d = Decoder{src: src, rng: 0xffffffff}
	if len(src) < 5 {
		d.fail()
		return
	}
	for i := 0; i < 5; i++ {
		d.code = d.code<<8 | uint32(src[i])
	}
	d.p = 5
}

func (d *Decoder) fail() {
	if !d.failed {
		d.failed = true
		d.failAt = d.p
	}
}

// Failed reports whether the input was corrupt or ran out.
func (d *Decoder) Failed() bool { return d.failed }

// FailOffset is the input offset where decoding first failed.
func (d *Decoder) FailOffset() int { return d.failAt }

// Offset is the number of input bytes consumed so far.
func (d *Decoder) Offset() int { return d.p }

// SymFreq is one symbol of a model with its current frequency.
type SymFreq struct {
	Freq uint16
	Sym  uint16
}

// Model is an adaptive model over symbols 0..n-1, kept roughly sorted with
// the most frequent symbols first so that the linear search is short.
type Model struct {
	tot uint32
	f   []SymFreq
}

// Init resets the model to n symbols of frequency 1, reusing its storage
// when large enough.
func (m *Model) Init(n int) {
	if cap(m.f) < n {
		m.f = make([]SymFreq, n)
	}
	m.f = m.f[:n]
	for i := range m.f {
		m.f[i] = SymFreq{Freq: 1, Sym: uint16(i)}
	}
	m.tot = uint32(n)
}

// InitStorage is Init using the given storage, which must hold n entries;
// it lets many small models share one allocation.
func (m *Model) InitStorage(storage []SymFreq, n int) {
	m.f = storage[:n:n]
	for i := range m.f {
		m.f[i] = SymFreq{Freq: 1, Sym: uint16(i)}
	}
	m.tot = uint32(n)
}

// Uninitialised reports whether the model has never been initialised.
func (m *Model) Uninitialised() bool { return m.f == nil }

// Decode decodes one symbol and updates the model.
func (m *Model) Decode(d *Decoder) uint16 {
	if d.failed || m.tot == 0 || d.rng < m.tot {
		d.fail()
		return 0
	}
	rng := d.rng / m.tot
	freq := d.code / rng
	if freq >= m.tot {
		d.fail()
		return 0
	}
	f := m.f
	acc := uint32(0)
	i := 0
	for ; i < len(f); i++ {
		if acc+uint32(f[i].Freq) > freq {
			break
		}
		acc += uint32(f[i].Freq)
	}
	if i >= len(f) {
		d.fail()
		return 0
	}
	d.code -= acc * rng
	d.rng = uint32(f[i].Freq) * rng
	for d.rng < top {
		if d.p >= len(d.src) {
			d.fail()
			break
		}
		d.rng <<= 8
		d.code = d.code<<8 | uint32(d.src[d.p])
		d.p++
	}

	f[i].Freq += step
	m.tot += step
	if m.tot > MaxFreq {
		m.tot = 0
		for k := range f {
			f[k].Freq -= f[k].Freq >> 1
			m.tot += uint32(f[k].Freq)
		}
	}
	sym := f[i].Sym
	if i > 0 && f[i].Freq > f[i-1].Freq {
		f[i], f[i-1] = f[i-1], f[i]
	}
	return sym
}

// InitBlock initialises a model stored inline in block, which must hold
// n+1 entries: block[0].Freq is the model total and block[1:] the symbols.
// Inline models keep the total next to the frequencies, which matters when
// tens of thousands of models are visited in random order.
func InitBlock(block []SymFreq, n int) {
	block[0] = SymFreq{Freq: uint16(n)}
	for i := 1; i <= n; i++ {
		block[i] = SymFreq{Freq: 1, Sym: uint16(i - 1)}
	}
}

// DecodeBlock is Model.Decode for a model stored by InitBlock. Totals fit
// 16 bits: they never pass MaxFreq+step = 65535.
func DecodeBlock(d *Decoder, block []SymFreq) uint16 {
	tot := uint32(block[0].Freq)
	if d.failed || tot == 0 || d.rng < tot {
		d.fail()
		return 0
	}
	rng := d.rng / tot
	freq := d.code / rng
	if freq >= tot {
		d.fail()
		return 0
	}
	f := block[1:]
	acc := uint32(0)
	i := 0
	for ; i < len(f); i++ {
		if acc+uint32(f[i].Freq) > freq {
			break
		}
		acc += uint32(f[i].Freq)
	}
	if i >= len(f) {
		d.fail()
		return 0
	}
	d.code -= acc * rng
	d.rng = uint32(f[i].Freq) * rng
	for d.rng < top {
		if d.p >= len(d.src) {
			d.fail()
			break
		}
		d.rng <<= 8
		d.code = d.code<<8 | uint32(d.src[d.p])
		d.p++
	}
	f[i].Freq += step
	tot += step
	if tot > MaxFreq {
		tot = 0
		for k := range f {
			f[k].Freq -= f[k].Freq >> 1
			tot += uint32(f[k].Freq)
		}
	}
	block[0].Freq = uint16(tot)
	sym := f[i].Sym
	if i > 0 && f[i].Freq > f[i-1].Freq {
		f[i], f[i-1] = f[i-1], f[i]
	}
	return sym
}
