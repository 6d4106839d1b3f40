package seal

import (
	"testing"
)

// benchAD is additional data of the length the twofactor package passes:
// its 22-byte prefix and a 12-byte user ID.
var benchAD = []byte("twofactor totp secret\x00user-0000042")

func benchSealed(b *testing.B) (*Ring, []byte) {
	b.Helper()
	r := mustRing(b, testKey("k1", 1))
	sealed, err := r.Seal(fixedNonce(7), []byte("20-byte totp secret!"), benchAD)
	if err != nil {
		b.Fatal(err)
	}
	return r, sealed
}

func BenchmarkOpen(b *testing.B) {
	r, sealed := benchSealed(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Open(sealed, benchAD); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	r, _ := benchSealed(b)
	plaintext := []byte("20-byte totp secret!")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Seal(nil, plaintext, benchAD); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendOpen measures AppendOpen into a buffer with room for the
// plaintext, as the twofactor package opens a secret on each submission.
func BenchmarkAppendOpen(b *testing.B) {
	r, sealed := benchSealed(b)
	var buf [64]byte
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.AppendOpen(buf[:0], sealed, benchAD); err != nil {
			b.Fatal(err)
		}
	}
}
