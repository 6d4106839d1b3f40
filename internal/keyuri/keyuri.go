// Package keyuri builds the otpauth://totp/ key URI that authenticator apps
// read from a QR code to enroll a TOTP key.
//
// The URI has the form
//
//	otpauth://totp/<issuer>:<account name>?secret=<base32>&issuer=<issuer>
//
// followed by algorithm, digits and period when they differ from the
// defaults (SHA1, 6 digits, 30 seconds).
//
// The URI is built by hand because apps decode it in two different ways.
// Some apply form decoding (url.ParseQuery), where "+" is a space. Others
// apply strict RFC 3986 percent-decoding (url.PathUnescape), where "+" is
// a plus sign. Build percent-encodes every byte of the issuer and account
// name outside the RFC 3986 unreserved set (ALPHA, DIGIT, "-", ".", "_",
// "~"), in the label and in the issuer parameter, so both decodings return
// the original text.
//
// github.com/pquerna/otp v1.5.0 totp.Generate does not do this. It escapes
// query values with url.PathEscape and the label with url.URL.String, and
// both leave "&", "+", "=" and "@" raw. An issuer "Acme & Co" becomes
// "issuer=Acme%20&%20Co", which every decoder reads as the issuer "Acme "
// followed by a stray parameter, and an issuer "a+b" reads back as "a b"
// under form decoding, including through pquerna's own Key.Issuer.
// TestPquernaURIDiffers records both cases.
package keyuri

import (
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Defaults that authenticator apps assume when the URI omits the parameter.
// Build leaves these values out.
const (
	// DefaultAlgorithm is the HMAC hash when the algorithm is omitted.
	DefaultAlgorithm = "SHA1"

	// DefaultDigits is the code length when digits is omitted.
	DefaultDigits = 6

	// DefaultPeriod is the time step in seconds when period is omitted.
	DefaultPeriod = 30
)

// Digit counts that Build accepts. Six is the minimum HOTP code length, and
// the 31-bit truncated HMAC value has at most 10 decimal digits.
const (
	minDigits = 6
	maxDigits = 10
)

// Params is the content of a TOTP key URI.
type Params struct {
	// Issuer is the name of the service, shown by the app as the key's
	// title. It must be non-empty valid UTF-8 without ':' or control
	// characters.
	Issuer string

	// AccountName is the user's account at the issuer, such as an email
	// address. The same rules as for Issuer apply.
	AccountName string

	// Secret is the shared key encoded as RFC 4648 base32 in upper case
	// without padding.
	Secret string

	// Algorithm is the HMAC hash: "SHA1", "SHA256" or "SHA512". The empty
	// string selects DefaultAlgorithm.
	Algorithm string

	// Digits is the code length, from 6 to 10. Zero selects DefaultDigits.
	Digits int

	// Period is the time step in seconds. Zero selects DefaultPeriod.
	Period int
}

// Build returns the key URI for p:
//
//	otpauth://totp/<Issuer>:<AccountName>?secret=..&issuer=..[&algorithm=..][&digits=..][&period=..]
//
// Parameters appear in that order, and algorithm, digits and period appear
// only when they differ from the defaults. Build returns an error if a
// field is missing or invalid.
func Build(p Params) (string, error) {
	if err := p.validate(); err != nil {
		return "", err
	}

	var b strings.Builder
	b.WriteString("otpauth://totp/")
	writeEscaped(&b, p.Issuer)
	b.WriteByte(':')
	writeEscaped(&b, p.AccountName)

	b.WriteString("?secret=")
	b.WriteString(p.Secret)
	b.WriteString("&issuer=")
	writeEscaped(&b, p.Issuer)

	if p.Algorithm != "" && p.Algorithm != DefaultAlgorithm {
		b.WriteString("&algorithm=")
		b.WriteString(p.Algorithm)
	}
	if p.Digits != 0 && p.Digits != DefaultDigits {
		b.WriteString("&digits=")
		b.WriteString(strconv.Itoa(p.Digits))
	}
	if p.Period != 0 && p.Period != DefaultPeriod {
		b.WriteString("&period=")
		b.WriteString(strconv.Itoa(p.Period))
	}
	return b.String(), nil
}

func (p Params) validate() error {
	if err := checkName("issuer", "Issuer", p.Issuer); err != nil {
		return err
	}
	if err := checkName("account name", "AccountName", p.AccountName); err != nil {
		return err
	}
	if err := checkSecret(p.Secret); err != nil {
		return err
	}
	switch p.Algorithm {
	case "", "SHA1", "SHA256", "SHA512":
	default:
		return fmt.Errorf("twofactor: algorithm %q is not supported; use SHA1, SHA256 or SHA512", p.Algorithm)
	}
	if p.Digits != 0 && (p.Digits < minDigits || p.Digits > maxDigits) {
		return fmt.Errorf("twofactor: digits %d is out of range; use %d to %d", p.Digits, minDigits, maxDigits)
	}
	if p.Period < 0 {
		return fmt.Errorf("twofactor: period %d is negative; use a positive number of seconds", p.Period)
	}
	return nil
}

// checkName rejects a label part that apps could not show or split back
// out of the label. The ':' separates issuer from account name, and apps
// split at the first one, so neither part may contain it.
func checkName(name, field, value string) error {
	switch {
	case value == "":
		return fmt.Errorf("twofactor: %s is missing; set Params.%s", name, field)
	case !utf8.ValidString(value):
		return fmt.Errorf("twofactor: %s %q is not valid UTF-8", name, value)
	case strings.ContainsFunc(value, unicode.IsControl):
		return fmt.Errorf("twofactor: %s %q contains a control character; remove it", name, value)
	case strings.Contains(value, ":"):
		return fmt.Errorf("twofactor: %s %q contains ':'; remove it", name, value)
	}
	return nil
}

var base32NoPadding = base32.StdEncoding.WithPadding(base32.NoPadding)

// checkSecret accepts only canonical unpadded base32, so the secret in the
// URI decodes to the same bytes in every app. Its errors never include the
// secret.
func checkSecret(secret string) error {
	if secret == "" {
		return errors.New("twofactor: secret is missing; set Params.Secret")
	}
	for i := 0; i < len(secret); i++ {
		c := secret[i]
		if !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return errors.New("twofactor: secret is not base32; use only upper-case A-Z and 2-7 without '=' padding")
		}
	}

	// Go's decoder accepts lengths that no byte string encodes to (1, 3 or
	// 6 characters past a multiple of 8) and nonzero trailing bits, and
	// apps differ on both. Re-encoding catches them.
	key, err := base32NoPadding.DecodeString(secret)
	reencoded := base32NoPadding.EncodeToString(key)
	if err != nil || subtle.ConstantTimeCompare([]byte(reencoded), []byte(secret)) != 1 {
		return errors.New("twofactor: secret is not canonical base32; encode the key bytes with base32.StdEncoding.WithPadding(base32.NoPadding)")
	}
	return nil
}

const upperHex = "0123456789ABCDEF"

// writeEscaped percent-encodes every byte of s outside the RFC 3986
// unreserved set. The result contains no '+', so form decoding and strict
// percent-decoding both return s.
func writeEscaped(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&0x0f])
	}
}

func isUnreserved(c byte) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	case c == '-', c == '.', c == '_', c == '~':
		return true
	}
	return false
}
