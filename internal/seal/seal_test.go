package seal

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"golang.org/x/crypto/chacha20poly1305"
)

// testSecret returns a 32-byte secret of printable bytes, so that tests can
// search text output for the raw bytes as well as their encodings.
func testSecret(seed byte) []byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	secret := make([]byte, keySize)
	for i := range secret {
		secret[i] = alphabet[(int(seed)*7+i)%len(alphabet)]
	}
	return secret
}

func testKey(id string, seed byte) Key {
	return Key{ID: id, Secret: testSecret(seed)}
}

// fixedNonce returns a reader of exactly one nonce of bytes b.
func fixedNonce(b byte) io.Reader {
	return bytes.NewReader(bytes.Repeat([]byte{b}, nonceSize))
}

func mustRing(t testing.TB, keys ...Key) *Ring {
	t.Helper()
	r, err := NewRing(keys...)
	if err != nil {
		t.Fatalf("NewRing: %v", err)
	}
	return r
}

func mustSeal(t testing.TB, r *Ring, plaintext, ad []byte) []byte {
	t.Helper()
	sealed, err := r.Seal(fixedNonce(0x5a), plaintext, ad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return sealed
}

// userAD returns additional data as the library builds it: a purpose and a
// user id.
func userAD(user string) []byte {
	return []byte("totp-secret\x00" + user)
}

func TestSealOpenRoundTrip(t *testing.T) {
	r := mustRing(t, testKey("k1", 1))
	tests := []struct {
		name      string
		plaintext []byte
		ad        []byte
	}{
		{"empty plaintext", []byte{}, userAD("alice")},
		{"nil ad", []byte("JBSWY3DPEHPK3PXP"), nil},
		{"base32 secret", []byte("JBSWY3DPEHPK3PXP"), userAD("alice")},
		{"binary", []byte{0, 1, 2, 0xff, 0xfe}, userAD("bob")},
		{"large", bytes.Repeat([]byte("x"), 4096), userAD("carol")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := r.Seal(fixedNonce(0x11), tt.plaintext, tt.ad)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if got, want := len(sealed), 2+len("k1")+nonceSize+len(tt.plaintext)+tagSize; got != want {
				t.Errorf("len(sealed) = %d, want %d", got, want)
			}
			got, err := r.Open(sealed, tt.ad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Errorf("Open = %q, want %q", got, tt.plaintext)
			}
		})
	}
}

func TestSealHeaderLayout(t *testing.T) {
	r := mustRing(t, testKey("key-2024.a_1", 1))
	sealed := mustSeal(t, r, []byte("secret"), nil)

	if got, want := sealed[0], byte(1); got != want {
		t.Errorf("version byte = %d, want %d", got, want)
	}
	if got, want := int(sealed[1]), len("key-2024.a_1"); got != want {
		t.Errorf("id length byte = %d, want %d", got, want)
	}
	headerSize := 2 + len("key-2024.a_1")
	if got, want := string(sealed[2:headerSize]), "key-2024.a_1"; got != want {
		t.Errorf("id = %q, want %q", got, want)
	}
	wantNonce := bytes.Repeat([]byte{0x5a}, nonceSize)
	if got := sealed[headerSize : headerSize+nonceSize]; !bytes.Equal(got, wantNonce) {
		t.Errorf("nonce = %x, want %x (the bytes read from rand)", got, wantNonce)
	}
}

// TestSealMatchesDocumentedFormat builds a sealed value by hand from the
// format in doc.go and checks that Seal produces the same bytes and that
// Open accepts them.
func TestSealMatchesDocumentedFormat(t *testing.T) {
	key := testKey("k1", 3)
	r := mustRing(t, key)
	plaintext := []byte("JBSWY3DPEHPK3PXP")
	ad := userAD("alice")
	nonce := bytes.Repeat([]byte{0x5a}, nonceSize)

	aead, err := chacha20poly1305.NewX(key.Secret)
	if err != nil {
		t.Fatalf("NewX: %v", err)
	}
	header := []byte{1, 2, 'k', '1'}
	aeadAD := append(append([]byte{}, header...), ad...)
	want := append(append(append([]byte{}, header...), nonce...), aead.Seal(nil, nonce, plaintext, aeadAD)...)

	got := mustSeal(t, r, plaintext, ad)
	if !bytes.Equal(got, want) {
		t.Errorf("Seal = %x, want %x", got, want)
	}

	opened, err := r.Open(want, ad)
	if err != nil {
		t.Fatalf("Open(hand-built value): %v", err)
	}
	if !bytes.Equal(opened, plaintext) {
		t.Errorf("Open(hand-built value) = %q, want %q", opened, plaintext)
	}
}

