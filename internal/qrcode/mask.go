package qrcode

import "math"

// encode places codewords in the data modules of t, applies each of the
// eight mask patterns and returns the symbol with the lowest penalty, the
// first one on a tie.
func (t *template) encode(codewords []byte) *Code {
	size := t.size
	area := size * size
	// One allocation holds the result, the symbol being scored, its
	// transpose for the column rules and the masked data bits.
	buf := make([]byte, 3*area+len(t.dataModules))
	best, work, transposed := buf[:area:area], buf[area:2*area], buf[2*area:3*area]

	// bits[j] has bit k set where data module j is dark under mask k. The
	// modules left over after the last codeword are light before masking.
	bits := buf[3*area:]
	for j := range bits {
		var dark byte
		if j < 8*len(codewords) {
			dark = codewords[j/8] >> (7 - j%8) & 1
		}
		bits[j] = t.maskBits[j] ^ -dark
	}

	bestPenalty := math.MaxInt
	for mask := range 8 {
		copy(work, t.modules)
		for j, index := range t.dataModules {
			work[index] = bits[j] >> mask & 1
		}
		drawFormatInformation(size, formatInformation[mask], func(x, y int, dark bool) {
			work[y*size+x] = 0
			if dark {
				work[y*size+x] = 1
			}
		})
		if p := penalty(work, transposed, size); p < bestPenalty {
			bestPenalty = p
			copy(best, work)
		}
	}
	return &Code{size: size, modules: best}
}

// penalty returns the mask penalty score of modules as
// github.com/boombuler/barcode v1.1.0 computes it, which decides the mask
// that qr.Encode uses. transposed is scratch space of the same length.
//
// The four rules are those of ISO/IEC 18004. Finder-like patterns count
// only where all eleven modules, the light ones too, lie inside the symbol.
// A pattern with four light modules on both sides counts twice.
func penalty(modules, transposed []byte, size int) int {
	total := 0
	dark := 0
	for y := range size {
		row := modules[y*size : (y+1)*size]
		total += linePenalty(row)
		for x, m := range row {
			transposed[x*size+y] = m
			dark += int(m)
		}
	}
	for x := range size {
		total += linePenalty(transposed[x*size : (x+1)*size])
	}
	total += blockPenalty(modules, size)
	total += balancePenalty(dark, size*size)
	return total
}

// Finder-like patterns: 1011101 followed or preceded by four light modules,
// as 11-bit windows with the first module in the highest bit.
const (
	finderLikeBefore = 0b10111010000
	finderLikeAfter  = 0b00001011101
)

// linePenalty returns the penalty of one row or column under rules 1 and 3.
// Rule 1 costs 3 points for a run of 5 modules of one color and 1 more for
// each further module. Rule 3 costs 40 points for each finder-like pattern.
func linePenalty(line []byte) int {
	total := 0
	run := 1
	window := uint(line[0])
	for i := 1; i < len(line); i++ {
		m := line[i]
		if m == line[i-1] {
			run++
		} else {
			if run >= 5 {
				total += run - 2
			}
			run = 1
		}
		window = (window<<1 | uint(m)) & 0x7ff
		if i >= 10 && (window == finderLikeBefore || window == finderLikeAfter) {
			total += 40
		}
	}
	if run >= 5 {
		total += run - 2
	}
	return total
}

// blockPenalty returns the penalty under rule 2: 3 points for each 2x2
// block of one color, overlapping blocks counted separately.
func blockPenalty(modules []byte, size int) int {
	count := 0
	for y := 0; y+1 < size; y++ {
		row := modules[y*size : (y+1)*size]
		next := modules[(y+1)*size : (y+2)*size]
		for x := 0; x+1 < size; x++ {
			// The four modules sum to 0 or 4 when they match.
			sum := row[x] + row[x+1] + next[x] + next[x+1]
			if sum&3 == 0 {
				count++
			}
		}
	}
	return 3 * count
}

// balancePenalty returns the penalty under rule 4 for dark of total modules
// being dark: 10 points for each whole 5% step between that proportion and
// 50%.
func balancePenalty(dark, total int) int {
	steps := abs(20*dark-10*total) / total
	return 10 * steps
}
