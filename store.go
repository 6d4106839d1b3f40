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
// codes only as keyed hashes. The library keeps the Secret of an
// enrollment that a store returns for as long as it remembers the
// challenge it began, so a store must not modify a slice after returning
// it.
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

	// AcceptStep atomically signs in the challenge with the ID by a right
	// app code. It acts only when the challenge belongs to the user and is
	// code-pending, and step is greater than the user's last accepted time
	// step. Then it records step as the last one, sets the user's failure
	// count to zero and moves the challenge to succeeded. Otherwise it
	// changes nothing and returns ErrNotFound when the user is not enrolled
	// or the challenge is missing or belongs to another user, ErrConflict
	// when the challenge is in another state, and ErrStepUsed when step is
	// not greater. Of many concurrent calls with the same step, or on the
	// same challenge, exactly one succeeds.
	AcceptStep(ctx context.Context, challengeID, userID string, step int64) error

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
	// ReserveAttempt atomically takes one attempt on the challenge with
	// the ID for a submission that v judges in advance. It reads the
	// challenge and the account and enrollment of its user. The attempt is
	// taken only when the challenge is code-pending, now is before its
	// Deadline, the user is enrolled, the account's Generation equals the
	// challenge's and the failure count is below max; Attempt.Reserved
	// reports whether it was. It returns ErrNotFound, changing nothing,
	// when there is no challenge with the ID or it expired at or before now.
	//
	// A taken attempt is judged by v when v carries a BackupHash, or a
	// Secret equal to the enrollment's (see [Verdict]): the call then sets
	// Judged. A right code records its use as AcceptStep or
	// ConsumeBackupCode would, sets the failure count to zero and moves the
	// challenge to succeeded, and the call sets Accepted. A wrong one adds
	// one to the failure count. A taken attempt that v does not judge also
	// adds one. The library then checks the code itself and, when it is
	// right, calls AcceptStep, or ConsumeBackupCode for a backup code. A
	// store never sets Judged for the zero Verdict, nor Accepted for an app
	// code that did not match; the library ignores such flags.
	//
	// The library takes an attempt before it uses the outcome of any
	// check, so that concurrent submissions can never learn more codes
	// than the limit allows. A verdict shows the store whether a code
	// matched even when no attempt is taken, so a store should not log the
	// arguments of this call.
	ReserveAttempt(ctx context.Context, challengeID string, max int, now time.Time, v Verdict) (Attempt, error)

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

// Attempt is the outcome of [AttemptStore.ReserveAttempt]: the records it
// read and what it did with the submission.
type Attempt struct {
	// Challenge is the challenge as it was before the call.
	Challenge Challenge

	// Account is the user's account after the call.
	Account Account

	// Enrollment is the user's enrollment as the call read it, before a
	// right code's step was recorded. Its UserID is empty when the user is
	// not enrolled.
	Enrollment Enrollment

	// Reserved reports that every condition for an attempt held, so that
	// the call counted the submission as an attempt or, when it judged a
	// right code, signed the challenge in.
	Reserved bool

	// Judged reports that the call applied the verdict, which finished the
	// submission: a wrong code stays counted, and a right one signed in.
	// When Reserved is set and Judged is not, the library checks the code
	// with the enrollment that the call returned.
	Judged bool

	// Accepted reports that the call judged the code right: it recorded the
	// code's use, set the failure count to zero and moved the challenge to
	// succeeded.
	Accepted bool
}

// Verdict is the library's judgement of a submitted code, made before it
// calls [AttemptStore.ReserveAttempt], so that one store call can finish
// the submission. The zero Verdict judges nothing.
type Verdict struct {
	// BackupHash is the keyed hash of a backup code, set when the input
	// has the form of one. The store judges it: the code is right when the
	// user's backup code has this Hash and expires after now.
	BackupHash []byte

	// Secret is the sealed secret that the library checked an app code
	// against, from an enrollment that it read earlier, and Matched and
	// Step its result: whether the code matched, and the time step it
	// matched. The store applies the result only while the user's
	// enrollment has this Secret, byte for byte. The code is right when it
	// matched and Step is greater than the enrollment's LastStep.
	Secret  []byte
	Matched bool
	Step    int64
}

// ChallengeStore keeps login challenges by their ID.
type ChallengeStore interface {
	// CreateChallenge stores a new challenge. The ID is random and unique;
	// a store may return ErrConflict if it already exists.
	CreateChallenge(ctx context.Context, c Challenge) error

	// GetChallenge returns the challenge with the ID, or ErrNotFound. It
	// serves hosts and tools; a submission reads the challenge through
	// ReserveAttempt.
	GetChallenge(ctx context.Context, id string) (Challenge, error)

	// UpdateChallenge atomically sets the state of the challenge to `to`
	// if it is `from`, and returns ErrConflict if it is not, or ErrNotFound.
	// Of many concurrent calls that move a challenge out of one state,
	// exactly one succeeds.
	UpdateChallenge(ctx context.Context, id string, from, to State) error
}

// ChallengeIDMaker is implemented by a [Store] that forms the IDs of new
// challenges itself, for example to keep a challenge in the same shard as
// its user's records, where one atomic operation can reach both. The
// Manager passes 16 bytes from its random source for each new challenge.
// The ID must be a function of all of them, so that it is as hard to guess,
// and must be printable ASCII. Without this interface the ID is the random
// bytes in lowercase hex.
type ChallengeIDMaker interface {
	NewChallengeID(userID string, random []byte) string
}

// BackupCodeStore keeps at most one backup code per user.
type BackupCodeStore interface {
	// PutBackupCode stores a backup code, replacing any earlier code of the
	// same user, so that the earlier code stops working at once.
	PutBackupCode(ctx context.Context, c BackupCode) error

	// ConsumeBackupCode atomically signs in the challenge with the ID by a
	// backup code. It acts only when the challenge belongs to the user and
	// is code-pending, and the user's backup code has a Hash equal to hash
	// and expires after now. Then it deletes and returns the code, sets the
	// user's failure count to zero and moves the challenge to succeeded.
	// Otherwise it changes nothing and returns ErrConflict when the
	// challenge is in another state, and ErrNotFound in every other case.
	// Of many concurrent calls with the right hash, exactly one succeeds.
	ConsumeBackupCode(ctx context.Context, challengeID, userID string, hash []byte, now time.Time) (BackupCode, error)

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
