package otpcode_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor/internal/otpcode"
)

// Seeds of RFC 6238 Appendix B: the ASCII digits "1234567890" repeated to
// the hash output size.
var rfcSeeds = map[otpcode.Algorithm][]byte{
	otpcode.SHA1:   []byte(strings.Repeat("1234567890", 2)),
	otpcode.SHA256: []byte(strings.Repeat("1234567890", 4)[:32]),
	otpcode.SHA512: []byte(strings.Repeat("1234567890", 7)[:64]),
}

var rfc6238Vectors = []struct {
	unix int64
	alg  otpcode.Algorithm
	code string
}{
	{59, otpcode.SHA1, "94287082"},
	{59, otpcode.SHA256, "46119246"},
	{59, otpcode.SHA512, "90693936"},
	{1111111109, otpcode.SHA1, "07081804"},
	{1111111109, otpcode.SHA256, "68084774"},
	{1111111109, otpcode.SHA512, "25091201"},
	{1111111111, otpcode.SHA1, "14050471"},
	{1111111111, otpcode.SHA256, "67062674"},
	{1111111111, otpcode.SHA512, "99943326"},
	{1234567890, otpcode.SHA1, "89005924"},
	{1234567890, otpcode.SHA256, "91819424"},
	{1234567890, otpcode.SHA512, "93441116"},
	{2000000000, otpcode.SHA1, "69279037"},
	{2000000000, otpcode.SHA256, "90698825"},
	{2000000000, otpcode.SHA512, "38618901"},
	{20000000000, otpcode.SHA1, "65353130"},
	{20000000000, otpcode.SHA256, "77737706"},
	{20000000000, otpcode.SHA512, "47863826"},
}

func TestRFC6238Vectors(t *testing.T) {
	for _, v := range rfc6238Vectors {
		t.Run(fmt.Sprintf("%s/%d", v.alg, v.unix), func(t *testing.T) {
			step, err := otpcode.Step(time.Unix(v.unix, 0), 30)
			if err != nil {
				t.Fatalf("Step: %v", err)
			}
			secret := rfcSeeds[v.alg]
			if got := otpcode.Generate(secret, v.alg, 8, step); got != v.code {
				t.Errorf("Generate = %q, want %q", got, v.code)
			}
			matched, ok := otpcode.Verify(secret, v.alg, 8, step, 0, []byte(v.code))
			if !ok || matched != step {
				t.Errorf("Verify = (%d, %t), want (%d, true)", matched, ok, step)
			}
		})
	}
}

func TestRFC4226Vectors(t *testing.T) {
	secret := []byte("12345678901234567890")
	want := []string{
		"755224", "287082", "359152", "969429", "338314",
		"254676", "287922", "162583", "399871", "520489",
	}
	for counter, code := range want {
		got := otpcode.Generate(secret, otpcode.SHA1, 6, int64(counter))
		if got != code {
			t.Errorf("Generate(counter %d) = %q, want %q", counter, got, code)
		}
		matched, ok := otpcode.Verify(secret, otpcode.SHA1, 6, int64(counter), 0, []byte(code))
		if !ok || matched != int64(counter) {
			t.Errorf("Verify(counter %d) = (%d, %t), want (%d, true)",
				counter, matched, ok, counter)
		}
	}
}

// referenceHOTP computes an HOTP code with crypto/hmac, independently of
// the package. counter is a uint64 so that it can express any 8-byte
// counter.
func referenceHOTP(secret []byte, newHash func() hash.Hash, digits int, counter uint64) string {
	mac := hmac.New(newHash, secret)
	mac.Write(binary.BigEndian.AppendUint64(nil, counter))
	sum := mac.Sum(nil)
	offset := sum[len(sum)-1] & 0x0f
	value := binary.BigEndian.Uint32(sum[offset:]) & 0x7fffffff
	modulus := uint64(math.Pow10(digits))
	return fmt.Sprintf("%0*d", digits, uint64(value)%modulus)
}

var newHashes = map[otpcode.Algorithm]func() hash.Hash{
	otpcode.SHA1:   sha1.New,
	otpcode.SHA256: sha256.New,
	otpcode.SHA512: sha512.New,
}

