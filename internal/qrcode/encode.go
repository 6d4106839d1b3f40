package qrcode

import (
	"fmt"
	"sync"
)

// Code is a QR code symbol at error correction level M.
type Code struct {
	size int
	// modules holds one byte per module, row by row from the top left: 1
	// for dark and 0 for light.
	modules []byte
}

// Size returns the width and height of the symbol in modules, without the
// quiet zone.
func (c *Code) Size() int {
	return c.size
}

// Dark reports whether the module in column x and row y is dark. Both count
// from 0 at the top left corner.
func (c *Code) Dark(x, y int) bool {
	return c.modules[y*c.size+x] == 1
}

// Encode returns the QR code of content at error correction level M, in the
// smallest version that holds it in one segment of the first mode that
// accepts all of content: numeric, alphanumeric or byte.
//
// The symbol is the one that github.com/boombuler/barcode v1.1.0
// qr.Encode(content, qr.M, qr.Auto) makes, module for module, because
// Encode chooses the mode and scores the masks as qr.Encode does. The
// exception is content of digits with a '+' or '-' at the start of a group
// of three. qr.Auto encodes such content in numeric mode without the signs,
// so a reader decodes other text. Encode uses alphanumeric mode instead.
//
// Encode returns an error if content does not fit in version 40. The error
// gives the length of content but not content, which may contain a secret.
func Encode(content string) (*Code, error) {
	seg, ok := chooseSegment(content)
	if !ok {
		return nil, contentTooLongError(len(content))
	}
	return encodeSegment(content, seg), nil
}

func encodeSegment(content string, seg segment) *Code {
	data := dataCodewords(content, seg)
	codewords := addErrorCorrection(data, &versionsM[seg.version])
	return templateFor(seg.version).encode(codewords)
}

// symbolSize returns the width and height of a version in modules.
func symbolSize(version int) int {
	return 17 + 4*version
}

func contentTooLongError(length int) error {
	return fmt.Errorf("twofactor: QR code content of %d bytes is too long; shorten it", length)
}

// mode is a QR code data mode. Its value is the 4-bit mode indicator.
type mode uint8

const (
	modeNumeric      mode = 1
	modeAlphanumeric mode = 2
	modeByte         mode = 4
)

// segment is the mode and version chosen for a content.
type segment struct {
	mode    mode
	version int
}

// chooseSegment returns the first of numeric, alphanumeric and byte mode
// that accepts every byte of content and fits in a version, with the
// smallest such version. It returns false if content fits no version.
func chooseSegment(content string) (segment, bool) {
	modes := [...]struct {
		mode    mode
		accepts func(string) bool
	}{
		{modeNumeric, isNumeric},
		{modeAlphanumeric, isAlphanumeric},
		{modeByte, func(string) bool { return true }},
	}
	for _, m := range modes {
		if !m.accepts(content) {
			continue
		}
		if version := smallestVersion(m.mode, len(content)); version != 0 {
			return segment{m.mode, version}, true
		}
	}
	return segment{}, false
}

func isNumeric(content string) bool {
	for i := 0; i < len(content); i++ {
		if content[i] < '0' || content[i] > '9' {
			return false
		}
	}
	return true
}

func isAlphanumeric(content string) bool {
	for i := 0; i < len(content); i++ {
		if alphanumericValue[content[i]] < 0 {
			return false
		}
	}
	return true
}

// alphanumericValue maps a byte to its value in alphanumeric mode, or to -1
// if the mode cannot encode it.
var alphanumericValue = func() (values [256]int8) {
	const charset = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
	for i := range values {
		values[i] = -1
	}
	for i := 0; i < len(charset); i++ {
		values[charset[i]] = int8(i)
	}
	return values
}()

// smallestVersion returns the smallest version whose data codewords can
// contain the mode indicator, the character count indicator and length
// characters in mode m, or 0 if no version can.
func smallestVersion(m mode, length int) int {
	var contentBits int
	switch m {
	case modeNumeric:
		// A group of three digits takes 10 bits. Two digits left over take
		// 7 bits, and one takes 4.
		contentBits = length/3*10 + [3]int{0, 4, 7}[length%3]
	case modeAlphanumeric:
		// A pair of characters takes 11 bits, and one left over takes 6.
		contentBits = length/2*11 + length%2*6
	case modeByte:
		contentBits = length * 8
	}
	for version := 1; version <= 40; version++ {
		need := 4 + charCountBits(m, version) + contentBits
		if need <= 8*versionsM[version].dataCodewords() {
			return version
		}
	}
	return 0
}

