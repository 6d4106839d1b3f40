// Package qrcode encodes text, such as a TOTP key URI, as a QR code and
// renders it as a PNG that a phone camera can scan.
package qrcode

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sync"
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
	seg, ok := chooseSegment(content)
	if !ok {
		return nil, contentTooLongError(len(content))
	}
	if smallest := minSize(seg.version); size < smallest {
		return nil, fmt.Errorf("twofactor: QR code size %d is too small; use at least %d", size, smallest)
	}
	code := encodeSegment(content, seg)

	var buf bytes.Buffer
	if err := pngEncoder.Encode(&buf, render(code, size)); err != nil {
		return nil, fmt.Errorf("twofactor: encode QR code PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// MinSize returns the smallest size that PNG accepts for content: one
// pixel per module, including the quiet zone on both sides.
func MinSize(content string) (int, error) {
	seg, ok := chooseSegment(content)
	if !ok {
		return 0, contentTooLongError(len(content))
	}
	return minSize(seg.version), nil
}

func minSize(version int) int {
	return symbolSize(version) + 2*QuietZone
}

// render draws code into a size by size image, where size is at least the
// code's size plus the quiet zone on both sides.
func render(code *Code, size int) *image.Paletted {
	modules := code.size
	scale := size / (modules + 2*QuietZone)
	// margin is the left and top border in pixels: the quiet zone plus half
	// the leftover pixels. The right and bottom borders get the rest.
	margin := (size - modules*scale) / 2

	img := image.NewPaletted(image.Rect(0, 0, size, size), palette)
	row := make([]uint8, size)
	for y := range modules {
		clear(row)
		for x, dark := range code.modules[y*modules : (y+1)*modules] {
			if dark == 1 {
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

func fillOnes(pixels []uint8) {
	for i := range pixels {
		pixels[i] = 1
	}
}
