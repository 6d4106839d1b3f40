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
// github.com/pquerna/otp/totp v1.5.0 for secrets of 1 to 64 bytes, times
// from 0 to 2^40 seconds, all algorithms, 6 to 10 digits, periods of 1 to
// 120 seconds and skews of 0 to 2. Verify must accept the code of a step
// from 3 before to 3 after the current one exactly when pquerna's
// ValidateCustom does.
func FuzzVerifyMatchesPquerna(f *testing.F) {
	f.Add([]byte("12345678901234567890"), uint64(59), uint8(0), uint8(0), uint8(29), uint8(1), int8(0))
	f.Add([]byte{0}, uint64(0), uint8(1), uint8(2), uint8(0), uint8(0), int8(1))
	f.Add([]byte(strings.Repeat("k", 64)), uint64(1<<40), uint8(2), uint8(4), uint8(59), uint8(2), int8(-2))
	f.Fuzz(func(t *testing.T, secret []byte, unix uint64, algIndex, digitsIndex, periodIndex, skewIndex uint8, offset int8) {
		if len(secret) == 0 || len(secret) > 64 {
			t.Skip()
		}
		unix %= 1<<40 + 1
		alg := otpcode.Algorithm(algIndex % 3)
		digits := otpcode.MinDigits + int(digitsIndex)%(otpcode.MaxDigits-otpcode.MinDigits+1)
		period := 1 + uint(periodIndex)%120
		skew := uint(skewIndex) % 3
		now := time.Unix(int64(unix), 0)
		encoded := base32.StdEncoding.EncodeToString(secret)
		opts := totp.ValidateOpts{Period: period, Skew: skew, Digits: otp.Digits(digits), Algorithm: pquernaAlgorithms[alg]}

		want, err := totp.GenerateCodeCustom(encoded, now, opts)
		if err != nil {
			t.Fatalf("pquerna GenerateCodeCustom: %v", err)
		}
		step, err := otpcode.Step(now, int64(period))
		if err != nil {
			t.Fatalf("Step: %v", err)
		}
		if got := otpcode.Generate(secret, alg, digits, step); got != want {
			t.Fatalf("Generate = %q, pquerna = %q", got, want)
		}

		// pquerna tries steps below zero as huge unsigned counters, and
		// Verify never tries them, so compare only windows above zero.
		target := step + int64(offset%4)
		if target < 0 || step < int64(skew) {
			return
		}
		code := otpcode.Generate(secret, alg, digits, target)
		matched, ok := otpcode.Verify(secret, alg, digits, step, int(skew), []byte(code))
		wantOK, err := totp.ValidateCustom(code, encoded, now, opts)
		if err != nil {
			t.Fatalf("pquerna ValidateCustom: %v", err)
		}
		if ok != wantOK {
			t.Fatalf("Verify(code of step %d at step %d, skew %d) ok = %t, pquerna = %t", target, step, skew, ok, wantOK)
		}
		if ok && (matched < step-int64(skew) || matched > step+int64(skew) ||
			otpcode.Generate(secret, alg, digits, matched) != code) {
			t.Fatalf("Verify(code of step %d at step %d, skew %d) matched step %d, whose code differs or lies outside the window",
				target, step, skew, matched)
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
