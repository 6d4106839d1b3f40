package qrcode_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/twofactor-go/twofactor/internal/qrcode"
)

// testURI is a key URI with percent-encoded non-ASCII names, as
// keyuri.Build writes it for issuer "Zürich Bank" and account name
// "zoë@example.com".
const testURI = "otpauth://totp/Z%C3%BCrich%20Bank:zo%C3%AB%40example.com" +
	"?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Z%C3%BCrich%20Bank"

// longURI needs a larger QR version than testURI.
const longURI = "otpauth://totp/%E6%9D%B1%E4%BA%AC%20%E9%8A%80%E8%A1%8C:" +
	"%E5%B1%B1%E7%94%B0%E5%A4%AA%E9%83%8E%40example.co.jp" +
	"?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" +
	"&issuer=%E6%9D%B1%E4%BA%AC%20%E9%8A%80%E8%A1%8C&algorithm=SHA512&digits=8&period=60"

func TestMinSize(t *testing.T) {
	tests := []struct {
		content string
		want    int
	}{
		{"hello", 21 + 8},                 // version 1
		{strings.Repeat("7", 34), 21 + 8}, // 34 digits fill version 1 in numeric mode
		{strings.Repeat("7", 35), 25 + 8}, // version 2
		{strings.Repeat("a", 14), 21 + 8}, // 14 bytes fill version 1 in byte mode
		{strings.Repeat("a", 15), 25 + 8}, // version 2
	}
	for _, tc := range tests {
		got, err := qrcode.MinSize(tc.content)
		if err != nil {
			t.Fatalf("MinSize(%q): %v", tc.content, err)
		}
		if got != tc.want {
			t.Errorf("MinSize(%q) = %d; want %d", tc.content, got, tc.want)
		}
	}
}

func TestPNGLayout(t *testing.T) {
	tests := []struct {
		name    string
		content string
		size    int
	}{
		{"minimum", "hello", 29},
		{"minimum plus one", "hello", 30},
		{"scale 2 with odd leftover", "hello", 61},
		{"URI 200", testURI, 200},
		{"URI 256", testURI, 256},
		{"URI 257", testURI, 257},
		{"long URI 200", longURI, 200},
		{"long URI 512", longURI, 512},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := qrcode.PNG(tc.content, tc.size)
			if err != nil {
				t.Fatalf("PNG(%d): %v", tc.size, err)
			}
			checkPNGHeader(t, data)
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("png.Decode: %v", err)
			}
			if got := img.Bounds(); got != image.Rect(0, 0, tc.size, tc.size) {
				t.Fatalf("image bounds = %v; want %dx%d from 0,0", got, tc.size, tc.size)
			}
			checkLayout(t, img, tc.content)
		})
	}
}

// checkPNGHeader checks that the IHDR chunk declares a 1-bit palette image.
// IHDR follows the 8-byte signature, its 4-byte length and 4-byte type,
// and holds width, height, bit depth and color type in that order.
func checkPNGHeader(t *testing.T, data []byte) {
	t.Helper()
	if len(data) < 26 || string(data[12:16]) != "IHDR" {
		t.Fatalf("PNG does not start with an IHDR chunk")
	}
	if depth := data[24]; depth != 1 {
		t.Errorf("PNG bit depth = %d; want 1", depth)
	}
	if colorType := data[25]; colorType != 3 {
		t.Errorf("PNG color type = %d; want 3 (palette)", colorType)
	}
}

// checkPalette checks that img has exactly two colors, pure white and pure
// black, so every pixel is one or the other.
func checkPalette(t *testing.T, img image.Image) {
	t.Helper()
	paletted, ok := img.(*image.Paletted)
	if !ok {
		t.Fatalf("decoded image is %T; want *image.Paletted", img)
	}
	want := color.Palette{color.Gray{Y: 0xff}, color.Gray{Y: 0}}
	if len(paletted.Palette) != len(want) {
		t.Fatalf("palette has %d colors; want 2", len(paletted.Palette))
	}
	for i, c := range paletted.Palette {
		if got := color.GrayModel.Convert(c); got != want[i] {
			t.Errorf("palette[%d] = %v; want %v", i, got, want[i])
		}
		if _, _, _, a := c.RGBA(); a != 0xffff {
			t.Errorf("palette[%d] alpha = %#x; want opaque", i, a)
		}
	}
}

