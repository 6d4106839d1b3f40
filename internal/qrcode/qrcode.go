// Package qrcode renders text, such as a TOTP key URI, as a QR code PNG
// that a phone camera can scan.
package qrcode

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sync"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
)

// QuietZone is the minimum white border, in modules, on each side of the
// code. The QR code standard requires 4.
const QuietZone = 4

// MaxSize is the largest image width and height, in pixels, that PNG
// accepts. It bounds the image buffer at MaxSize*MaxSize bytes (16 MiB).
const MaxSize = 4096

// pngEncoder reuses its compressor state between calls. Allocating it for
// each call took about 1.2 MB and most of the PNG encoding time.
//
// NOTE: a pooled buffer keeps rows of the last image it encoded, which shows
// a secret when the content is a key URI, until the next call reuses it.
var pngEncoder = png.Encoder{
	// DefaultCompression wrote 681 bytes for a 122-byte key URI at 200 px where
	// BestSpeed wrote 743, with no measurable difference in time.
	CompressionLevel: png.DefaultCompression,
	BufferPool:       new(encoderBufferPool),
}

// encoderBufferPool is a png.EncoderBufferPool that is safe for concurrent
// use.
type encoderBufferPool struct {
	pool sync.Pool
}

func (p *encoderBufferPool) Get() *png.EncoderBuffer {
	buffer, _ := p.pool.Get().(*png.EncoderBuffer)
	return buffer
}

func (p *encoderBufferPool) Put(buffer *png.EncoderBuffer) {
	p.pool.Put(buffer)
}

// palette puts white at index 0, so a new image starts blank.
var palette = color.Palette{color.White, color.Black}

// PNG encodes content as a QR code at error correction level M, choosing
// the mode automatically, and returns a size by size pixel PNG of it.
//
// Every module is the same whole number of pixels, the largest that fits
// with the quiet zone. The pixels left over widen the white margin,
// split evenly between the sides, so the code is centred. The image is
// black on white with a 1-bit palette.
//
// PNG returns an error if size is less than MinSize(content) or more than
// MaxSize, or if content does not fit in a QR code. Errors never include
// content, which may contain a secret.
func PNG(content string, size int) ([]byte, error) {
	if size > MaxSize {
		return nil, fmt.Errorf("twofactor: QR code size %d is too large; use at most %d", size, MaxSize)
	}
	code, err := encode(content)
	if err != nil {
		return nil, err
	}
	if smallest := minSize(code); size < smallest {
		return nil, fmt.Errorf("twofactor: QR code size %d is too small; use at least %d", size, smallest)
	}

	var buf bytes.Buffer
	if err := pngEncoder.Encode(&buf, render(code, size)); err != nil {
		return nil, fmt.Errorf("twofactor: encode QR code PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// MinSize returns the smallest size that PNG accepts for content: one
// pixel per module, including the quiet zone on both sides.
func MinSize(content string) (int, error) {
	code, err := encode(content)
	if err != nil {
		return 0, err
	}
	return minSize(code), nil
}

// encode returns the QR code of content with one module per pixel.
func encode(content string) (barcode.Barcode, error) {
	// TODO: qr.Encode takes about 85% of PNG for a key URI. In
	// github.com/boombuler/barcode v1.1.0 it scores all eight masks with
	// per-module bit lookups and walks the modules through two goroutines
	// and channels, and no option skips that. Alone it takes 0.67x the
	// time of pquerna's Key.Image with png.Encode, so set-up with the PNG
	// cannot reach 0.5x of that while it calls qr.Encode (BENCHMARKS.md).
	code, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		// The qr package quotes content in its errors, so they are not
		// wrapped. In github.com/boombuler/barcode v1.1.0, qr.Auto fails
		// only when content is longer than the largest QR code (version
		// 40) can hold, which TestPNGContentTooLong checks at 2331 bytes.
		return nil, fmt.Errorf("twofactor: QR code content of %d bytes is too long; shorten it", len(content))
	}
	return code, nil
}

func minSize(code barcode.Barcode) int {
	return code.Bounds().Dx() + 2*QuietZone
}

// render draws code into a size by size image, where size >= minSize(code).
func render(code barcode.Barcode, size int) *image.Paletted {
	bounds := code.Bounds()
	modules := bounds.Dx()
	scale := size / (modules + 2*QuietZone)
	// margin is the left and top border in pixels: the quiet zone plus half
	// the leftover pixels. The right and bottom borders get the rest.
	margin := (size - modules*scale) / 2

	img := image.NewPaletted(image.Rect(0, 0, size, size), palette)
	row := make([]uint8, size)
	for y := range modules {
		clear(row)
		for x := range modules {
			if isDark(code.At(bounds.Min.X+x, bounds.Min.Y+y)) {
				start := margin + x*scale
				fillOnes(row[start : start+scale])
			}
		}
		// Copy the module row into the scale pixel rows it covers.
		top := margin + y*scale
		for line := top; line < top+scale; line++ {
			copy(img.Pix[line*img.Stride:], row)
		}
	}
	return img
}

func isDark(c color.Color) bool {
	return color.GrayModel.Convert(c).(color.Gray).Y < 0x80
}

func fillOnes(pixels []uint8) {
	for i := range pixels {
		pixels[i] = 1
	}
}
