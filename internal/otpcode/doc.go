// Package otpcode computes and checks HOTP (RFC 4226) and TOTP (RFC 6238)
// codes.
//
// It is the constant-time hot path of the library. [Verify] computes the
// code for every step in the skew window, compares each one with
// [crypto/subtle.ConstantTimeCompare] and allocates nothing in steady state,
// so a right and a wrong code take the same time. [Normalize] turns user
// input into the exact byte form that Verify expects.
package otpcode