func TestGenerateMatchesReference(t *testing.T) {
	// Lengths around the block sizes (64 and 128 bytes) cover the keys
	// that HMAC hashes first.
	lengths := []int{1, 10, 20, 63, 64, 65, 127, 128, 129, 300}
	for alg, newHash := range newHashes {
		for _, length := range lengths {
			secret := make([]byte, length)
			for i := range secret {
				secret[i] = byte(i*7 + length)
			}
			for digits := otpcode.MinDigits; digits <= otpcode.MaxDigits; digits++ {
				for _, counter := range []int64{0, 1, 56666666, math.MaxInt64} {
					want := referenceHOTP(secret, newHash, digits, uint64(counter))
					got := otpcode.Generate(secret, alg, digits, counter)
					if got != want {
						t.Errorf("Generate(%s, %d-byte secret, %d digits, counter %d) = %q, want %q",
							alg, length, digits, counter, got, want)
					}
					matched, ok := otpcode.Verify(secret, alg, digits, counter, 1, []byte(want))
					if !ok || matched != counter {
						t.Errorf("Verify(%s, %d-byte secret, %d digits, counter %d) = (%d, %t), want (%d, true)",
							alg, length, digits, counter, matched, ok, counter)
					}
				}
			}
		}
	}
}

func TestGenerateTenDigitsIsFullValue(t *testing.T) {
	// The truncated value has 31 bits, below 2^31 = 2147483648, so a
	// 10-digit code is that value with leading zeros.
	secret := []byte("12345678901234567890")
	for counter := range int64(50) {
		code := otpcode.Generate(secret, otpcode.SHA1, 10, counter)
		if code > "2147483647" {
			t.Errorf("Generate(counter %d) = %q, want at most 2147483647", counter, code)
		}
		if six := otpcode.Generate(secret, otpcode.SHA1, 6, counter); code[4:] != six {
			t.Errorf("Generate(counter %d): 10 digits %q do not end in 6 digits %q",
				counter, code, six)
		}
	}
}

var skewSecret = []byte("skew test secret 20b")

func TestVerifySkew(t *testing.T) {
	const step = 1000
	tests := []struct {
		codeStep int64
		wantOK   bool
	}{
		{step - 2, false},
		{step - 1, true},
		{step, true},
		{step + 1, true},
		{step + 2, false},
	}
	for _, tt := range tests {
		code := otpcode.Generate(skewSecret, otpcode.SHA1, 6, tt.codeStep)
		matched, ok := otpcode.Verify(skewSecret, otpcode.SHA1, 6, step, 1, []byte(code))
		if ok != tt.wantOK {
			t.Errorf("Verify(code of step %d, skew 1) ok = %t, want %t",
				tt.codeStep, ok, tt.wantOK)
		}
		if ok && matched != tt.codeStep {
			t.Errorf("Verify(code of step %d, skew 1) matched = %d, want %d",
				tt.codeStep, matched, tt.codeStep)
		}
	}
}

func TestVerifySkewZero(t *testing.T) {
	const step = 1000
	for _, codeStep := range []int64{step - 1, step + 1} {
		code := otpcode.Generate(skewSecret, otpcode.SHA1, 6, codeStep)
		if _, ok := otpcode.Verify(skewSecret, otpcode.SHA1, 6, step, 0, []byte(code)); ok {
			t.Errorf("Verify(code of step %d, step %d, skew 0) ok = true, want false",
				codeStep, step)
		}
	}
}

func TestVerifyNeverTriesNegativeSteps(t *testing.T) {
	// Step -1 as an 8-byte counter is 2^64-1. Its code must not be
	// accepted at step 0 with skew 1, which tries only steps 0 and 1.
	minusOne := referenceHOTP(skewSecret, sha1.New, 6, math.MaxUint64)
	for _, s := range []int64{0, 1} {
		if otpcode.Generate(skewSecret, otpcode.SHA1, 6, s) == minusOne {
			t.Fatalf("test secret: code of step -1 equals code of step %d", s)
		}
	}
	if matched, ok := otpcode.Verify(skewSecret, otpcode.SHA1, 6, 0, 1, []byte(minusOne)); ok {
		t.Errorf("Verify(code of step -1, step 0, skew 1) = (%d, true), want false", matched)
	}
	for _, s := range []int64{0, 1} {
		code := otpcode.Generate(skewSecret, otpcode.SHA1, 6, s)
		matched, ok := otpcode.Verify(skewSecret, otpcode.SHA1, 6, 0, 1, []byte(code))
		if !ok || matched != s {
			t.Errorf("Verify(code of step %d, step 0, skew 1) = (%d, %t), want (%d, true)",
				s, matched, ok, s)
		}
	}
}

