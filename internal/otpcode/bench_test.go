package otpcode_test

import (
	"encoding/base32"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/twofactor-go/twofactor/internal/otpcode"
)

// The benchmarks share one input so that their times can be compared:
// a 20-byte secret, SHA-1, 6 digits, a period of 30 seconds and skew 1.
var (
	benchSecret = []byte("benchmark secret 20b")
	benchTime   = time.Unix(1700000000, 0)
)

func benchStep(b *testing.B) int64 {
	step, err := otpcode.Step(benchTime, 30)
	if err != nil {
		b.Fatal(err)
	}
	return step
}

func BenchmarkVerifyWrongSkew1(b *testing.B) {
	step := benchStep(b)
	code := []byte(wrongCode(benchSecret, otpcode.SHA1, 6, step, 1))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := otpcode.Verify(benchSecret, otpcode.SHA1, 6, step, 1, code); ok {
			b.Fatal("Verify accepted the wrong code")
		}
	}
}

func BenchmarkVerifyRightSkew1(b *testing.B) {
	step := benchStep(b)
	code := []byte(otpcode.Generate(benchSecret, otpcode.SHA1, 6, step))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := otpcode.Verify(benchSecret, otpcode.SHA1, 6, step, 1, code); !ok {
			b.Fatal("Verify rejected the right code")
		}
	}
}

func BenchmarkPquernaValidateCustom(b *testing.B) {
	code := wrongCode(benchSecret, otpcode.SHA1, 6, benchStep(b), 1)
	secret := base32.StdEncoding.EncodeToString(benchSecret)
	opts := totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	b.ReportAllocs()
	for b.Loop() {
		ok, err := totp.ValidateCustom(code, secret, benchTime, opts)
		if err != nil || ok {
			b.Fatalf("ValidateCustom = (%t, %v), want (false, nil)", ok, err)
		}
	}
}

func BenchmarkNormalize(b *testing.B) {
	var dst [otpcode.MaxDigits]byte
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := otpcode.Normalize(&dst, "123 456", 6); !ok {
			b.Fatal("Normalize rejected valid input")
		}
	}
}
