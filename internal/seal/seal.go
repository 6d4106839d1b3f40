package seal

import (
	"crypto/cipher"
	cryptorand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"
)

const (
	// version is the format version written as the first byte of a sealed
	// value.
	version = 1

	keySize   = chacha20poly1305.KeySize
	nonceSize = chacha20poly1305.NonceSizeX
	tagSize   = chacha20poly1305.Overhead

	// minHeaderSize is the header size without the key id: the version
	// byte and the id length byte.
	minHeaderSize = 2
)

var (
	// ErrUnknownKey is returned, wrapped with the key id, when a sealed
	// value names a key id that is not in the ring.
	ErrUnknownKey = errors.New("twofactor: unknown encryption key id")

	// ErrInvalid is returned, wrapped with the reason, when a sealed value
	// is malformed, truncated or tampered with, or when it was sealed with
	// other additional data or with another key of the same id.
	ErrInvalid = errors.New("twofactor: secret ciphertext is invalid")
)

// Ring is a set of encryption keys. It seals with its primary (first) key and
// opens with any key whose id matches the sealed value. A Ring is immutable
// and safe for concurrent use. Its fmt and log/slog representations show the
// primary id and the number of keys only.
type Ring struct {
	primaryID string
	ids       []string // in the order given to NewRing
	aeads     map[string]cipher.AEAD
}

// NewRing returns a ring whose primary key is the first of keys. It rejects
// an empty list, a key whose secret is not 32 bytes, and an invalid or
// duplicate id. The ring keeps its own copy of each secret, so the caller may
// overwrite the Key values afterwards.
func NewRing(keys ...Key) (*Ring, error) {
	if len(keys) == 0 {
		return nil, errors.New("twofactor: no encryption keys: a key ring needs at least one key")
	}
	r := &Ring{
		primaryID: keys[0].ID,
		ids:       make([]string, 0, len(keys)),
		aeads:     make(map[string]cipher.AEAD, len(keys)),
	}
	for _, k := range keys {
		aead, err := newAEAD(k)
		if err != nil {
			return nil, err
		}
		if _, dup := r.aeads[k.ID]; dup {
			return nil, fmt.Errorf("twofactor: duplicate encryption key id %q", k.ID)
		}
		r.ids = append(r.ids, k.ID)
		r.aeads[k.ID] = aead
	}
	return r, nil
}

// newAEAD checks k and returns its cipher. chacha20poly1305.NewX copies the
// secret into the cipher state.
func newAEAD(k Key) (cipher.AEAD, error) {
	if !validID(k.ID) {
		return nil, fmt.Errorf("twofactor: invalid encryption key id %q: use 1 to %d characters from A-Z, a-z, 0-9, '.', '_' and '-'", k.ID, maxIDLen)
	}
	if len(k.Secret) != keySize {
		// The message gives the length only, never the key bytes.
		return nil, fmt.Errorf("twofactor: encryption key %q is %d bytes long, want %d bytes", k.ID, len(k.Secret), keySize)
	}
	aead, err := chacha20poly1305.NewX(k.Secret)
	if err != nil {
		// With the length checked above, NewX fails only in FIPS
		// 140-only mode (GODEBUG=fips140=only), which does not allow
		// ChaCha20-Poly1305. Its error texts in x/crypto v0.59.0 name
		// no key bytes.
		return nil, fmt.Errorf("twofactor: encryption key %q: %w", k.ID, err)
	}
	return aead, nil
}

// PrimaryID returns the id of the key that Seal uses.
func (r *Ring) PrimaryID() string {
	return r.primaryID
}

// Seal encrypts plaintext with the primary key and returns the sealed value
// in the format described in the package documentation. The ciphertext is
// bound to the additional data ad, which Open must be given unchanged.
//
// Seal reads the 24-byte nonce from rand, or from crypto/rand if rand is nil.
// A read error or a short read from rand is returned as an error, so Seal
// never uses a zero or partial nonce.
func (r *Ring) Seal(rand io.Reader, plaintext, ad []byte) ([]byte, error) {
	if rand == nil {
		rand = cryptorand.Reader
	}
	headerSize := minHeaderSize + len(r.primaryID)
	sealed := make([]byte, 0, headerSize+nonceSize+len(plaintext)+tagSize)
	sealed = appendHeader(sealed, r.primaryID)
	sealed = sealed[:headerSize+nonceSize]
	nonce := sealed[headerSize:]
	if _, err := io.ReadFull(rand, nonce); err != nil {
		return nil, fmt.Errorf("twofactor: reading the encryption nonce from the random source: %w", err)
	}
	aead := r.aeads[r.primaryID]
	// The ciphertext is appended after the nonce. The nonce lies within
	// len(sealed), so it does not overlap the space Seal writes to.
	fullAD := appendAdditionalData(make([]byte, 0, headerSize+len(ad)), sealed[:headerSize], ad)
	return aead.Seal(sealed, nonce, plaintext, fullAD), nil
}

// Open decrypts a value made by Seal with a key of the ring and the same
// additional data ad. It returns an error wrapping ErrUnknownKey if the key id
// in the header is not in the ring, and an error wrapping ErrInvalid for any
// other failure. On error the returned plaintext is always nil.
func (r *Ring) Open(sealed, ad []byte) ([]byte, error) {
	return r.AppendOpen(nil, sealed, ad)
}