func TestVerifyWindowEdges(t *testing.T) {
	tests := []struct {
		name     string
		step     int64
		skew     int
		codeStep int64
		wantOK   bool
	}{
		{"below zero, reaching zero", -1, 1, 0, true},
		{"entirely below zero", -2, 1, 0, false},
		{"min int64", math.MinInt64, otpcode.MaxSkew, 0, false},
		{"max int64", math.MaxInt64, 1, math.MaxInt64, true},
		{"max int64, earlier step", math.MaxInt64, 1, math.MaxInt64 - 1, true},
		{"max int64 minus skew", math.MaxInt64 - 1, 2, math.MaxInt64, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := otpcode.Generate(skewSecret, otpcode.SHA1, 6, tt.codeStep)
			matched, ok := otpcode.Verify(skewSecret, otpcode.SHA1, 6, tt.step, tt.skew, []byte(code))
			if ok != tt.wantOK {
				t.Fatalf("Verify ok = %t, want %t", ok, tt.wantOK)
			}
			if ok && matched != tt.codeStep {
				t.Errorf("Verify matched = %d, want %d", matched, tt.codeStep)
			}
		})
	}
}

func TestVerifyReturnsEarliestMatch(t *testing.T) {
	// Under this secret, steps 10845 and 10853 have the same 6-digit
	// SHA-1 code, found by a search from step 0 upward.
	secret := []byte("earliest-match secret")
	const early, late = 10845, 10853
	code := otpcode.Generate(secret, otpcode.SHA1, 6, early)
	if other := otpcode.Generate(secret, otpcode.SHA1, 6, late); other != code {
		t.Fatalf("test setup: codes of steps %d and %d differ", early, late)
	}
	matched, ok := otpcode.Verify(secret, otpcode.SHA1, 6, (early+late)/2, 4, []byte(code))
	if !ok || matched != early {
		t.Errorf("Verify = (%d, %t), want (%d, true)", matched, ok, early)
	}
}

func TestVerifyRejectsInvalidInput(t *testing.T) {
	secret := []byte("12345678901234567890")
	code := []byte(otpcode.Generate(secret, otpcode.SHA1, 6, 1))
	tests := []struct {
		name   string
		secret []byte
		alg    otpcode.Algorithm
		digits int
		skew   int
		code   []byte
	}{
		{"empty secret", nil, otpcode.SHA1, 6, 1, code},
		{"unknown algorithm", secret, otpcode.SHA512 + 1, 6, 1, code},
		{"5 digits", secret, otpcode.SHA1, 5, 1, code[:5]},
		{"11 digits", secret, otpcode.SHA1, 11, 1, append(code, "00000"...)},
		{"code too short", secret, otpcode.SHA1, 6, 1, code[:5]},
		{"code too long", secret, otpcode.SHA1, 6, 1, append(code[:6:6], '0')},
		{"empty code", secret, otpcode.SHA1, 6, 1, nil},
		{"negative skew", secret, otpcode.SHA1, 6, -1, code},
		{"skew above max", secret, otpcode.SHA1, 6, otpcode.MaxSkew + 1, code},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := otpcode.Verify(tt.secret, tt.alg, tt.digits, 1, tt.skew, tt.code); ok {
				t.Errorf("Verify ok = true, want false")
			}
		})
	}
}

func TestGeneratePanicsOnInvalidInput(t *testing.T) {
	secret := []byte("panic secret 1234567")
	tests := []struct {
		name    string
		secret  []byte
		alg     otpcode.Algorithm
		digits  int
		counter int64
		want    string
	}{
		{"empty secret", nil, otpcode.SHA1, 6, 0, "twofactor: empty secret"},
		{"unknown algorithm", secret, 7, 6, 0, "twofactor: invalid algorithm Algorithm(7)"},
		{"5 digits", secret, otpcode.SHA1, 5, 0, "twofactor: invalid digits 5: want 6 to 10"},
		{"11 digits", secret, otpcode.SHA1, 11, 0, "twofactor: invalid digits 11: want 6 to 10"},
		{"negative counter", secret, otpcode.SHA1, 6, -1, "twofactor: invalid counter -1: want >= 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				got := fmt.Sprint(recover())
				if got != tt.want {
					t.Errorf("panic = %q, want %q", got, tt.want)
				}
			}()
			otpcode.Generate(tt.secret, tt.alg, tt.digits, tt.counter)
		})
	}
}

