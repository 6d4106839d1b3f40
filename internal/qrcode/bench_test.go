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

// BenchmarkEncode measures Encode alone, the QR code symbol that PNG draws.
func BenchmarkEncode(b *testing.B) {
	for b.Loop() {
		if _, err := qrcode.Encode(testURI); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQREncode measures github.com/boombuler/barcode v1.1.0 qr.Encode,
// which makes the same symbol as Encode and which pquerna's Key.Image
// calls.
func BenchmarkQREncode(b *testing.B) {
	for b.Loop() {
		if _, err := qr.Encode(testURI, qr.M, qr.Auto); err != nil {
			b.Fatal(err)
		}
	}
}
