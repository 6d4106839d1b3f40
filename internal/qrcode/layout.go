package qrcode

import (
	"math/bits"
	"sync"
)

// template is the part of a symbol that depends on its version only.
type template struct {
	size int
	// modules holds the function patterns, as Code.modules does, with the
	// format information light.
	modules []byte
	// dataModules holds the index in modules of each data module, in the
	// order that the codeword bits fill them.
	dataModules []uint16
	// maskBits holds, for each entry of dataModules, a byte whose bit k is
	// set where mask pattern k inverts the module.
	maskBits []byte
}

// templates caches the template of each version.
var templates [41]struct {
	once     sync.Once
	template *template
}

func templateFor(version int) *template {
	t := &templates[version]
	t.once.Do(func() { t.template = newTemplate(version) })
	return t.template
}

// alignmentCentres contains the row and column coordinates of the
// alignment pattern centres of each version, as ISO/IEC 18004 lists them.
// github.com/boombuler/barcode v1.1.0 computes the same coordinates.
var alignmentCentres = [41][]int{
	2:  {6, 18},
	3:  {6, 22},
	4:  {6, 26},
	5:  {6, 30},
	6:  {6, 34},
	7:  {6, 22, 38},
	8:  {6, 24, 42},
	9:  {6, 26, 46},
	10: {6, 28, 50},
	11: {6, 30, 54},
	12: {6, 32, 58},
	13: {6, 34, 62},
	14: {6, 26, 46, 66},
	15: {6, 26, 48, 70},
	16: {6, 26, 50, 74},
	17: {6, 30, 54, 78},
	18: {6, 30, 56, 82},
	19: {6, 30, 58, 86},
	20: {6, 34, 62, 90},
	21: {6, 28, 50, 72, 94},
	22: {6, 26, 50, 74, 98},
	23: {6, 30, 54, 78, 102},
	24: {6, 28, 54, 80, 106},
	25: {6, 32, 58, 84, 110},
	26: {6, 30, 58, 86, 114},
	27: {6, 34, 62, 90, 118},
	28: {6, 26, 50, 74, 98, 122},
	29: {6, 30, 54, 78, 102, 126},
	30: {6, 26, 52, 78, 104, 130},
	31: {6, 30, 56, 82, 108, 134},
	32: {6, 34, 60, 86, 112, 138},
	33: {6, 30, 58, 86, 114, 142},
	34: {6, 34, 62, 90, 118, 146},
	35: {6, 30, 54, 78, 102, 126, 150},
	36: {6, 24, 50, 76, 102, 128, 154},
	37: {6, 28, 54, 80, 106, 132, 158},
	38: {6, 32, 58, 84, 110, 136, 162},
	39: {6, 26, 54, 82, 110, 138, 166},
	40: {6, 30, 58, 86, 114, 142, 170},
}

// templateBuilder draws the function patterns of a template and records
// which modules they cover.
type templateBuilder struct {
	size     int
	modules  []byte
	function []bool
}

func (b *templateBuilder) set(x, y int, dark bool) {
	i := y*b.size + x
	b.modules[i] = 0
	if dark {
		b.modules[i] = 1
	}
	b.function[i] = true
}

func (b *templateBuilder) isFunction(x, y int) bool {
	return b.function[y*b.size+x]
}

func newTemplate(version int) *template {
	size := symbolSize(version)
	b := &templateBuilder{
		size:     size,
		modules:  make([]byte, size*size),
		function: make([]bool, size*size),
	}
	b.drawFinderPatterns()
	b.drawAlignmentPatterns(alignmentCentres[version])
	b.drawTimingPatterns()
	// The dark module beside the bottom left finder pattern.
	b.set(8, size-8, true)
	if version >= 7 {
		b.drawVersionInformation(version)
	}
	// Reserve the format information, which encode draws for each mask.
	drawFormatInformation(size, 0, b.set)

	t := &template{size: size, modules: b.modules}
	t.dataModules, t.maskBits = b.dataModuleOrder()
	return t
}

// drawFinderPatterns draws the three finder patterns with their light
// separators.
func (b *templateBuilder) drawFinderPatterns() {
	corners := [3][2]int{{0, 0}, {b.size - 7, 0}, {0, b.size - 7}}
	for _, corner := range corners {
		for dy := -1; dy <= 7; dy++ {
			for dx := -1; dx <= 7; dx++ {
				x, y := corner[0]+dx, corner[1]+dy
				if x < 0 || x >= b.size || y < 0 || y >= b.size {
					continue
				}
				// Rings around the centre module (3, 3), by distance: the
				// 3x3 core and the ring at 3 are dark, the ring at 2 and the
				// separator at 4 are light.
				ring := max(abs(dx-3), abs(dy-3))
				b.set(x, y, ring != 2 && ring != 4)
			}
		}
	}
}