// AppendOpen decrypts like [Ring.Open] and appends the plaintext to dst.
// When dst has room for the plaintext, AppendOpen does not allocate once
// its buffer pool is warm, and ad does not escape to the heap. On error it
// returns nil, and the spare capacity of dst may have been overwritten.
func (r *Ring) AppendOpen(dst, sealed, ad []byte) ([]byte, error) {
	id, headerSize, err := parseHeaderBytes(sealed)
	if err != nil {
		return nil, err
	}
	// The conversion in the index expression does not allocate.
	aead, ok := r.aeads[string(id)]
	if !ok {
		return nil, fmt.Errorf("%w %q (the ring has %s)", ErrUnknownKey, id, quoteAll(r.ids))
	}
	nonce := sealed[headerSize : headerSize+nonceSize]
	ciphertext := sealed[headerSize+nonceSize:]
	scratch := adPool.Get().(*[]byte)
	fullAD := appendAdditionalData((*scratch)[:0], sealed[:headerSize], ad)
	plaintext, err := aead.Open(dst, nonce, ciphertext, fullAD)
	if cap(fullAD) <= maxPooledAD {
		*scratch = fullAD[:0]
		adPool.Put(scratch)
	}
	if err != nil {
		// Tampering, other additional data and another key with the
		// same id are indistinguishable here.
		return nil, fmt.Errorf("%w: authentication failed (tampered ciphertext, wrong additional data or wrong key for id %q)", ErrInvalid, id)
	}
	return plaintext, nil
}

// adPool holds buffers for the additional data that Open passes to the
// AEAD. The AEAD is an interface, so a buffer passed to it escapes to the
// heap, and pooling it keeps Open free of allocations. Additional data is
// not secret.
var adPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 512)
	return &b
}}

// maxPooledAD is the largest buffer that Open puts back into adPool, so
// that one call with long additional data does not pin its buffer.
const maxPooledAD = 4096

// KeyID returns the key id in the header of sealed without decrypting it.
// It returns an error wrapping ErrInvalid if the header is malformed or
// sealed is too short to hold a nonce and a tag. A nil error does not mean
// that sealed is authentic: only Open checks that.
func KeyID(sealed []byte) (string, error) {
	id, _, err := parseHeader(sealed)
	return id, err
}

// NeedsRotation reports whether sealed was made with a key other than the
// primary one, so that the caller should open it and seal it again. It also
// reports true when the header of sealed is malformed, so that the caller's
// Open returns the error instead of the value being skipped silently.
func (r *Ring) NeedsRotation(sealed []byte) bool {
	id, err := KeyID(sealed)
	return err != nil || id != r.primaryID
}

// String returns a summary such as seal.Ring{primary: "k2", keys: 2}. It never
// includes key bytes.
func (r *Ring) String() string {
	if r == nil {
		return "seal.Ring(nil)"
	}
	return fmt.Sprintf("seal.Ring{primary: %q, keys: %d}", r.primaryID, len(r.ids))
}

// GoString returns the same text as [Ring.String].
func (r *Ring) GoString() string {
	return r.String()
}

// Format implements [fmt.Formatter] so that every verb formats the summary of
// [Ring.String].
func (r *Ring) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, r.String())
}

// LogValue implements [slog.LogValuer]. It logs the primary id and the number
// of keys.
func (r *Ring) LogValue() slog.Value {
	if r == nil {
		return slog.StringValue(r.String())
	}
	return slog.GroupValue(
		slog.String("primary", r.primaryID),
		slog.Int("keys", len(r.ids)),
	)
}

// appendHeader appends the version byte, the id length byte and the id.
func appendHeader(dst []byte, id string) []byte {
	dst = append(dst, version, byte(len(id)))
	return append(dst, id...)
}

// parseHeader returns the key id in the header of sealed and the header size.
// It checks that sealed is long enough for the header, a nonce and a tag.
func parseHeader(sealed []byte) (id string, headerSize int, err error) {
	idBytes, headerSize, err := parseHeaderBytes(sealed)
	if err != nil {
		return "", 0, err
	}
	return string(idBytes), headerSize, nil
}

// parseHeaderBytes is parseHeader with the id as a subslice of sealed, so
// that it does not allocate.
func parseHeaderBytes(sealed []byte) (id []byte, headerSize int, err error) {
	if len(sealed) < minHeaderSize {
		return nil, 0, fmt.Errorf("%w: %d bytes is shorter than the %d-byte header", ErrInvalid, len(sealed), minHeaderSize)
	}
	if sealed[0] != version {
		return nil, 0, fmt.Errorf("%w: unsupported format version %d, want %d", ErrInvalid, sealed[0], version)
	}
	headerSize = minHeaderSize + int(sealed[1])
	if len(sealed) < headerSize+nonceSize+tagSize {
		return nil, 0, fmt.Errorf("%w: %d bytes is too short for a %d-byte header, nonce and tag", ErrInvalid, len(sealed), headerSize)
	}
	id = sealed[minHeaderSize:headerSize]
	if !validID(id) {
		return nil, 0, fmt.Errorf("%w: invalid key id in header (%d bytes)", ErrInvalid, len(id))
	}
	return id, headerSize, nil
}

// appendAdditionalData appends the AEAD additional data to dst: the header
// followed by the caller's additional data.
func appendAdditionalData(dst, header, ad []byte) []byte {
	dst = append(dst, header...)
	return append(dst, ad...)
}

func quoteAll(ids []string) string {
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = fmt.Sprintf("%q", id)
	}
	return strings.Join(quoted, ", ")
}