// TestSealGolden pins the output for fixed inputs, so that a change to the
// format or to the additional data construction, which would make stored
// secrets unreadable, fails here.
func TestSealGolden(t *testing.T) {
	r := mustRing(t, Key{ID: "k1", Secret: bytes.Repeat([]byte{0x01}, keySize)})
	got := mustSeal(t, r, []byte("JBSWY3DPEHPK3PXP"), userAD("alice"))
	const want = "01026b31" +
		"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a" +
		"be91a6f0057c750cd60f9a3cbee2575f18e3e83512317d60eaba6c9d95ef7031"
	if got := hex.EncodeToString(got); got != want {
		t.Errorf("Seal = %s, want %s", got, want)
	}
}

func TestOpenWrongAD(t *testing.T) {
	r := mustRing(t, testKey("k1", 1))
	sealed := mustSeal(t, r, []byte("JBSWY3DPEHPK3PXP"), userAD("alice"))
	tests := []struct {
		name string
		ad   []byte
	}{
		{"other user", userAD("bob")},
		{"other purpose", []byte("recovery-code\x00alice")},
		{"nil", nil},
		{"extra byte", append(userAD("alice"), 0)},
		{"prefix only", userAD("alic")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Open(sealed, tt.ad)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Open error = %v, want ErrInvalid", err)
			}
			if got != nil {
				t.Errorf("Open plaintext = %q, want nil", got)
			}
		})
	}
}

func TestOpenBitFlips(t *testing.T) {
	r := mustRing(t, testKey("k1", 1), testKey("k0", 2), testKey("j1", 3))
	ad := userAD("alice")
	sealed := mustSeal(t, r, []byte("JBSWY3DPEHPK3PXP"), ad)
	idEnd := 2 + len("k1")

	for i := range sealed {
		for bit := 0; bit < 8; bit++ {
			tampered := bytes.Clone(sealed)
			tampered[i] ^= 1 << bit
			got, err := r.Open(tampered, ad)
			if got != nil {
				t.Errorf("byte %d bit %d: Open plaintext = %q, want nil", i, bit, got)
			}
			// A flip in the id length or the id may name another key
			// of the ring or an unknown one. Every other flip must
			// fail as invalid.
			inID := i == 1 || (i >= 2 && i < idEnd)
			switch {
			case err == nil:
				t.Errorf("byte %d bit %d: Open succeeded, want error", i, bit)
			case inID && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnknownKey):
				t.Errorf("byte %d bit %d: Open error = %v, want ErrInvalid or ErrUnknownKey", i, bit, err)
			case !inID && !errors.Is(err, ErrInvalid):
				t.Errorf("byte %d bit %d: Open error = %v, want ErrInvalid", i, bit, err)
			}
		}
	}
}

func TestOpenTruncated(t *testing.T) {
	r := mustRing(t, testKey("k1", 1))
	ad := userAD("alice")
	sealed := mustSeal(t, r, []byte("JBSWY3DPEHPK3PXP"), ad)

	for n := 0; n < len(sealed); n++ {
		got, err := r.Open(sealed[:n], ad)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Open(sealed[:%d]) error = %v, want ErrInvalid", n, err)
		}
		if got != nil {
			t.Errorf("Open(sealed[:%d]) plaintext = %q, want nil", n, got)
		}
	}
}

func TestOpenExtended(t *testing.T) {
	r := mustRing(t, testKey("k1", 1))
	ad := userAD("alice")
	sealed := mustSeal(t, r, []byte("JBSWY3DPEHPK3PXP"), ad)

	got, err := r.Open(append(bytes.Clone(sealed), 0), ad)
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("Open error = %v, want ErrInvalid", err)
	}
	if got != nil {
		t.Errorf("Open plaintext = %q, want nil", got)
	}
}

func TestOpenUnknownKey(t *testing.T) {
	sealed := mustSeal(t, mustRing(t, testKey("old-key", 1)), []byte("secret"), nil)
	r := mustRing(t, testKey("k2", 2), testKey("k1", 3))

	got, err := r.Open(sealed, nil)
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Open error = %v, want ErrUnknownKey", err)
	}
	if errors.Is(err, ErrInvalid) {
		t.Errorf("Open error = %v, want it not to match ErrInvalid", err)
	}
	if !strings.Contains(err.Error(), `"old-key"`) {
		t.Errorf("Open error = %q, want it to name the id %q", err, "old-key")
	}
	if got != nil {
		t.Errorf("Open plaintext = %q, want nil", got)
	}
}

