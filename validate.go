package twofactor

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxIDLength bounds user, actor and challenge IDs so that a store can
// index them.
const maxIDLength = 256

// validateUserID rejects IDs that a store could not index or that would be
// ambiguous in logs.
func validateUserID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("twofactor: user ID is empty")
	case len(id) > maxIDLength:
		return fmt.Errorf("twofactor: user ID is %d bytes long; use at most %d", len(id), maxIDLength)
	case !utf8.ValidString(id):
		return fmt.Errorf("twofactor: user ID %q is not valid UTF-8", id)
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return fmt.Errorf("twofactor: user ID %q contains a control character", id)
	}
	return nil
}

// validateLabel checks an issuer or account name for the key URI, where
// ':' separates the two.
func validateLabel(field, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("twofactor: %s is empty", field)
	case !utf8.ValidString(s):
		return fmt.Errorf("twofactor: %s %q is not valid UTF-8", field, s)
	case strings.ContainsRune(s, ':'):
		return fmt.Errorf("twofactor: %s %q contains ':', which separates issuer and account name in the key URI; remove it", field, s)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return fmt.Errorf("twofactor: %s %q contains a control character", field, s)
	}
	return nil
}
