// Package seal encrypts TOTP secrets at rest with XChaCha20-Poly1305.
//
// A [Ring] holds one or more 32-byte keys, each with an id. It seals with its
// primary (first) key and opens a value with whichever key has the id stored
// in that value's header. To rotate keys, put the new key first and keep the
// old ones after it. Then re-seal every value for which [Ring.NeedsRotation]
// reports true, and drop an old key once no value uses it.
//
// # Sealed format
//
// A sealed value is laid out as follows (version 1):
//
//	offset      length  field
//	0           1       format version, always 1
//	1           1       key id length n, 1 to 32
//	2           n       key id, ASCII letters, digits, '.', '_' or '-'
//	2+n         24      random XChaCha20 nonce
//	26+n        m+16    XChaCha20-Poly1305 ciphertext of the m-byte
//	                    plaintext, followed by the 16-byte Poly1305 tag
//
// The header (version, id length and id) is stored in clear. The AEAD
// additional data is the header followed by the caller's additional data, so
// a value whose version or key id was changed, or that is opened with other
// additional data, fails to open. The header is length-prefixed, which keeps
// the concatenation unambiguous.
//
// Nonces are 192 bits drawn at random, so even after 2^64 seals with one key
// the chance that two of them share a nonce is below 2^-64 (birthday bound).
package seal