func TestOpenWrongKeySameID(t *testing.T) {
	sealed := mustSeal(t, mustRing(t, testKey("k1", 1)), []byte("secret"), nil)
	r := mustRing(t, testKey("k1", 2))

	got, err := r.Open(sealed, nil)
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("Open error = %v, want ErrInvalid", err)
	}
	if got != nil {
		t.Errorf("Open plaintext = %q, want nil", got)
	}
}

// TestOpenHeaderChanged checks that the key id is authenticated: a value
// whose id is rewritten does not open, even though the key of the new id has
// the same secret.
func TestOpenHeaderChanged(t *testing.T) {
	secret := testSecret(1)
	r := mustRing(t, Key{ID: "k1", Secret: secret}, Key{ID: "k2", Secret: secret})
	ad := userAD("alice")
	sealed := mustSeal(t, r, []byte("secret"), ad)

	renamed := bytes.Clone(sealed)
	renamed[3] = '2'
	got, err := r.Open(renamed, ad)
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("Open with id rewritten to k2: error = %v, want ErrInvalid", err)
	}
	if got != nil {
		t.Errorf("Open with id rewritten to k2: plaintext = %q, want nil", got)
	}
}

func TestOpenMalformedHeader(t *testing.T) {
	r := mustRing(t, testKey("k1", 1))
	body := make([]byte, nonceSize+tagSize)
	tests := []struct {
		name   string
		sealed []byte
	}{
		{"nil", nil},
		{"version only", []byte{1}},
		{"version 0", append([]byte{0, 2, 'k', '1'}, body...)},
		{"version 2", append([]byte{2, 2, 'k', '1'}, body...)},
		{"empty id", append([]byte{1, 0}, body...)},
		{"id too long", append(append([]byte{1, 33}, strings.Repeat("a", 33)...), body...)},
		{"id with space", append([]byte{1, 2, 'k', ' '}, body...)},
		{"id with slash", append([]byte{1, 2, 'k', '/'}, body...)},
		{"id not ASCII", append([]byte{1, 2, 0xc3, 0xa9}, body...)},
		{"id length past end", []byte{1, 200, 'k', '1'}},
		{"no tag", append([]byte{1, 2, 'k', '1'}, make([]byte, nonceSize)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Open(tt.sealed, nil)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Open error = %v, want ErrInvalid", err)
			}
			if got != nil {
				t.Errorf("Open plaintext = %q, want nil", got)
			}
			id, err := KeyID(tt.sealed)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("KeyID error = %v, want ErrInvalid", err)
			}
			if id != "" {
				t.Errorf("KeyID = %q, want empty", id)
			}
		})
	}
}

func TestRingRotation(t *testing.T) {
	k1, k2 := testKey("k1", 1), testKey("k2", 2)
	ad := userAD("alice")
	plaintext := []byte("JBSWY3DPEHPK3PXP")
	old := mustSeal(t, mustRing(t, k1), plaintext, ad)

	r := mustRing(t, k2, k1)
	if got, want := r.PrimaryID(), "k2"; got != want {
		t.Errorf("PrimaryID = %q, want %q", got, want)
	}
	if !r.NeedsRotation(old) {
		t.Errorf("NeedsRotation(sealed with k1) = false, want true")
	}
	got, err := r.Open(old, ad)
	if err != nil {
		t.Fatalf("Open(sealed with k1): %v", err)
	}
	if !bytes.Equal(got, plaintext) {
		t.Errorf("Open(sealed with k1) = %q, want %q", got, plaintext)
	}

	resealed := mustSeal(t, r, got, ad)
	id, err := KeyID(resealed)
	if err != nil {
		t.Fatalf("KeyID(resealed): %v", err)
	}
	if id != "k2" {
		t.Errorf("KeyID(resealed) = %q, want %q", id, "k2")
	}
	if r.NeedsRotation(resealed) {
		t.Errorf("NeedsRotation(resealed) = true, want false")
	}
	if _, err := mustRing(t, k2).Open(resealed, ad); err != nil {
		t.Errorf("Open(resealed) with k2 only: %v", err)
	}
}

