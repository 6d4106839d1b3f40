package qrcode_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"

	"github.com/twofactor-go/twofactor/internal/qrcode"
)

// Capacities at level M in characters, indexed by version - 1, as listed in
// ISO/IEC 18004. TestEncodeCapacityBoundaries checks that boombuler agrees.
var (
	numericCapacity = [40]int{
		34, 63, 101, 149, 202, 255, 293, 365, 432, 513,
		604, 691, 796, 871, 991, 1082, 1212, 1346, 1500, 1600,
		1708, 1872, 2059, 2188, 2395, 2544, 2701, 2857, 3035, 3289,
		3486, 3693, 3909, 4134, 4343, 4588, 4775, 5039, 5313, 5596,
	}
	alphanumericCapacity = [40]int{
		20, 38, 61, 90, 122, 154, 178, 221, 262, 311,
		366, 419, 483, 528, 600, 656, 734, 816, 909, 970,
		1035, 1134, 1248, 1326, 1451, 1542, 1637, 1732, 1839, 1994,
		2113, 2238, 2369, 2506, 2632, 2780, 2894, 3054, 3220, 3391,
	}
	byteCapacity = [40]int{
		14, 26, 42, 62, 84, 106, 122, 152, 180, 213,
		251, 287, 331, 362, 412, 450, 504, 560, 624, 666,
		711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370,
		1452, 1538, 1628, 1722, 1809, 1911, 1989, 2099, 2213, 2331,
	}
)

// boombulerEncode returns the symbol that Encode should match: that of
// github.com/boombuler/barcode v1.1.0 qr.Encode at level M in qr.Auto mode,
// or in qr.AlphaNumeric mode where qr.Auto drops signs (see
// numericWithSigns).
func boombulerEncode(content string) (barcode.Barcode, error) {
	mode := qr.Auto
	if numericWithSigns(content) {
		mode = qr.AlphaNumeric
	}
	return qr.Encode(content, qr.M, mode)
}

// numericWithSigns reports whether content has a '+' or '-' and qr.Auto
// still takes it for numeric mode. qr.Auto parses each group of three bytes
// with strconv.Atoi, which accepts a sign, and encodes the value without
// it, so "+12" reads back as "012".
func numericWithSigns(content string) bool {
	if !strings.ContainsAny(content, "+-") {
		return false
	}
	for i := 0; i < len(content); i += 3 {
		n, err := strconv.Atoi(content[i:min(i+3, len(content))])
		if err != nil || n < 0 {
			return false
		}
	}
	return true
}

// checkMatchesBoombuler checks that Encode and MinSize agree with
// boombulerEncode on content, and returns the symbol size, or 0 if content
// is too long.
func checkMatchesBoombuler(t *testing.T, content string) int {
	t.Helper()
	want, wantErr := boombulerEncode(content)
	got, err := qrcode.Encode(content)
	minSize, minSizeErr := qrcode.MinSize(content)
	if wantErr != nil {
		if err == nil {
			t.Fatalf("Encode of %d bytes: nil error; boombuler failed with %q", len(content), wantErr)
		}
		wantMessage := "twofactor: QR code content of " + strconv.Itoa(len(content)) + " bytes is too long; shorten it"
		if err.Error() != wantMessage {
			t.Errorf("Encode error = %q; want %q", err, wantMessage)
		}
		if minSizeErr == nil || minSizeErr.Error() != wantMessage {
			t.Errorf("MinSize error = %v; want %q", minSizeErr, wantMessage)
		}
		return 0
	}
	if err != nil {
		t.Fatalf("Encode of %d bytes: %v", len(content), err)
	}
	if minSizeErr != nil {
		t.Fatalf("MinSize of %d bytes: %v", len(content), minSizeErr)
	}

	size := want.Bounds().Dx()
	if got.Size() != size {
		t.Fatalf("Encode of %d bytes: size %d; boombuler: %d", len(content), got.Size(), size)
	}
	if minSize != size+2*qrcode.QuietZone {
		t.Errorf("MinSize of %d bytes = %d; want %d", len(content), minSize, size+2*qrcode.QuietZone)
	}
	mismatches := 0
	var first string
	for y := range size {
		for x := range size {
			wantDark := isDark(want.At(x, y))
			if got.Dark(x, y) != wantDark {
				if mismatches == 0 {
					first = "module " + strconv.Itoa(x) + "," + strconv.Itoa(y) + " dark = " + strconv.FormatBool(!wantDark)
				}
				mismatches++
			}
		}
	}
	if mismatches > 0 {
		t.Fatalf("Encode of %d bytes: %d of %d modules differ from boombuler, first %s",
			len(content), mismatches, size*size, first)
	}
	return size
}

