package otpcode

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// Algorithm is the hash function of the HMAC that derives a code.
// The zero value is SHA1, the hash of RFC 4226 and the default of otpauth
// URIs.
type Algorithm uint8

// Algorithms defined by RFC 6238.
const (
	SHA1 Algorithm = iota
	SHA256
	SHA512
)

// ErrInvalidAlgorithm is wrapped by the error that [ParseAlgorithm] returns
// for an unknown name.
var ErrInvalidAlgorithm = errors.New("twofactor: invalid algorithm")

// String returns the name used in otpauth URIs: "SHA1", "SHA256" or
// "SHA512". An unknown value prints as "Algorithm(N)".
func (a Algorithm) String() string {
	switch a {
	case SHA1:
		return "SHA1"
	case SHA256:
		return "SHA256"
	case SHA512:
		return "SHA512"
	}
	return "Algorithm(" + strconv.Itoa(int(a)) + ")"
}

// ParseAlgorithm returns the Algorithm named s, ignoring case.
// It accepts "SHA1", "SHA256" and "SHA512".
func ParseAlgorithm(s string) (Algorithm, error) {
	for _, a := range []Algorithm{SHA1, SHA256, SHA512} {
		if strings.EqualFold(s, a.String()) {
			return a, nil
		}
	}
	return 0, fmt.Errorf("%w %q: want SHA1, SHA256 or SHA512",
		ErrInvalidAlgorithm, s)
}

func (a Algorithm) valid() bool {
	return a <= SHA512
}

// newHash returns a new hash for a valid algorithm.
func (a Algorithm) newHash() hash.Hash {
	switch a {
	case SHA256:
		return sha256.New()
	case SHA512:
		return sha512.New()
	}
	return sha1.New()
}