// checkLayout checks the image against the QR code of content from
// boombulerEncode. It wants a white quiet zone of at least QuietZone modules
// on each side and the code centred within one pixel. Every module must be
// a uniform square of whole pixels whose color matches the code.
func checkLayout(t *testing.T, img image.Image, content string) {
	t.Helper()
	code, err := boombulerEncode(content)
	if err != nil {
		t.Fatalf("qr.Encode: %v", err)
	}
	modules := code.Bounds().Dx()
	size := img.Bounds().Dx()
	checkPalette(t, img)

	// The finder patterns put dark modules in three corners, so the dark
	// pixels span the whole code.
	box := darkBounds(img)
	if box.Dx() != box.Dy() || box.Dx()%modules != 0 {
		t.Fatalf("dark pixels span %v; want a square of a whole multiple of %d modules", box, modules)
	}
	scale := box.Dx() / modules
	if want := size / (modules + 2*qrcode.QuietZone); scale != want {
		t.Errorf("module scale = %d pixels; want the largest that fits, %d", scale, want)
	}
	left, top := box.Min.X, box.Min.Y
	right, bottom := size-box.Max.X, size-box.Max.Y
	quiet := qrcode.QuietZone * scale
	for _, m := range []struct {
		side   string
		pixels int
	}{{"left", left}, {"top", top}, {"right", right}, {"bottom", bottom}} {
		if m.pixels < quiet {
			t.Errorf("%s margin = %d pixels; want at least %d (%d modules of %d pixels)",
				m.side, m.pixels, quiet, qrcode.QuietZone, scale)
		}
	}
	if d := right - left; d < 0 || d > 1 {
		t.Errorf("left, right margins = %d, %d; want equal or right one pixel wider", left, right)
	}
	if d := bottom - top; d < 0 || d > 1 {
		t.Errorf("top, bottom margins = %d, %d; want equal or bottom one pixel wider", top, bottom)
	}

	for my := range modules {
		for mx := range modules {
			want := isDark(code.At(mx, my))
			x0, y0 := left+mx*scale, top+my*scale
			for y := y0; y < y0+scale; y++ {
				for x := x0; x < x0+scale; x++ {
					if got := isDark(img.At(x, y)); got != want {
						t.Fatalf("pixel %d,%d of module %d,%d: dark = %v; want %v", x, y, mx, my, got, want)
					}
				}
			}
		}
	}
}

// darkBounds returns the smallest rectangle that contains every dark pixel
// of img.
func darkBounds(img image.Image) image.Rectangle {
	var box image.Rectangle
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if isDark(img.At(x, y)) {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return box
}

// isDark reports whether c is closer to black than to white.
func isDark(c color.Color) bool {
	return color.GrayModel.Convert(c).(color.Gray).Y < 0x80
}

func TestPNGSizeErrors(t *testing.T) {
	smallest, err := qrcode.MinSize(testURI)
	if err != nil {
		t.Fatalf("MinSize: %v", err)
	}
	tests := []struct {
		size    int
		wantErr string
	}{
		{smallest - 1, "twofactor: QR code size " + strconv.Itoa(smallest-1) + " is too small; use at least " + strconv.Itoa(smallest)},
		{20, "twofactor: QR code size 20 is too small; use at least " + strconv.Itoa(smallest)},
		{0, "twofactor: QR code size 0 is too small; use at least " + strconv.Itoa(smallest)},
		{-1, "twofactor: QR code size -1 is too small; use at least " + strconv.Itoa(smallest)},
		{qrcode.MaxSize + 1, "twofactor: QR code size 4097 is too large; use at most 4096"},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.size), func(t *testing.T) {
			data, err := qrcode.PNG(testURI, tc.size)
			if err == nil {
				t.Fatalf("PNG(%d) = %d bytes, nil; want error %q", tc.size, len(data), tc.wantErr)
			}
			if err.Error() != tc.wantErr {
				t.Errorf("PNG(%d) error = %q; want %q", tc.size, err, tc.wantErr)
			}
		})
	}

	if _, err := qrcode.PNG(testURI, smallest); err != nil {
		t.Errorf("PNG(MinSize = %d): %v", smallest, err)
	}
}

