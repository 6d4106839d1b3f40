package otpcode_test

import (
	"testing"

	"github.com/twofactor-go/twofactor/internal/otpcode"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		digits int
		want   string // empty when ok must be false
	}{
		{"plain", "123456", 6, "123456"},
		{"inner space", "123 456", 6, "123456"},
		{"inner dash", "123-456", 6, "123456"},
		{"leading and trailing spaces", "  123456  ", 6, "123456"},
		{"spaces and dashes everywhere", "- 1-2 3--4 5 6 -", 6, "123456"},
		{"8 digits", "1234 5678", 8, "12345678"},
		{"10 digits", "12345-67890", 10, "1234567890"},
		{"leading zeros", "000000", 6, "000000"},
		{"tab", "123\t456", 6, ""},
		{"trailing newline", "123456\n", 6, ""},
		{"fullwidth digits", "１２３４５６", 6, ""},
		{"arabic-indic digits", "١٢٣٤٥٦", 6, ""},
		{"one fullwidth digit", "12345６", 6, ""},
		{"non-breaking space", "123\u00a0456", 6, ""},
		{"unicode dash", "123\u2013456", 6, ""},
		{"invalid utf-8", "123\xff456", 6, ""},
		{"too short", "12345", 6, ""},
		{"too long", "1234567", 6, ""},
		{"long input", "123456789012345678901234567890", 10, ""},
		{"empty", "", 6, ""},
		{"only separators", " - - ", 6, ""},
		{"letters", "12345a", 6, ""},
		{"plus sign", "+123456", 6, ""},
		{"5 digits requested", "12345", 5, ""},
		{"11 digits requested", "12345678901", 11, ""},
		{"negative digits", "123456", -6, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst [otpcode.MaxDigits]byte
			n, ok := otpcode.Normalize(&dst, tt.input, tt.digits)
			wantOK := tt.want != ""
			if ok != wantOK {
				t.Fatalf("Normalize(%q, %d) ok = %t, want %t", tt.input, tt.digits, ok, wantOK)
			}
			if !ok {
				if n != 0 {
					t.Errorf("Normalize(%q, %d) n = %d, want 0", tt.input, tt.digits, n)
				}
				return
			}
			if got := string(dst[:n]); got != tt.want {
				t.Errorf("Normalize(%q, %d) = %q, want %q", tt.input, tt.digits, got, tt.want)
			}
		})
	}
}
