package seal

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzOpen checks that Open never panics and opens only values that Seal
// made. When Open succeeds, sealing the returned plaintext again with the
// same key, nonce and additional data must reproduce the input exactly.
func FuzzOpen(f *testing.F) {
	keys := []Key{testKey("k1", 1), testKey("k0", 2)}
	r := mustRing(f, keys...)
	// singleKey holds a one-key ring per id, to seal with any key of r.
	singleKey := map[string]*Ring{}
	for _, k := range keys {
		singleKey[k.ID] = mustRing(f, k)
	}

	ad := userAD("alice")
	valid := mustSeal(f, r, []byte("JBSWY3DPEHPK3PXP"), ad)
	f.Add(valid, ad)
	f.Add(mustSeal(f, singleKey["k0"], []byte{}, nil), []byte(nil))
	f.Add(valid, userAD("bob"))
	f.Add(valid[:len(valid)-1], ad)
	f.Add([]byte{}, []byte(nil))
	f.Add([]byte{1, 2, 'k', '9'}, []byte(nil))
	f.Add(append([]byte{1, 0}, make([]byte, nonceSize+tagSize)...), []byte(nil))

	f.Fuzz(func(t *testing.T, sealed, ad []byte) {
		input := bytes.Clone(sealed)
		plaintext, err := r.Open(sealed, ad)
		if !bytes.Equal(sealed, input) {
			t.Fatalf("Open modified its input")
		}
		if err != nil {
			if plaintext != nil {
				t.Fatalf("Open returned plaintext %q with error %v", plaintext, err)
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("Open error = %v, want ErrInvalid or ErrUnknownKey", err)
			}
			return
		}

		id, err := KeyID(sealed)
		if err != nil {
			t.Fatalf("Open succeeded but KeyID failed: %v", err)
		}
		headerSize := minHeaderSize + len(id)
		nonce := sealed[headerSize : headerSize+nonceSize]
		resealed, err := singleKey[id].Seal(bytes.NewReader(nonce), plaintext, ad)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		if !bytes.Equal(resealed, sealed) {
			t.Fatalf("Open accepted %x, but sealing its plaintext gives %x", sealed, resealed)
		}
	})
}
