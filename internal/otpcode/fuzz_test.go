package otpcode_test

import (
	"encoding/base32"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/twofactor-go/twofactor/internal/otpcode"
)

var pquernaAlgorithms = map[otpcode.Algorithm]otp.Algorithm{
	otpcode.SHA1:   otp.AlgorithmSHA1,
	otpcode.SHA256: otp.AlgorithmSHA256,
	otpcode.SHA512: otp.AlgorithmSHA512,
}

// FuzzVerifyMatchesPquerna checks Generate and Verify against
// github.com/pquerna/otp/totp for secrets of 1 to 64 bytes, times from 0
// to 2^40 seconds, all algorithms and 6 or 8 digits.
func FuzzVerifyMatchesPquerna(f *testing.F) {
	f.Add([]byte("12345678901234567890"), uint64(59), uint8(0), true)
	f.Add([]byte{0}, uint64(0), uint8(1), false)
	f.Add([]byte(strings.Repeat("k", 64)), uint64(1<<40), uint8(2), false)
	f.Fuzz(func(t *testing.T, secret []byte, unix uint64, algIndex uint8, eight bool) {
		if len(secret) == 0 || len(secret) > 64 {
			t.Skip()
		}
		unix %= 1<<40 + 1
		alg := otpcode.Algorithm(algIndex % 3)
		digits := otp.DigitsSix
		if eight {
			digits = otp.DigitsEight
		}
		now := time.Unix(int64(unix), 0)
		want, err := totp.GenerateCodeCustom(
			base32.StdEncoding.EncodeToString(secret), now,
			totp.ValidateOpts{Period: 30, Digits: digits, Algorithm: pquernaAlgorithms[alg]})
		if err != nil {
			t.Fatalf("pquerna GenerateCodeCustom: %v", err)
		}
		step, err := otpcode.Step(now, 30)
		if err != nil {
			t.Fatalf("Step: %v", err)
		}

		if got := otpcode.Generate(secret, alg, int(digits), step); got != want {
			t.Fatalf("Generate = %q, pquerna = %q", got, want)
		}
		matched, ok := otpcode.Verify(secret, alg, int(digits), step, 0, []byte(want))
		if !ok || matched != step {
			t.Fatalf("Verify(pquerna code) = (%d, %t), want (%d, true)", matched, ok, step)
		}
		wrong := []byte(want)
		wrong[len(wrong)-1] = '0' + (wrong[len(wrong)-1]-'0'+1)%10
		if _, ok := otpcode.Verify(secret, alg, int(digits), step, 0, wrong); ok {
			t.Fatalf("Verify(altered code, skew 0) ok = true, want false")
		}
	})
}

// normalizeReference is a plain restatement of the contract of Normalize.
func normalizeReference(input string, digits int) (string, bool) {
	stripped := strings.NewReplacer(" ", "", "-", "").Replace(input)
	if digits < otpcode.MinDigits || digits > otpcode.MaxDigits || len(stripped) != digits {
		return "", false
	}
	for _, c := range []byte(stripped) {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return stripped, true
}

func FuzzNormalize(f *testing.F) {
	f.Add(" 123-456 ", 6)
	f.Add("１２３４５６", 6)
	f.Add("1234567890", 10)
	f.Add("123\t456", 6)
	f.Add("12345678", 5)
	f.Fuzz(func(t *testing.T, input string, digits int) {
		var dst [otpcode.MaxDigits]byte
		n, ok := otpcode.Normalize(&dst, input, digits)
		want, wantOK := normalizeReference(input, digits)
		if ok != wantOK {
			t.Fatalf("Normalize(%q, %d) ok = %t, want %t", input, digits, ok, wantOK)
		}
		if !ok {
			if n != 0 {
				t.Fatalf("Normalize(%q, %d) n = %d, want 0", input, digits, n)
			}
			return
		}
		if n != digits {
			t.Fatalf("Normalize(%q, %d) n = %d, want %d", input, digits, n, digits)
		}
		got := string(dst[:n])
		if got != want {
			t.Fatalf("Normalize(%q, %d) = %q, want %q", input, digits, got, want)
		}
		for _, c := range dst[:n] {
			if c < '0' || c > '9' {
				t.Fatalf("Normalize(%q, %d) = %q, want ASCII digits only", input, digits, got)
			}
		}

		var again [otpcode.MaxDigits]byte
		n2, ok2 := otpcode.Normalize(&again, got, digits)
		if !ok2 || string(again[:n2]) != got {
			t.Fatalf("Normalize(%q, %d) = (%q, %t), want (%q, true)",
				got, digits, again[:n2], ok2, got)
		}
	})
}
