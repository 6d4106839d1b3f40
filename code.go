package twofactor

import (
	"errors"
	"fmt"
	"time"

	"github.com/twofactor-go/twofactor/internal/otpcode"
)

// ErrClock is returned when the clock reads a time before 1970, where no
// time step exists. The code is then not verified.
var ErrClock = errors.New("twofactor: clock is before 1970")

// codeParams are the RFC 6238 parameters of one enrollment.
type codeParams struct {
	alg    Algorithm
	digits int
	period int64 // seconds
}

func newCodeParams(alg Algorithm, digits int, period time.Duration) (codeParams, error) {
	p := codeParams{
		alg:    alg,
		digits: orDefault(digits, DefaultDigits),
		period: int64(orDefault(period, DefaultPeriod) / time.Second),
	}
	if alg > SHA512 {
		return p, fmt.Errorf("twofactor: Config.Algorithm %d is not SHA1, SHA256 or SHA512", alg)
	}
	if p.digits < 6 || p.digits > 10 {
		return p, fmt.Errorf("twofactor: Config.Digits is %d; use 6 to 10", p.digits)
	}
	if period%time.Second != 0 || p.period < 1 {
		return p, fmt.Errorf("twofactor: Config.Period is %v; use a whole number of seconds", period)
	}
	return p, nil
}

// step returns the time step of now, or ErrClock for a time before 1970.
func (p codeParams) step(now time.Time) (int64, error) {
	s, err := otpcode.Step(now, p.period)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrClock, now.UTC().Format(time.RFC3339))
	}
	return s, nil
}

// check reports whether input is a code of secret for a step within skew of
// now's step, and returns that step. The input is normalised first: spaces
// and dashes are dropped, and anything but exactly p.digits ASCII digits is
// a wrong code. The cost does not depend on whether the code is right.
func (p codeParams) check(secret []byte, input string, now time.Time, skew int) (int64, bool, error) {
	step, err := p.step(now)
	if err != nil {
		return 0, false, err
	}
	var buf [10]byte
	n, ok := otpcode.Normalize(&buf, input, p.digits)
	if !ok {
		// Compute the codes anyway so that a malformed input costs the
		// same as a wrong one.
		otpcode.Verify(secret, otpcode.Algorithm(p.alg), p.digits, step, skew, buf[:p.digits])
		return 0, false, nil
	}
	matched, ok := otpcode.Verify(secret, otpcode.Algorithm(p.alg), p.digits, step, skew, buf[:n])
	return matched, ok, nil
}