// drawAlignmentPatterns draws an alignment pattern at every pair of centres
// except the three that the finder patterns cover.
func (b *templateBuilder) drawAlignmentPatterns(centres []int) {
	for _, cy := range centres {
		for _, cx := range centres {
			if b.isFunction(cx, cy) {
				continue
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					b.set(cx+dx, cy+dy, max(abs(dx), abs(dy)) != 1)
				}
			}
		}
	}
}

// drawTimingPatterns draws row 6 and column 6, dark at even coordinates,
// where no other pattern lies.
func (b *templateBuilder) drawTimingPatterns() {
	for i := range b.size {
		if !b.isFunction(i, 6) {
			b.set(i, 6, i%2 == 0)
		}
		if !b.isFunction(6, i) {
			b.set(6, i, i%2 == 0)
		}
	}
}

// drawVersionInformation draws the 18-bit version information in the 6x3
// block left of the top right finder pattern and the 3x6 block above the
// bottom left one.
func (b *templateBuilder) drawVersionInformation(version int) {
	// 6 bits of version, then the 12-bit remainder of the (18, 6) BCH code.
	value := uint32(version) << 12
	value |= bchRemainder(value, 0x1f25)
	for i := range 18 {
		dark := value>>i&1 == 1
		b.set(b.size-11+i%3, i/3, dark)
		b.set(i/3, b.size-11+i%3, dark)
	}
}

// formatInformation holds the 15-bit format information of level M for
// each mask pattern.
var formatInformation = func() (values [8]uint32) {
	const levelM = 0b00 // error correction level indicator of level M
	for mask := range values {
		// 5 data bits, then the 10-bit remainder of the (15, 5) BCH code,
		// XORed with the fixed pattern 101010000010010.
		value := uint32(levelM<<3|mask) << 10
		value |= bchRemainder(value, 0x537)
		values[mask] = value ^ 0x5412
	}
	return values
}()

// drawFormatInformation calls set for the two copies of each bit of the
// 15-bit format information value. Bit 14 is the most significant.
func drawFormatInformation(size int, value uint32, set func(x, y int, dark bool)) {
	for i := range 15 {
		dark := value>>i&1 == 1

		// The copy around the top left finder pattern runs down column 8
		// from row 0 to row 8, skipping the timing pattern in row 6, then
		// left along row 8, skipping column 6.
		switch {
		case i <= 5:
			set(8, i, dark)
		case i <= 7:
			set(8, i+1, dark)
		case i == 8:
			set(7, 8, dark)
		default:
			set(14-i, 8, dark)
		}

		// The other copy runs left along row 8 from the right edge, then
		// down column 8 from the top of the bottom left finder pattern.
		if i <= 7 {
			set(size-1-i, 8, dark)
		} else {
			set(8, size-15+i, dark)
		}
	}
}

// dataModuleOrder returns the modules outside the function patterns in the
// order that the codeword bits fill them, with the mask bits of each.
// Column pairs are filled from the right edge, upward in the first pair and
// alternating, right module before left. Column 6, which holds the
// vertical timing pattern, is skipped.
func (b *templateBuilder) dataModuleOrder() (order []uint16, maskBits []byte) {
	for right := b.size - 1; right > 0; right -= 2 {
		if right == 6 {
			right = 5
		}
		upward := (b.size-1-right)/2%2 == 0
		if right < 6 {
			// The skipped column shifts the pairs left of it by one.
			upward = (b.size-2-right)/2%2 == 0
		}
		for step := range b.size {
			y := step
			if upward {
				y = b.size - 1 - step
			}
			for x := right; x >= right-1; x-- {
				if b.isFunction(x, y) {
					continue
				}
				order = append(order, uint16(y*b.size+x))
				maskBits = append(maskBits, maskPatternBits(x, y))
			}
		}
	}
	return order, maskBits
}

// maskPatternBits returns a byte whose bit k is set when mask pattern k of
// ISO/IEC 18004 inverts the module in column x and row y.
func maskPatternBits(x, y int) byte {
	conditions := [8]bool{
		(x+y)%2 == 0,
		y%2 == 0,
		x%3 == 0,
		(x+y)%3 == 0,
		(y/2+x/3)%2 == 0,
		x*y%2+x*y%3 == 0,
		(x*y%2+x*y%3)%2 == 0,
		((x+y)%2+x*y%3)%2 == 0,
	}
	var mask byte
	for k, inverted := range conditions {
		if inverted {
			mask |= 1 << k
		}
	}
	return mask
}

// bchRemainder returns the remainder of value divided by generator, both
// read as polynomials over GF(2).
func bchRemainder(value, generator uint32) uint32 {
	degree := bits.Len32(generator) - 1
	for bits.Len32(value) > degree {
		value ^= generator << (bits.Len32(value) - 1 - degree)
	}
	return value
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
