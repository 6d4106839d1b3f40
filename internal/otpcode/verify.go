package otpcode

import (
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"math"
)

// MaxSkew is the largest skew that [Verify] accepts. It bounds the work of
// one call. RFC 6238 recommends allowing at most one step of delay.
const MaxSkew = 10

// Generate returns the HOTP code of secret for counter, as digits decimal
// digits with leading zeros. For TOTP, pass the result of [Step] as the
// counter. The code is the 31-bit dynamic truncation of RFC 4226 modulo
// 10^digits. With 10 digits no modulo applies, because that value is below
// 2^31, so a 10-digit code always starts with 0, 1 or 2.
//
// Generate panics if secret is empty, alg is unknown, digits is outside
// [MinDigits, MaxDigits] or counter is negative. Verify rejects the same
// input instead.
func Generate(secret []byte, alg Algorithm, digits int, counter int64) string {
	switch {
	case len(secret) == 0:
		panic("twofactor: empty secret")
	case !alg.valid():
		panic("twofactor: invalid algorithm " + alg.String())
	case digits < MinDigits || digits > MaxDigits:
		panic(fmt.Sprintf("twofactor: invalid digits %d: want %d to %d",
			digits, MinDigits, MaxDigits))
	case counter < 0:
		panic(fmt.Sprintf("twofactor: invalid counter %d: want >= 0", counter))
	}
	m := getMAC(alg)
	defer m.release()
	m.setKey(secret)

	var buf [MaxDigits]byte
	formatCode(&buf, truncate(m.sumCounter(uint64(counter))))
	return string(buf[MaxDigits-digits:])
}

// Verify reports whether code is the code of secret for a step in
// [step-skew, step+skew], and returns that step as matched. If several
// steps match, matched is the earliest. Steps below zero are never tried.
// Codes are computed as [Generate] does.
//
// Verify takes the same time whether or not code matches: it computes the
// code of every step in the window and compares each with
// [subtle.ConstantTimeCompare]. The time depends on alg, len(secret),
// digits and the number of steps in the window, but not on code or on
// which step matches. Verify does not allocate once its pools are warm.
//
// code must be exactly digits bytes, as [Normalize] returns it. Verify
// returns ok=false without computing anything if secret is empty, alg is
// unknown, digits is outside [MinDigits, MaxDigits], len(code) != digits or
// skew is outside [0, MaxSkew].
func Verify(secret []byte, alg Algorithm, digits int, step int64, skew int, code []byte) (matched int64, ok bool) {
	if len(secret) == 0 || !alg.valid() ||
		digits < MinDigits || digits > MaxDigits || len(code) != digits ||
		skew < 0 || skew > MaxSkew {
		return 0, false
	}
	first, last := window(step, int64(skew))
	if first > last {
		return 0, false
	}
	m := getMAC(alg)
	defer m.release()
	m.setKey(secret)

	var buf [MaxDigits]byte
	found := 0
	for s := first; ; s++ {
		formatCode(&buf, truncate(m.sumCounter(uint64(s))))
		equal := subtle.ConstantTimeCompare(buf[MaxDigits-digits:], code)
		matched = selectInt64(equal&^found, s, matched)
		found |= equal
		if s == last {
			break
		}
	}
	clear(buf[:])
	return matched, found == 1
}

// window returns the steps that Verify tries, from step-skew to step+skew
// but at least 0 and at most math.MaxInt64. first > last when no step is
// left. skew must be >= 0.
func window(step, skew int64) (first, last int64) {
	first, last = 0, math.MaxInt64
	if step > skew {
		first = step - skew
	}
	if step <= math.MaxInt64-skew {
		last = step + skew
	}
	return first, last
}

// truncate returns the dynamic truncation of an HMAC value (RFC 4226
// section 5.3): the 31-bit big-endian number at the offset given by the
// low 4 bits of the last byte. It reads all 16 candidate offsets so that
// its memory access pattern does not depend on the value.
func truncate(sum []byte) uint32 {
	_ = sum[18] // Offset 15 reads sum[15:19]. HMAC-SHA-1 gives 20 bytes.
	offset := int32(sum[len(sum)-1] & 0x0f)
	var v uint32
	for i := range int32(16) {
		mask := -uint32(subtle.ConstantTimeEq(i, offset))
		v |= mask & binary.BigEndian.Uint32(sum[i:])
	}
	return v & 0x7fffffff
}

// formatCode writes v as 10 decimal digits with leading zeros. The last n
// bytes of buf are then v mod 10^n. Division by the constant 10 compiles to
// a multiplication, so the time does not depend on v.
func formatCode(buf *[MaxDigits]byte, v uint32) {
	for i := MaxDigits - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
}

// selectInt64 returns x if v == 1 and y if v == 0, in constant time.
func selectInt64(v int, x, y int64) int64 {
	mask := -int64(v)
	return x&mask | y&^mask
}
