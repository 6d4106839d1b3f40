package twofactor

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors that a [Store] returns. The library branches on them with
// errors.Is, so a store may wrap them but must not replace them.
var (
	// ErrNotFound is returned when a record does not exist or has expired.
	ErrNotFound = errors.New("twofactor: record not found")

	// ErrStepUsed is returned by AcceptStep when the time step is not later
	// than the last step accepted for the user.
	ErrStepUsed = errors.New("twofactor: time step already used")

	// ErrAttemptLimit is returned by ReserveAttempt when the account has
	// already used every attempt it is allowed.
	ErrAttemptLimit = errors.New("twofactor: attempt limit reached")

	// ErrConflict is returned when a conditional update finds the record in
	// another state than the caller expected.
	ErrConflict = errors.New("twofactor: record changed concurrently")
)

// Store is the storage the library needs. It is the union of the interfaces
// below so that a backend can be written, tested and documented one concern
// at a time. The package storetest holds a conformance suite that every
// implementation should run.
//
// Every method takes the caller's context first and must return promptly
// once it is done. All methods must be safe for concurrent use by multiple
// goroutines and, for a store shared by several processes, by several
// processes at once. Methods named as atomic below must be linearizable: of
// any set of concurrent calls, the outcome must be one that some serial
// order of those calls would give.
//
// Set-ups, challenges, backup codes and devices carry the time at which
// they expire. A store may delete such a record at any time after that
// instant. A method that takes now must treat a record that expired at or
// before now as absent.
//
// Secrets reach the store only as ciphertext, and device tokens and backup
// codes only as keyed hashes.
type Store interface {
	EnrollmentStore
	AttemptStore
	ChallengeStore
	BackupCodeStore
	DeviceStore
}

// EnrollmentStore keeps confirmed enrollments and the pending set-up of each
// user. A user has at most one enrollment and at most one pending set-up.
type EnrollmentStore interface {
	// GetEnrollment returns the user's enrollment, or ErrNotFound.
	GetEnrollment(ctx context.Context, userID string) (Enrollment, error)

	// PutSetup stores a pending set-up, replacing any earlier one of the
	// same user. It does not touch the user's enrollment.
	PutSetup(ctx context.Context, s Setup) error

	// GetSetup returns the user's pending set-up, or ErrNotFound when there
	// is none or it expired at or before now.
	GetSetup(ctx context.Context, userID string, now time.Time) (Setup, error)

	// ConfirmSetup atomically turns the pending set-up whose ID is setupID
	// into the user's enrollment, replacing any earlier enrollment, and
	// deletes the set-up. The new enrollment's LastStep is step and its
	// ConfirmedAt is now. It returns ErrNotFound when the user's pending
	// set-up is missing, expired at now, or has another ID.
	ConfirmSetup(ctx context.Context, userID, setupID string, step int64, now time.Time) (Enrollment, error)

	// DeleteEnrollment deletes the user's enrollment and pending set-up.
	// Deleting what does not exist is not an error.
	DeleteEnrollment(ctx context.Context, userID string) error

	// AcceptStep atomically records step as the user's last accepted time
	// step when it is greater than the one stored, and sets the user's
	// failure count to zero in the same step, because a right code clears
	// the count. It returns ErrStepUsed, changing nothing, when step is not
	// greater, and ErrNotFound when the user is not enrolled. Of many
	// concurrent calls with the same step, exactly one succeeds.
	AcceptStep(ctx context.Context, userID string, step int64) error

	// ListEnrollments returns up to limit enrollments whose user ID sorts
	// after the given one (byte-wise), in ascending user ID order. An empty
	// after starts from the first.
	ListEnrollments(ctx context.Context, after string, limit int) ([]Enrollment, error)

	// ReplaceSecret atomically replaces the user's sealed secret with
	// newSecret if it still equals oldSecret, and returns ErrConflict
	// otherwise, or ErrNotFound when the user is not enrolled.
	ReplaceSecret(ctx context.Context, userID string, oldSecret, newSecret []byte) error
}

