package seal

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// maxIDLen is the maximum length of a key id in bytes. It fits the one-byte
// length field of the header.
const maxIDLen = 32

// Key is one encryption key with an id. The id is stored in clear with each
// ciphertext so that keys can be rotated.
//
// Secret must be exactly 32 bytes. ID must be 1 to 32 characters from A-Z,
// a-z, 0-9, '.', '_' and '-'. The fmt, log/slog and encoding/json
// representations of a Key show only its id.
type Key struct {
	ID     string
	Secret []byte
}

// String returns the key with its secret left out, such as seal.Key{ID: "k1"}.
func (k Key) String() string {
	return fmt.Sprintf("seal.Key{ID: %q}", k.ID)
}

// GoString returns the same text as [Key.String], so %#v does not print the
// secret either.
func (k Key) GoString() string {
	return k.String()
}

// Format implements [fmt.Formatter] so that every verb, %d and %x included,
// formats the redacted [Key.String] text instead of the secret bytes.
func (k Key) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, k.String())
}

// LogValue implements [slog.LogValuer]. It logs the id only.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", k.ID))
}

// MarshalJSON encodes the key as {"id": ID} without the secret. This keeps
// the secret out of JSON logs even when a Key is nested in a logged value,
// where [Key.LogValue] does not apply.
func (k Key) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID string `json:"id"`
	}{k.ID})
}

// formatRedacted writes text with the verb and flags of f, so that a
// redacting [fmt.Formatter] still honors %q, widths and the like.
func formatRedacted(f fmt.State, verb rune, text string) {
	if verb == 'v' && f.Flag('#') {
		// %#v of a string would quote it, but the text already is the
		// Go-syntax representation.
		io.WriteString(f, text)
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), text)
}

// validID reports whether id is 1 to maxIDLen characters from A-Z, a-z, 0-9,
// '.', '_' and '-'.
func validID[T string | []byte](id T) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !idByte(id[i]) {
			return false
		}
	}
	return true
}

func idByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c == '.' || c == '_' || c == '-'
}
