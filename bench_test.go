package twofactor

import (
	"bytes"
	"context"
	"encoding/base32"
	"image/png"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/twofactor-go/twofactor/internal/otpcode"
)

// The code check benchmarks share one input: a 20-byte secret, SHA-1,
// 6 digits, a period of 30 seconds and skew 1, as in
// internal/otpcode/bench_test.go.
var (
	benchSecret = []byte("benchmark secret 20b")
	benchNow    = time.Unix(1700000000, 0)
	benchParams = codeParams{alg: SHA1, digits: 6, period: 30}
)

// benchCodes returns the right code for benchNow and a code that matches
// no step of the skew window.
func benchCodes(b *testing.B) (right, wrong string) {
	b.Helper()
	step, err := benchParams.step(benchNow)
	if err != nil {
		b.Fatal(err)
	}
	right = otpcode.Generate(benchSecret, otpcode.SHA1, 6, step)
	for _, wrong := range []string{"000000", "111111"} {
		if _, ok := otpcode.Verify(benchSecret, otpcode.SHA1, 6, step, 1, []byte(wrong)); !ok {
			return right, wrong
		}
	}
	b.Fatal("no wrong code found")
	return "", ""
}

func benchmarkCheck(b *testing.B, input string, want bool) {
	b.ReportAllocs()
	for b.Loop() {
		_, ok, err := benchParams.check(benchSecret, input, benchNow, 1)
		if err != nil || ok != want {
			b.Fatalf("check = (%t, %v), want (%t, nil)", ok, err, want)
		}
	}
}

// BenchmarkCheckWrong measures the code check of Submit and ConfirmSetup
// with a wrong code, which computes all three codes of the window.
func BenchmarkCheckWrong(b *testing.B) {
	_, wrong := benchCodes(b)
	benchmarkCheck(b, wrong, false)
}

// BenchmarkCheckRight measures the code check with the right code. Its
// time should match BenchmarkCheckWrong.
func BenchmarkCheckRight(b *testing.B) {
	right, _ := benchCodes(b)
	benchmarkCheck(b, right, true)
}

// BenchmarkPquernaValidateCustom measures github.com/pquerna/otp v1.5.0
// totp.ValidateCustom on the input of BenchmarkCheckWrong.
func BenchmarkPquernaValidateCustom(b *testing.B) {
	_, wrong := benchCodes(b)
	secret := base32.StdEncoding.EncodeToString(benchSecret)
	opts := totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	b.ReportAllocs()
	for b.Loop() {
		ok, err := totp.ValidateCustom(wrong, secret, benchNow, opts)
		if err != nil || ok {
			b.Fatalf("ValidateCustom = (%t, %v), want (false, nil)", ok, err)
		}
	}
}

// BenchmarkOpenSecret measures decrypting a stored secret as Submit does.
func BenchmarkOpenSecret(b *testing.B) {
	box, _, err := newSecretBox([]EncryptionKey{{ID: "k1", Secret: make([]byte, 32)}}, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	sealed, err := box.seal("user-0000042", benchSecret)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		err := box.withOpen("user-0000042", sealed, func(secret []byte) error {
			if !bytes.Equal(secret, benchSecret) {
				b.Fatal("opened secret differs")
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// setupOnlyStore is a Store for StartSetup, which calls PutSetup and no
// other method. Any other call panics on the nil embedded Store.
type setupOnlyStore struct{ Store }

func (setupOnlyStore) PutSetup(context.Context, Setup) error { return nil }

// BenchmarkSetupPNG measures StartSetup followed by a 200-pixel QR code
// PNG of the key, with secrets and nonces from crypto/rand.
func BenchmarkSetupPNG(b *testing.B) {
	m, err := New(Config{
		Store:  setupOnlyStore{},
		Issuer: "Zürich Bank",
		Keys:   []EncryptionKey{{ID: "k1", Secret: make([]byte, 32)}},
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		key, err := m.StartSetup(ctx, "user-0000042", "zoë@example.com")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := key.PNG(200); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPquernaImagePNG measures github.com/pquerna/otp v1.5.0
// Key.Image(200, 200) followed by png.Encode, on a key URI that StartSetup
// made with the Manager of BenchmarkSetupPNG.
func BenchmarkPquernaImagePNG(b *testing.B) {
	m, err := New(Config{Store: setupOnlyStore{}, Issuer: "Zürich Bank", Unencrypted: true})
	if err != nil {
		b.Fatal(err)
	}
	setup, err := m.StartSetup(context.Background(), "user-0000042", "zoë@example.com")
	if err != nil {
		b.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(setup.URI)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		img, err := key.Image(200, 200)
		if err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		if err := png.Encode(&buf, img); err != nil {
			b.Fatal(err)
		}
	}
}
