package twofactor

import (
	"strings"
	"testing"
)

// FuzzNormalizeBackupCode checks that the normalised form of any input is
// either rejected or exactly backupCodeLength characters of the alphabet,
// and that a formatted code always normalises back to itself.
func FuzzNormalizeBackupCode(f *testing.F) {
	f.Add("ABCD-EFGH-JKMN")
	f.Add("abcd efgh jkmn")
	f.Add("0OIL-1111-2222")
	f.Add("ＡＢＣＤ-EFGH-JKMN")
	f.Fuzz(func(t *testing.T, input string) {
		code, ok := normalizeBackupCode(input)
		if !ok {
			return
		}
		if len(code) != backupCodeLength {
			t.Fatalf("normalizeBackupCode(%q) = %q, want %d characters", input, code, backupCodeLength)
		}
		for _, c := range code {
			if !strings.ContainsRune(backupAlphabet, c) {
				t.Fatalf("normalizeBackupCode(%q) = %q contains %q", input, code, c)
			}
		}
		again, ok := normalizeBackupCode(formatBackupCode(code))
		if !ok || again != code {
			t.Fatalf("formatted %q normalises to %q, %v", code, again, ok)
		}
	})
}
