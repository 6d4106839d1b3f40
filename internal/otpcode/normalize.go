package otpcode

// Limits on the number of digits in a code. RFC 4226 requires at least 6.
// Ten digits is the most that the 31-bit truncated value can fill.
const (
	MinDigits = 6
	MaxDigits = 10
)

// Normalize copies the digits of input into dst, skipping ASCII spaces and
// dashes anywhere in input. It reports ok=true and n=digits only when input
// contains exactly digits ASCII digits ('0' to '9') and nothing else but
// spaces and dashes. Any other byte, including tabs, letters and non-ASCII
// digits such as "１", gives n=0 and ok=false, and so does digits outside
// [MinDigits, MaxDigits]. Normalize does not allocate. On failure the
// contents of dst are unspecified.
func Normalize(dst *[MaxDigits]byte, input string, digits int) (n int, ok bool) {
	if digits < MinDigits || digits > MaxDigits {
		return 0, false
	}
	for i := 0; i < len(input); i++ {
		c := input[i]
		switch {
		case c == ' ' || c == '-':
			continue
		case c < '0' || c > '9' || n == digits:
			return 0, false
		}
		dst[n] = c
		n++
	}
	if n != digits {
		return 0, false
	}
	return n, true
}