// AttemptStore keeps the failed-attempt count of each account, which
// decides the lockout. An account that has no record has no failures.
type AttemptStore interface {
	// ReserveAttempt atomically adds one to the user's failure count and
	// returns the account after the change together with the user's
	// enrollment, which the code check needs. When the count is already
	// max or more it changes nothing and returns the account with
	// ErrAttemptLimit. When the user is not enrolled it changes nothing
	// and returns ErrNotFound.
	//
	// The library reserves an attempt before it checks a code, so that
	// concurrent submissions can never check more codes than the limit.
	// AcceptStep and ConsumeBackupCode clear the count when the code is
	// right.
	ReserveAttempt(ctx context.Context, userID string, max int) (Account, Enrollment, error)

	// ReleaseAttempt atomically subtracts one from the user's failure
	// count unless it is zero. The library calls it when a reserved
	// attempt's code could not be judged because of a failure.
	ReleaseAttempt(ctx context.Context, userID string) error

	// GetAccount returns the user's account state. A user without a record
	// gets the zero Account and a nil error.
	GetAccount(ctx context.Context, userID string) (Account, error)

	// Unlock sets the failure count to zero, UnlockedAt to now and
	// ResetRequired to resetRequired, and adds one to Generation, in one
	// atomic step.
	Unlock(ctx context.Context, userID string, now time.Time, resetRequired bool) error

	// ClearResetRequired sets ResetRequired to false.
	ClearResetRequired(ctx context.Context, userID string) error
}

// ChallengeStore keeps login challenges by their ID.
type ChallengeStore interface {
	// CreateChallenge stores a new challenge. The ID is random and unique;
	// a store may return ErrConflict if it already exists.
	CreateChallenge(ctx context.Context, c Challenge) error

	// GetChallenge returns the challenge with the ID, or ErrNotFound.
	GetChallenge(ctx context.Context, id string) (Challenge, error)

	// UpdateChallenge atomically sets the state of the challenge to `to`
	// if it is `from`, and returns ErrConflict if it is not, or ErrNotFound.
	// Of many concurrent calls that move a challenge out of one state,
	// exactly one succeeds.
	UpdateChallenge(ctx context.Context, id string, from, to State) error
}

// BackupCodeStore keeps at most one backup code per user.
type BackupCodeStore interface {
	// PutBackupCode stores a backup code, replacing any earlier code of the
	// same user, so that the earlier code stops working at once.
	PutBackupCode(ctx context.Context, c BackupCode) error

	// ConsumeBackupCode atomically deletes and returns the user's backup
	// code if its Hash equals hash and it expires after now, and sets the
	// user's failure count to zero in the same step. Otherwise it returns
	// ErrNotFound and changes nothing. Of many concurrent calls with the
	// right hash, exactly one succeeds.
	ConsumeBackupCode(ctx context.Context, userID string, hash []byte, now time.Time) (BackupCode, error)

	// DeleteBackupCode deletes the user's backup code. Deleting what does
	// not exist is not an error.
	DeleteBackupCode(ctx context.Context, userID string) error
}

// DeviceStore keeps trusted devices, found by their user and the hash of
// their token.
type DeviceStore interface {
	// PutDevice stores a trusted device.
	PutDevice(ctx context.Context, d Device) error

	// UseDevice returns the user's device whose TokenHash is hash and sets
	// its LastUsed to now. It returns ErrNotFound when the user has no such
	// device, or it expired at or before now. A device of another user with
	// the same hash is never returned.
	UseDevice(ctx context.Context, userID string, hash []byte, now time.Time) (Device, error)

	// ListDevices returns the user's unexpired devices, newest first.
	ListDevices(ctx context.Context, userID string, now time.Time) ([]Device, error)

	// DeleteDevice deletes the user's device with the ID. Deleting what does
	// not exist is not an error; a device of another user is not deleted.
	DeleteDevice(ctx context.Context, userID, id string) error

	// DeleteDevices deletes every device of the user.
	DeleteDevices(ctx context.Context, userID string) error
}
