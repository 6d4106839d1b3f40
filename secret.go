package twofactor

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/twofactor-go/twofactor/internal/seal"
)

// ErrDecrypt is returned when a stored secret cannot be decrypted: its key
// id is not among [Config.Keys], or the ciphertext was changed, copied from
// another user or encrypted under another key. The code is then not
// verified.
var ErrDecrypt = errors.New("twofactor: stored secret cannot be decrypted")

// EncryptionKey is a 32-byte key for XChaCha20-Poly1305 with the id that is
// stored beside each ciphertext it makes. Its String and LogValue methods
// print the id only.
type EncryptionKey struct {
	ID     string
	Secret []byte
}

// String returns the key id without the key.
func (k EncryptionKey) String() string {
	return fmt.Sprintf("twofactor.EncryptionKey{ID: %q}", k.ID)
}

// GoString returns the key id without the key.
func (k EncryptionKey) GoString() string { return k.String() }

// LogValue returns the key id without the key.
func (k EncryptionKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", k.ID))
}

// Format writes the key id without the key, whatever the verb, so that
// neither %x nor %v of a Config shows a key.
func (k EncryptionKey) Format(f fmt.State, verb rune) {
	io.WriteString(f, k.String())
}

// MarshalJSON returns the key id without the key, for loggers that encode
// nested values as JSON.
func (k EncryptionKey) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID string `json:"id"`
	}{k.ID})
}

// plainPrefix marks a secret stored without encryption in development
// mode. Sealed values start with a nonzero version byte.
const plainPrefix = 0

// secretBox seals and opens TOTP secrets, binding each to its user.
type secretBox struct {
	ring *seal.Ring // nil in development mode
	rand io.Reader
}

func newSecretBox(keys []EncryptionKey, unencrypted bool, rand io.Reader) (secretBox, []byte, error) {
	box := secretBox{rand: rand}
	switch {
	case unencrypted && len(keys) > 0:
		return box, nil, errors.New("twofactor: Config.Unencrypted is set together with Config.Keys; remove one")
	case unencrypted:
		// The backup code key lives only as long as the process.
		key := make([]byte, 32)
		if _, err := io.ReadFull(rand, key); err != nil {
			return box, nil, fmt.Errorf("twofactor: reading a random key failed: %w", err)
		}
		return box, key, nil
	case len(keys) == 0:
		return box, nil, errors.New("twofactor: Config.Keys is empty; give a 32-byte encryption key, or set Config.Unencrypted for development")
	}
	ring, err := seal.NewRing(toSealKeys(keys)...)
	if err != nil {
		return box, nil, err
	}
	box.ring = ring
	backupKey, err := hkdf.Key(sha256.New, keys[0].Secret, nil, "twofactor backup code hash", 32)
	if err != nil {
		return box, nil, err
	}
	return box, backupKey, nil
}

func toSealKeys(keys []EncryptionKey) []seal.Key {
	out := make([]seal.Key, len(keys))
	for i, k := range keys {
		out[i] = seal.Key{ID: k.ID, Secret: k.Secret}
	}
	return out
}

// adPrefix starts the additional data that binds a ciphertext to its user.
const adPrefix = "twofactor totp secret\x00"

// additionalData binds a ciphertext to the user it belongs to.
func additionalData(userID string) []byte {
	return appendAdditionalData(nil, userID)
}

func appendAdditionalData(dst []byte, userID string) []byte {
	dst = append(dst, adPrefix...)
	return append(dst, userID...)
}

func (b secretBox) seal(userID string, secret []byte) ([]byte, error) {
	if b.ring == nil {
		return append([]byte{plainPrefix}, secret...), nil
	}
	return b.ring.Seal(b.rand, secret, additionalData(userID))
}

func (b secretBox) open(userID string, sealed []byte) ([]byte, error) {
	return b.openTo(nil, userID, sealed)
}

// openTo decrypts sealed and appends the secret to dst. A secret stored
// unencrypted in development mode is returned as a subslice of sealed
// instead, and dst is left alone.
func (b secretBox) openTo(dst []byte, userID string, sealed []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, fmt.Errorf("%w: empty value", ErrDecrypt)
	}
	if sealed[0] == plainPrefix {
		if b.ring != nil {
			return nil, fmt.Errorf("%w: the secret is stored unencrypted; run Manager.RotateKeys to encrypt it", ErrDecrypt)
		}
		return sealed[1:], nil
	}
	if b.ring == nil {
		return nil, fmt.Errorf("%w: the secret is encrypted but Config.Unencrypted is set; configure Config.Keys", ErrDecrypt)
	}
	// AppendOpen copies the additional data, so it stays on the stack for
	// user IDs of up to maxIDLength bytes.
	var adBuf [len(adPrefix) + maxIDLength]byte
	secret, err := b.ring.AppendOpen(dst, sealed, appendAdditionalData(adBuf[:0], userID))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	return secret, nil
}

// secretBufferSize is the room for a decrypted secret in a pooled buffer.
// Secrets that StartSetup creates are secretSize bytes long. A longer one
// is decrypted into a slice of its own.
const secretBufferSize = 64

// secretBuffers holds buffers for withOpen, so that opening a secret on
// every submission does not allocate. A buffer goes back zeroed.
var secretBuffers = sync.Pool{New: func() any { return new([secretBufferSize]byte) }}

// withOpen opens sealed, calls f with the secret and returns f's error. f
// must not keep the secret: withOpen zeroes the decrypted copy when f
// returns. In development mode the secret is part of sealed and is not
// zeroed.
func (b secretBox) withOpen(userID string, sealed []byte, f func(secret []byte) error) error {
	buf := secretBuffers.Get().(*[secretBufferSize]byte)
	defer secretBuffers.Put(buf)
	secret, err := b.openTo(buf[:0], userID, sealed)
	if err != nil {
		return err
	}
	if b.ring != nil {
		defer clear(secret)
	}
	return f(secret)
}

// openAny opens a sealed secret, or one stored unencrypted in development
// mode, for rotation to encrypted storage.
func (b secretBox) openAny(userID string, sealed []byte) ([]byte, error) {
	if len(sealed) > 0 && sealed[0] == plainPrefix {
		return sealed[1:], nil
	}
	return b.open(userID, sealed)
}

// needsRotation reports whether sealed should be sealed again under the
// primary key.
func (b secretBox) needsRotation(sealed []byte) bool {
	if b.ring == nil {
		return false
	}
	return len(sealed) == 0 || sealed[0] == plainPrefix || b.ring.NeedsRotation(sealed)
}