func TestEncodeMatchesBoombuler(t *testing.T) {
	tests := []struct {
		name    string
		content string
	}{
		{"empty", ""},
		{"one digit", "7"},
		{"digits", "0123456789"},
		{"alphanumeric", "HTTPS://EXAMPLE.COM/$%*+-./: 0"},
		{"lowercase", "hello"},
		{"UTF-8", "zoë@example.com 東京銀行"},
		{"invalid UTF-8", "\xff\xfe\x00\x80"},
		{"NUL bytes", "\x00\x00\x00"},
		{"digits then letter", strings.Repeat("1", 40) + "A"},
		// Masks 0 and 2 tie for the lowest penalty, 319, so the first wins.
		{"penalty tie 0 and 2", "fss"},
		// Masks 4 and 6 tie at 390.
		{"penalty tie 4 and 6", "izrbuespxmqumd"},
		{"key URI", testURI},
		{"long key URI", longURI},
		{"key URI without issuer", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP"},
		{"uppercase key URI", "OTPAUTH://TOTP/ACME:ALICE?SECRET=JBSWY3DPEHPK3PXP&ISSUER=ACME"},
	}
	// Key URIs with secrets of 16 to 2,048 base32 characters need versions 5
	// to 39. With 4,096 they are too long.
	for length := 16; length <= 4096; length *= 2 {
		secret := strings.Repeat("GEZDGNBVGY3TQOJQ", length/16)
		tests = append(tests, struct {
			name    string
			content string
		}{
			"key URI with secret of " + strconv.Itoa(length),
			"otpauth://totp/Example:alice@example.com?secret=" + secret + "&issuer=Example",
		})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkMatchesBoombuler(t, tc.content)
		})
	}
}

// TestEncodeCapacityBoundaries checks the content that fills a version and
// one character more: in byte mode, which key URIs use, for every version,
// and in numeric and alphanumeric mode for the first and last version of
// each character count length.
func TestEncodeCapacityBoundaries(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes 104 symbols with boombuler, up to version 40")
	}
	var allVersions []int
	for version := 1; version <= 40; version++ {
		allVersions = append(allVersions, version)
	}
	countLengthEdges := []int{1, 9, 10, 26, 27, 40}
	modes := []struct {
		name     string
		char     string
		capacity *[40]int
		versions []int
	}{
		{"byte", "a", &byteCapacity, allVersions},
		{"alphanumeric", "A", &alphanumericCapacity, countLengthEdges},
		{"numeric", "9", &numericCapacity, countLengthEdges},
	}
	for _, m := range modes {
		for _, version := range m.versions {
			full := m.capacity[version-1]
			t.Run(m.name+"/version "+strconv.Itoa(version), func(t *testing.T) {
				t.Parallel()
				wantSize := 17 + 4*version
				if got := checkMatchesBoombuler(t, strings.Repeat(m.char, full)); got != wantSize {
					t.Errorf("%d characters: size %d; want %d (version %d)", full, got, wantSize, version)
				}
				// One more character needs the next version, or fits none
				// after version 40.
				wantSize += 4
				if version == 40 {
					wantSize = 0
				}
				if got := checkMatchesBoombuler(t, strings.Repeat(m.char, full+1)); got != wantSize {
					t.Errorf("%d characters: size %d; want %d", full+1, got, wantSize)
				}
			})
		}
	}
}

// TestEncodeSignedDigits checks that digits with signs at the start of a
// group of three go in alphanumeric mode, where qr.Auto drops the signs.
func TestEncodeSignedDigits(t *testing.T) {
	for _, content := range []string{"+12", "-00", "+1", "-0", "123+45-00"} {
		t.Run(content, func(t *testing.T) {
			if !numericWithSigns(content) {
				t.Fatalf("qr.Auto does not take %q for numeric mode", content)
			}
			checkMatchesBoombuler(t, content)

			auto, err := qr.Encode(content, qr.M, qr.Auto)
			if err != nil {
				t.Fatalf("qr.Encode: %v", err)
			}
			alphanumeric, err := qr.Encode(content, qr.M, qr.AlphaNumeric)
			if err != nil {
				t.Fatalf("qr.Encode: %v", err)
			}
			if sameModules(auto, alphanumeric) {
				t.Errorf("qr.Auto and qr.AlphaNumeric give the same symbol, so the test checks nothing")
			}
		})
	}
}

func sameModules(a, b barcode.Barcode) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := range a.Bounds().Dy() {
		for x := range a.Bounds().Dx() {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

func FuzzEncodeMatchesBoombuler(f *testing.F) {
	f.Add("")
	f.Add("hello")
	f.Add("0123456789")
	f.Add("+12")
	f.Add("HELLO WORLD")
	f.Add("\xff\xfe")
	f.Add(testURI)
	f.Fuzz(func(t *testing.T, content string) {
		checkMatchesBoombuler(t, content)
	})
}