// charCountBits returns the length of the character count indicator.
func charCountBits(m mode, version int) int {
	group := 0 // versions 1 to 9
	if version >= 27 {
		group = 2
	} else if version >= 10 {
		group = 1
	}
	switch m {
	case modeNumeric:
		return [3]int{10, 12, 14}[group]
	case modeAlphanumeric:
		return [3]int{9, 11, 13}[group]
	default:
		return [3]int{8, 16, 16}[group]
	}
}

// dataCodewords returns the data codewords of content in seg: the segment,
// the terminator and the pad codewords that fill the version's capacity.
func dataCodewords(content string, seg segment) []byte {
	capacity := versionsM[seg.version].dataCodewords()
	w := bitWriter{buf: make([]byte, 0, capacity)}
	w.write(uint(seg.mode), 4)
	w.write(uint(len(content)), charCountBits(seg.mode, seg.version))

	switch seg.mode {
	case modeNumeric:
		for i := 0; i < len(content); i += 3 {
			group := content[i:min(i+3, len(content))]
			value := uint(0)
			for j := 0; j < len(group); j++ {
				value = value*10 + uint(group[j]-'0')
			}
			// 3 digits take 10 bits, 2 take 7 and 1 takes 4.
			w.write(value, 3*len(group)+1)
		}
	case modeAlphanumeric:
		i := 0
		for ; i+1 < len(content); i += 2 {
			value := 45*int(alphanumericValue[content[i]]) + int(alphanumericValue[content[i+1]])
			w.write(uint(value), 11)
		}
		if i < len(content) {
			w.write(uint(alphanumericValue[content[i]]), 6)
		}
	case modeByte:
		for i := 0; i < len(content); i++ {
			w.write(uint(content[i]), 8)
		}
	}

	// The terminator is up to 4 zero bits, fewer if the capacity ends
	// sooner. Zero bits then fill the last codeword.
	w.write(0, min(4, 8*capacity-w.bitLen()))
	w.flush()
	for pad := byte(0xec); len(w.buf) < capacity; pad ^= 0xec ^ 0x11 {
		w.buf = append(w.buf, pad)
	}
	return w.buf
}

// bitWriter appends bits to a byte slice, the most significant bit first.
type bitWriter struct {
	buf []byte
	// pending holds the last pendingLen bits written, which do not fill a
	// byte yet, in its low bits.
	pending    uint64
	pendingLen int
}

// write appends the low count bits of value, where count <= 32.
func (w *bitWriter) write(value uint, count int) {
	w.pending = w.pending<<count | uint64(value)&(1<<count-1)
	w.pendingLen += count
	for w.pendingLen >= 8 {
		w.pendingLen -= 8
		w.buf = append(w.buf, byte(w.pending>>w.pendingLen))
	}
}

// flush appends the pending bits, padded with zero bits to a byte.
func (w *bitWriter) flush() {
	if w.pendingLen > 0 {
		w.buf = append(w.buf, byte(w.pending<<(8-w.pendingLen)))
		w.pendingLen = 0
	}
}

func (w *bitWriter) bitLen() int {
	return 8*len(w.buf) + w.pendingLen
}

// blockLayout is the error correction block structure of a version at
// level M: group 1 has blocks1 blocks of data1 data codewords, group 2 has
// blocks2 blocks of data2, and every block has eccLen error correction
// codewords.
type blockLayout struct {
	eccLen         int
	blocks1, data1 int
	blocks2, data2 int
}

func (b *blockLayout) dataCodewords() int {
	return b.blocks1*b.data1 + b.blocks2*b.data2
}

