package otpcode_test

import (
	"testing"

	"github.com/twofactor-go/twofactor/internal/otpcode"
)

func TestVerifyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	for _, alg := range []otpcode.Algorithm{otpcode.SHA1, otpcode.SHA256, otpcode.SHA512} {
		secret := rfcSeeds[alg]
		right := []byte(otpcode.Generate(secret, alg, 6, 1000))
		wrong := []byte(wrongCode(secret, alg, 6, 1000, 1))
		otpcode.Verify(secret, alg, 6, 1000, 1, right) // warm the pool
		for _, code := range [][]byte{right, wrong} {
			allocs := testing.AllocsPerRun(1000, func() {
				otpcode.Verify(secret, alg, 6, 1000, 1, code)
			})
			if allocs != 0 {
				t.Errorf("Verify(%s) allocs = %v, want 0", alg, allocs)
			}
		}
	}
}

func TestNormalizeAllocs(t *testing.T) {
	var dst [otpcode.MaxDigits]byte
	allocs := testing.AllocsPerRun(1000, func() {
		otpcode.Normalize(&dst, " 123-456 ", 6)
	})
	if allocs != 0 {
		t.Errorf("Normalize allocs = %v, want 0", allocs)
	}
}

// wrongCode returns a code that matches no step within skew of step.
func wrongCode(secret []byte, alg otpcode.Algorithm, digits int, step int64, skew int) string {
	code := []byte(otpcode.Generate(secret, alg, digits, step))
	for {
		code[0] = '0' + (code[0]-'0'+1)%10
		if _, ok := otpcode.Verify(secret, alg, digits, step, skew, code); !ok {
			return string(code)
		}
	}
}
