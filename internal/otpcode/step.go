package otpcode

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrBeforeEpoch is wrapped by the error that [Step] returns for a
	// time before 1970-01-01T00:00:00Z.
	ErrBeforeEpoch = errors.New("twofactor: time is before the Unix epoch")

	// ErrInvalidPeriod is wrapped by the error that [Step] returns for a
	// period that is not positive.
	ErrInvalidPeriod = errors.New("twofactor: invalid period")
)

// Step returns the RFC 6238 time step of t for a period in seconds, which
// is floor(unix/period) where unix is t in whole seconds since the Unix
// epoch. It returns an error for a time before the epoch, including the
// zero time.Time, and for a period <= 0.
func Step(t time.Time, period int64) (int64, error) {
	if period <= 0 {
		return 0, fmt.Errorf("%w %d: want a positive number of seconds",
			ErrInvalidPeriod, period)
	}
	unix := t.Unix()
	if unix < 0 {
		return 0, fmt.Errorf("%w: %s",
			ErrBeforeEpoch, t.UTC().Format(time.RFC3339Nano))
	}
	return unix / period, nil
}