func TestPNGContentTooLong(t *testing.T) {
	// Version 40 at level M holds at most 2331 bytes in byte mode.
	const prefix = "otpauth://totp/a:b?secret="
	secret := prefix + strings.Repeat("ab", (2332-len(prefix))/2)
	if len(secret) != 2332 {
		t.Fatalf("test content is %d bytes; want 2332", len(secret))
	}
	for _, call := range []struct {
		name string
		run  func() error
	}{
		{"PNG", func() error { _, err := qrcode.PNG(secret, 1000); return err }},
		{"MinSize", func() error { _, err := qrcode.MinSize(secret); return err }},
	} {
		err := call.run()
		if err == nil {
			t.Fatalf("%s with %d bytes of content: nil error; want too long", call.name, len(secret))
		}
		want := "twofactor: QR code content of " + strconv.Itoa(len(secret)) + " bytes is too long; shorten it"
		if err.Error() != want {
			t.Errorf("%s error = %q; want %q", call.name, err, want)
		}
		if strings.Contains(err.Error(), "abab") {
			t.Errorf("%s error contains the content", call.name)
		}
	}

	fits := strings.Repeat("a", 2331)
	if _, err := qrcode.MinSize(fits); err != nil {
		t.Errorf("MinSize with 2331 bytes: %v", err)
	}
}

func TestPNGZbarimg(t *testing.T) {
	zbarimg, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("zbarimg not found; install the Debian package zbar-tools")
		}
		t.Skip("zbarimg not found; install the Debian package zbar-tools to run this test")
	}

	contents := []struct {
		name    string
		content string
	}{
		{"URI", testURI},
		{"long URI", longURI},
		{"numeric", "0123456789"},
		{"alphanumeric", "HTTPS://EXAMPLE.COM/A"},
		// qr.Auto would drop the sign in numeric mode.
		{"signed digits", "+12345"},
	}
	for _, tc := range contents {
		content := tc.content
		smallest, err := qrcode.MinSize(content)
		if err != nil {
			t.Fatalf("MinSize: %v", err)
		}
		for _, size := range []int{200, 256, 2 * smallest} {
			t.Run(tc.name+"/min"+strconv.Itoa(smallest)+"/size"+strconv.Itoa(size), func(t *testing.T) {
				data, err := qrcode.PNG(content, size)
				if err != nil {
					t.Fatalf("PNG(%d): %v", size, err)
				}
				file := filepath.Join(t.TempDir(), "code.png")
				if err := os.WriteFile(file, data, 0o600); err != nil {
					t.Fatal(err)
				}

				out, err := exec.Command(zbarimg, "--raw", "-q", file).Output()
				if err != nil {
					var exitErr *exec.ExitError
					if errors.As(err, &exitErr) {
						t.Fatalf("zbarimg: %v: %s", err, exitErr.Stderr)
					}
					t.Fatalf("zbarimg: %v", err)
				}
				if got := strings.TrimSuffix(string(out), "\n"); got != content {
					t.Errorf("zbarimg read\n  %q\nwant\n  %q", got, content)
				}
			})
		}
	}
}

func FuzzPNG(f *testing.F) {
	f.Add("hello", 29)
	f.Add(testURI, 200)
	f.Add("", 100)
	f.Add("\x00\xff", 28)
	f.Fuzz(func(t *testing.T, content string, size int) {
		size %= 300 // keep each run fast
		data, err := qrcode.PNG(content, size)
		if err != nil {
			return
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("png.Decode: %v", err)
		}
		if got := img.Bounds(); got != image.Rect(0, 0, size, size) {
			t.Fatalf("image bounds = %v; want %dx%d", got, size, size)
		}
		checkLayout(t, img, content)
	})
}
