package qrcode_test

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/boombuler/barcode/qr"
	"github.com/pquerna/otp"

	"github.com/twofactor-go/twofactor/internal/qrcode"
)

// The two benchmarks render the same URI at 200x200 so their times can be
// compared directly.

func BenchmarkPNG200(b *testing.B) {
	for b.Loop() {
		if _, err := qrcode.PNG(testURI, 200); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPquernaImagePNG measures github.com/pquerna/otp v1.5.0
// Key.Image followed by png.Encode.
func BenchmarkPquernaImagePNG(b *testing.B) {
	key, err := otp.NewKeyFromURL(testURI)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
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

// BenchmarkQREncode measures github.com/boombuler/barcode v1.1.0 qr.Encode
// alone, which both benchmarks above call. It bounds how fast either can be.
func BenchmarkQREncode(b *testing.B) {
	for b.Loop() {
		if _, err := qr.Encode(testURI, qr.M, qr.Auto); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQREncodeUnicode measures qr.Encode in byte mode, which qr.Auto
// picks for a key URI after trying the numeric and alphanumeric modes.
func BenchmarkQREncodeUnicode(b *testing.B) {
	for b.Loop() {
		if _, err := qr.Encode(testURI, qr.M, qr.Unicode); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQREncodeLevelL measures qr.Encode at error correction level L,
// which fits testURI in version 6 (41 modules) instead of version 7 (45
// modules) at level M.
func BenchmarkQREncodeLevelL(b *testing.B) {
	for b.Loop() {
		if _, err := qr.Encode(testURI, qr.L, qr.Auto); err != nil {
			b.Fatal(err)
		}
	}
}