// versionsM contains the block layout of each version at level M, indexed
// by version. The values are those of table 9 of ISO/IEC 18004:2015 and of
// github.com/boombuler/barcode v1.1.0.
var versionsM = [41]blockLayout{
	1:  {10, 1, 16, 0, 0},
	2:  {16, 1, 28, 0, 0},
	3:  {26, 1, 44, 0, 0},
	4:  {18, 2, 32, 0, 0},
	5:  {24, 2, 43, 0, 0},
	6:  {16, 4, 27, 0, 0},
	7:  {18, 4, 31, 0, 0},
	8:  {22, 2, 38, 2, 39},
	9:  {22, 3, 36, 2, 37},
	10: {26, 4, 43, 1, 44},
	11: {30, 1, 50, 4, 51},
	12: {22, 6, 36, 2, 37},
	13: {22, 8, 37, 1, 38},
	14: {24, 4, 40, 5, 41},
	15: {24, 5, 41, 5, 42},
	16: {28, 7, 45, 3, 46},
	17: {28, 10, 46, 1, 47},
	18: {26, 9, 43, 4, 44},
	19: {26, 3, 44, 11, 45},
	20: {26, 3, 41, 13, 42},
	21: {26, 17, 42, 0, 0},
	22: {28, 17, 46, 0, 0},
	23: {28, 4, 47, 14, 48},
	24: {28, 6, 45, 14, 46},
	25: {28, 8, 47, 13, 48},
	26: {28, 19, 46, 4, 47},
	27: {28, 22, 45, 3, 46},
	28: {28, 3, 45, 23, 46},
	29: {28, 21, 45, 7, 46},
	30: {28, 19, 47, 10, 48},
	31: {28, 2, 46, 29, 47},
	32: {28, 10, 46, 23, 47},
	33: {28, 14, 46, 21, 47},
	34: {28, 14, 46, 23, 47},
	35: {28, 12, 47, 26, 48},
	36: {28, 6, 47, 34, 48},
	37: {28, 29, 46, 14, 47},
	38: {28, 13, 46, 32, 47},
	39: {28, 40, 47, 7, 48},
	40: {28, 18, 47, 31, 48},
}

// addErrorCorrection splits data into the blocks of layout, computes the
// error correction codewords of each block and returns all codewords in the
// order they are placed: the data codewords of all blocks interleaved, then
// the error correction codewords interleaved.
func addErrorCorrection(data []byte, layout *blockLayout) []byte {
	blocks := layout.blocks1 + layout.blocks2
	generator := generatorPolynomial(layout.eccLen)
	out := make([]byte, len(data)+blocks*layout.eccLen)
	ecc := out[len(data):]

	start := 0
	for b := range blocks {
		length := layout.data1
		if b >= layout.blocks1 {
			length = layout.data2
		}
		block := data[start : start+length]
		start += length

		// Block b's codewords go to every blocks-th place from b. Group 2
		// blocks have one codeword more, which follows the shorter rows.
		for i, codeword := range block {
			place := i*blocks + b
			if i == layout.data1 {
				place = layout.data1*blocks + b - layout.blocks1
			}
			out[place] = codeword
		}
		remainder := reedSolomonRemainder(block, generator)
		for i, codeword := range remainder {
			ecc[i*blocks+b] = codeword
		}
	}
	return out
}

// gfExp and gfLog are the antilogarithm and logarithm tables of GF(256)
// with the QR code field polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d) and
// generator 2. gfExp repeats after 255 entries, so gfExp[gfLog[a]+gfLog[b]]
// needs no modulo.
var gfExp, gfLog = func() (exp [510]byte, log [256]byte) {
	x := 1
	for i := range 255 {
		exp[i] = byte(x)
		exp[i+255] = byte(x)
		log[x] = byte(i)
		x <<= 1
		if x > 0xff {
			x ^= 0x11d
		}
	}
	return exp, log
}()

func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

// generators caches the Reed-Solomon generator polynomials by degree.
var generators [31]struct {
	once sync.Once
	poly []byte
}

// generatorPolynomial returns the coefficients of (x - 2^0)(x - 2^1) ...
// (x - 2^(degree-1)) after the leading 1, the highest power first.
// degree is at most 30.
func generatorPolynomial(degree int) []byte {
	g := &generators[degree]
	g.once.Do(func() {
		// poly holds the product so far with its leading 1 at index 0.
		poly := make([]byte, degree+1)
		poly[0] = 1
		for i := range degree {
			root := gfExp[i]
			for j := i + 1; j > 0; j-- {
				poly[j] ^= gfMul(poly[j-1], root)
			}
		}
		g.poly = poly[1:]
	})
	return g.poly
}

// reedSolomonRemainder returns the remainder of data, as the coefficients
// of a polynomial times x^len(generator), divided by the generator
// polynomial: the error correction codewords of data.
func reedSolomonRemainder(data, generator []byte) []byte {
	remainder := make([]byte, len(generator))
	for _, codeword := range data {
		factor := codeword ^ remainder[0]
		copy(remainder, remainder[1:])
		remainder[len(remainder)-1] = 0
		if factor == 0 {
			continue
		}
		for i, coefficient := range generator {
			remainder[i] ^= gfMul(coefficient, factor)
		}
	}
	return remainder
}