func TestStep(t *testing.T) {
	tests := []struct {
		t      time.Time
		period int64
		want   int64
	}{
		{time.Unix(0, 0), 30, 0},
		{time.Unix(29, 999999999), 30, 0},
		{time.Unix(30, 0), 30, 1},
		{time.Unix(59, 0), 30, 1},
		{time.Unix(1111111109, 0), 30, 37037036},
		{time.Unix(20000000000, 0), 30, 666666666},
		{time.Unix(119, 0), 60, 1},
		{time.Unix(7, 0), 1, 7},
		// 2024-01-01T00:00:00+05:00 is Unix time 1704049200.
		{time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("UTC+5", 5*3600)), 30, 56801640},
	}
	for _, tt := range tests {
		got, err := otpcode.Step(tt.t, tt.period)
		if err != nil {
			t.Errorf("Step(%v, %d) error: %v", tt.t, tt.period, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Step(%v, %d) = %d, want %d", tt.t, tt.period, got, tt.want)
		}
	}
}

func TestStepErrors(t *testing.T) {
	tests := []struct {
		name    string
		t       time.Time
		period  int64
		wantErr error
		wantMsg string
	}{
		{"zero time", time.Time{}, 30, otpcode.ErrBeforeEpoch,
			"twofactor: time is before the Unix epoch: 0001-01-01T00:00:00Z"},
		{"1969", time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), 30, otpcode.ErrBeforeEpoch,
			"twofactor: time is before the Unix epoch: 1969-12-31T23:59:59Z"},
		{"half a second before epoch", time.Unix(-1, 500000000), 30, otpcode.ErrBeforeEpoch,
			"twofactor: time is before the Unix epoch: 1969-12-31T23:59:59.5Z"},
		{"zero period", time.Unix(59, 0), 0, otpcode.ErrInvalidPeriod,
			"twofactor: invalid period 0: want a positive number of seconds"},
		{"negative period", time.Unix(59, 0), -30, otpcode.ErrInvalidPeriod,
			"twofactor: invalid period -30: want a positive number of seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := otpcode.Step(tt.t, tt.period)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Step error = %v, want %v", err, tt.wantErr)
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("Step error = %q, want %q", err, tt.wantMsg)
			}
		})
	}
}

func TestAlgorithmString(t *testing.T) {
	tests := []struct {
		alg  otpcode.Algorithm
		want string
	}{
		{otpcode.SHA1, "SHA1"},
		{otpcode.SHA256, "SHA256"},
		{otpcode.SHA512, "SHA512"},
		{3, "Algorithm(3)"},
	}
	for _, tt := range tests {
		if got := tt.alg.String(); got != tt.want {
			t.Errorf("Algorithm(%d).String() = %q, want %q", uint8(tt.alg), got, tt.want)
		}
	}
	var zero otpcode.Algorithm
	if zero != otpcode.SHA1 {
		t.Errorf("zero Algorithm = %s, want SHA1", zero)
	}
}

func TestParseAlgorithm(t *testing.T) {
	tests := []struct {
		in   string
		want otpcode.Algorithm
	}{
		{"SHA1", otpcode.SHA1},
		{"sha1", otpcode.SHA1},
		{"Sha256", otpcode.SHA256},
		{"sha512", otpcode.SHA512},
	}
	for _, tt := range tests {
		got, err := otpcode.ParseAlgorithm(tt.in)
		if err != nil {
			t.Errorf("ParseAlgorithm(%q) error: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseAlgorithm(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseAlgorithmErrors(t *testing.T) {
	for _, in := range []string{"", "MD5", "SHA-1", " SHA1", "SHA384", "Algorithm(3)"} {
		_, err := otpcode.ParseAlgorithm(in)
		if !errors.Is(err, otpcode.ErrInvalidAlgorithm) {
			t.Errorf("ParseAlgorithm(%q) error = %v, want %v", in, err, otpcode.ErrInvalidAlgorithm)
			continue
		}
		want := fmt.Sprintf("twofactor: invalid algorithm %q: want SHA1, SHA256 or SHA512", in)
		if err.Error() != want {
			t.Errorf("ParseAlgorithm(%q) error = %q, want %q", in, err, want)
		}
	}
}