func TestKeyID(t *testing.T) {
	r := mustRing(t, testKey("k.1_A-z", 1))
	id, err := KeyID(mustSeal(t, r, []byte("secret"), nil))
	if err != nil {
		t.Fatalf("KeyID: %v", err)
	}
	if id != "k.1_A-z" {
		t.Errorf("KeyID = %q, want %q", id, "k.1_A-z")
	}
}

func TestNeedsRotation(t *testing.T) {
	k1, k2 := testKey("k1", 1), testKey("k2", 2)
	r := mustRing(t, k2, k1)
	tests := []struct {
		name   string
		sealed []byte
		want   bool
	}{
		{"primary key", mustSeal(t, mustRing(t, k2), []byte("s"), nil), false},
		{"older key", mustSeal(t, mustRing(t, k1), []byte("s"), nil), true},
		{"unknown key", mustSeal(t, mustRing(t, testKey("k0", 0)), []byte("s"), nil), true},
		{"malformed", []byte{1, 2, 'k', '2'}, true},
		{"nil", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.NeedsRotation(tt.sealed); got != tt.want {
				t.Errorf("NeedsRotation = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNewRingErrors(t *testing.T) {
	tests := []struct {
		name    string
		keys    []Key
		wantMsg string
	}{
		{"no keys", nil, "no encryption keys"},
		{"short secret", []Key{{ID: "k1", Secret: make([]byte, 16)}}, `"k1" is 16 bytes long, want 32 bytes`},
		{"long secret", []Key{{ID: "k1", Secret: make([]byte, 33)}}, `"k1" is 33 bytes long, want 32 bytes`},
		{"nil secret", []Key{{ID: "k1"}}, `"k1" is 0 bytes long, want 32 bytes`},
		{"empty id", []Key{testKey("", 1)}, `invalid encryption key id ""`},
		{"id too long", []Key{testKey(strings.Repeat("a", 33), 1)}, `invalid encryption key id "aaaa`},
		{"id with space", []Key{testKey("k 1", 1)}, `invalid encryption key id "k 1"`},
		{"id with colon", []Key{testKey("k:1", 1)}, `invalid encryption key id "k:1"`},
		{"id not ASCII", []Key{testKey("clé", 1)}, `invalid encryption key id "clé"`},
		{"second key invalid", []Key{testKey("k1", 1), {ID: "k2", Secret: []byte("x")}}, `"k2" is 1 bytes long`},
		{"duplicate id", []Key{testKey("k1", 1), testKey("k2", 2), testKey("k1", 3)}, `duplicate encryption key id "k1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRing(tt.keys...)
			if err == nil {
				t.Fatalf("NewRing = %v, want error", r)
			}
			if r != nil {
				t.Errorf("NewRing ring = %v, want nil", r)
			}
			if !strings.HasPrefix(err.Error(), "twofactor: ") {
				t.Errorf("NewRing error = %q, want prefix %q", err, "twofactor: ")
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("NewRing error = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestNewRingIDLimits(t *testing.T) {
	tests := []string{"a", "Z", "0", ".", "_", "-", strings.Repeat("x", 32), "v2.key_A-9"}
	for _, id := range tests {
		if _, err := NewRing(testKey(id, 1)); err != nil {
			t.Errorf("NewRing(id %q): %v", id, err)
		}
	}
}

func TestNewRingKeyLengthErrorHidesKey(t *testing.T) {
	secrets := [][]byte{
		[]byte("0123456789abcdef"),                  // 16 bytes
		[]byte("0123456789abcdefghijklmnopqrstuvw"), // 33 bytes
		[]byte("ThisIsAKeyOf31BytesForTheTest!!"),   // 31 bytes
	}
	for _, secret := range secrets {
		_, err := NewRing(Key{ID: "k1", Secret: secret})
		if err == nil {
			t.Fatalf("NewRing(%d-byte secret) succeeded, want error", len(secret))
		}
		for _, form := range secretForms(secret) {
			if strings.Contains(err.Error(), form) {
				t.Errorf("NewRing(%d-byte secret) error %q contains the secret as %q", len(secret), err, form)
			}
		}
	}
}

func TestNewRingCopiesSecret(t *testing.T) {
	key := testKey("k1", 1)
	r := mustRing(t, key)
	sealed := mustSeal(t, r, []byte("secret"), nil)

	for i := range key.Secret {
		key.Secret[i] = 0
	}
	if _, err := r.Open(sealed, nil); err != nil {
		t.Errorf("Open after overwriting Key.Secret: %v", err)
	}
	resealed := mustSeal(t, r, []byte("secret"), nil)
	if !bytes.Equal(resealed, sealed) {
		t.Errorf("Seal after overwriting Key.Secret = %x, want %x", resealed, sealed)
	}
}

// eofAfter returns n bytes of 0x42 and then io.EOF.
type eofAfter struct{ n int }

func (r *eofAfter) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.n)
	for i := range n {
		p[i] = 0x42
	}
	r.n -= n
	return n, nil
}

func TestSealRandom(t *testing.T) {
	readErr := errors.New("entropy source failed")
	tests := []struct {
		name    string
		rand    io.Reader
		wantErr error // nil if Seal must succeed
	}{
		{"empty", bytes.NewReader(nil), io.EOF},
		{"limit reader 10 bytes", io.LimitReader(fixedNonce(1), 10), io.ErrUnexpectedEOF},
		{"23 bytes then EOF", &eofAfter{n: nonceSize - 1}, io.ErrUnexpectedEOF},
		{"1 byte then EOF", &eofAfter{n: 1}, io.ErrUnexpectedEOF},
		{"read error", iotest.ErrReader(readErr), readErr},
		{"one byte per read", iotest.OneByteReader(fixedNonce(1)), nil},
		{"half per read", iotest.HalfReader(fixedNonce(1)), nil},
		{"exact nonce then EOF", &eofAfter{n: nonceSize}, nil},
	}
	r := mustRing(t, testKey("k1", 1))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := r.Seal(tt.rand, []byte("secret"), nil)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Seal: %v", err)
				}
				if _, err := r.Open(sealed, nil); err != nil {
					t.Errorf("Open: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Seal error = %v, want %v", err, tt.wantErr)
			}
			if sealed != nil {
				t.Errorf("Seal = %x, want nil", sealed)
			}
		})
	}
}

func TestSealNilRandUsesCryptoRand(t *testing.T) {
	r := mustRing(t, testKey("k1", 1))
	a, err := r.Seal(nil, []byte("secret"), nil)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	b, err := r.Seal(nil, []byte("secret"), nil)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if bytes.Equal(a, b) {
		t.Errorf("two Seal calls with nil rand returned the same value %x, want different nonces", a)
	}
	if _, err := r.Open(a, nil); err != nil {
		t.Errorf("Open: %v", err)
	}
}

func TestRingConcurrentUse(t *testing.T) {
	r := mustRing(t, testKey("k2", 2), testKey("k1", 1))
	old := mustSeal(t, mustRing(t, testKey("k1", 1)), []byte("old"), nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ad := []byte{byte(i)}
			sealed, err := r.Seal(fixedNonce(byte(i)), []byte("secret"), ad)
			if err == nil {
				_, err = r.Open(sealed, ad)
			}
			if err == nil {
				_, err = r.Open(old, nil)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Seal or Open: %v", err)
		}
	}
}

func TestAppendOpen(t *testing.T) {
	r := mustRing(t, testKey("k1", 1))
	ad := userAD("alice")
	plaintext := []byte("JBSWY3DPEHPK3PXP")
	sealed := mustSeal(t, r, plaintext, ad)

	dst := make([]byte, 3, 64)
	copy(dst, "pre")
	got, err := r.AppendOpen(dst, sealed, ad)
	if err != nil {
		t.Fatalf("AppendOpen: %v", err)
	}
	if want := "pre" + string(plaintext); string(got) != want {
		t.Errorf("AppendOpen = %q, want %q", got, want)
	}
	if &got[0] != &dst[0] {
		t.Errorf("AppendOpen allocated although dst had room")
	}

	got, err = r.AppendOpen(dst[:0], sealed, userAD("bob"))
	if !errors.Is(err, ErrInvalid) || got != nil {
		t.Errorf("AppendOpen(other ad) = %q, %v; want nil, ErrInvalid", got, err)
	}
}

func TestAppendOpenAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	r := mustRing(t, testKey("k1", 1))
	ad := userAD("alice")
	sealed := mustSeal(t, r, []byte("JBSWY3DPEHPK3PXP"), ad)
	var buf [64]byte
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := r.AppendOpen(buf[:0], sealed, ad); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("AppendOpen allocs = %v, want 0", allocs)
	}
}
