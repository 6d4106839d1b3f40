package twofactortest

import (
	"context"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/twofactor-go/twofactor"
)

// ErrInjected is the error a [FailingStore] returns when no other error is
// given.
var ErrInjected = errors.New("twofactortest: injected store failure")

// FailingStore wraps a store and makes chosen methods fail, to test how a
// host handles store errors. Methods are named as in [twofactor.Store],
// for example "AcceptStep". It is safe for concurrent use.
type FailingStore struct {
	twofactor.Store

	mu    sync.Mutex
	fails map[string]failure
	calls map[string]int
}

// failure is an injected error that starts after a number of calls.
type failure struct {
	err   error
	after int // calls that still succeed first
}

var (
	_ twofactor.Store            = (*FailingStore)(nil)
	_ twofactor.ChallengeIDMaker = (*FailingStore)(nil)
)

// NewFailingStore returns a FailingStore around s that fails nothing yet.
func NewFailingStore(s twofactor.Store) *FailingStore {
	return &FailingStore{Store: s, fails: make(map[string]failure), calls: make(map[string]int)}
}

// Fail makes every later call of the named methods return err, or
// [ErrInjected] when err is nil.
func (f *FailingStore) Fail(err error, methods ...string) {
	f.FailAfter(0, err, methods...)
}

// FailAfter lets the next n calls of each named method through and makes
// every call after them return err, or [ErrInjected] when err is nil. It
// stands for a store that goes away half-way through a job.
func (f *FailingStore) FailAfter(n int, err error, methods ...string) {
	if err == nil {
		err = ErrInjected
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, name := range methods {
		f.fails[name] = failure{err: err, after: n}
	}
}

// Heal makes every method work again.
func (f *FailingStore) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.fails)
}

// Calls returns how many times the named method was called, failed or not.
func (f *FailingStore) Calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// check counts a call of method and returns its injected error, if any.
func (f *FailingStore) check(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[method]++
	fl, ok := f.fails[method]
	if !ok {
		return nil
	}
	if fl.after > 0 {
		fl.after--
		f.fails[method] = fl
		return nil
	}
	return fl.err
}

// GetEnrollment implements [twofactor.EnrollmentStore].
func (f *FailingStore) GetEnrollment(ctx context.Context, userID string) (twofactor.Enrollment, error) {
	if err := f.check("GetEnrollment"); err != nil {
		return twofactor.Enrollment{}, err
	}
	return f.Store.GetEnrollment(ctx, userID)
}

// PutSetup implements [twofactor.EnrollmentStore].
func (f *FailingStore) PutSetup(ctx context.Context, s twofactor.Setup) error {
	if err := f.check("PutSetup"); err != nil {
		return err
	}
	return f.Store.PutSetup(ctx, s)
}

// GetSetup implements [twofactor.EnrollmentStore].
func (f *FailingStore) GetSetup(ctx context.Context, userID string, now time.Time) (twofactor.Setup, error) {
	if err := f.check("GetSetup"); err != nil {
		return twofactor.Setup{}, err
	}
	return f.Store.GetSetup(ctx, userID, now)
}

// ConfirmSetup implements [twofactor.EnrollmentStore].
func (f *FailingStore) ConfirmSetup(ctx context.Context, userID, setupID string, step int64, now time.Time) (twofactor.Enrollment, error) {
	if err := f.check("ConfirmSetup"); err != nil {
		return twofactor.Enrollment{}, err
	}
	return f.Store.ConfirmSetup(ctx, userID, setupID, step, now)
}

// DeleteEnrollment implements [twofactor.EnrollmentStore].
func (f *FailingStore) DeleteEnrollment(ctx context.Context, userID string) error {
	if err := f.check("DeleteEnrollment"); err != nil {
		return err
	}
	return f.Store.DeleteEnrollment(ctx, userID)
}

// AcceptStep implements [twofactor.EnrollmentStore].
func (f *FailingStore) AcceptStep(ctx context.Context, challengeID, userID string, step int64) error {
	if err := f.check("AcceptStep"); err != nil {
		return err
	}
	return f.Store.AcceptStep(ctx, challengeID, userID, step)
}

// ListEnrollments implements [twofactor.EnrollmentStore].
func (f *FailingStore) ListEnrollments(ctx context.Context, after string, limit int) ([]twofactor.Enrollment, error) {
	if err := f.check("ListEnrollments"); err != nil {
		return nil, err
	}
	return f.Store.ListEnrollments(ctx, after, limit)
}

// ReplaceSecret implements [twofactor.EnrollmentStore].
func (f *FailingStore) ReplaceSecret(ctx context.Context, userID string, oldSecret, newSecret []byte) error {
	if err := f.check("ReplaceSecret"); err != nil {
		return err
	}
	return f.Store.ReplaceSecret(ctx, userID, oldSecret, newSecret)
}

// ReserveAttempt implements [twofactor.AttemptStore].
func (f *FailingStore) ReserveAttempt(ctx context.Context, challengeID string, max int, now time.Time, v twofactor.Verdict) (twofactor.Attempt, error) {
	if err := f.check("ReserveAttempt"); err != nil {
		return twofactor.Attempt{}, err
	}
	return f.Store.ReserveAttempt(ctx, challengeID, max, now, v)
}

// ReleaseAttempt implements [twofactor.AttemptStore].
func (f *FailingStore) ReleaseAttempt(ctx context.Context, userID string) error {
	if err := f.check("ReleaseAttempt"); err != nil {
		return err
	}
	return f.Store.ReleaseAttempt(ctx, userID)
}

// GetAccount implements [twofactor.AttemptStore].
func (f *FailingStore) GetAccount(ctx context.Context, userID string) (twofactor.Account, error) {
	if err := f.check("GetAccount"); err != nil {
		return twofactor.Account{}, err
	}
	return f.Store.GetAccount(ctx, userID)
}

// Unlock implements [twofactor.AttemptStore].
func (f *FailingStore) Unlock(ctx context.Context, userID string, now time.Time, resetRequired bool) error {
	if err := f.check("Unlock"); err != nil {
		return err
	}
	return f.Store.Unlock(ctx, userID, now, resetRequired)
}

// ClearResetRequired implements [twofactor.AttemptStore].
func (f *FailingStore) ClearResetRequired(ctx context.Context, userID string) error {
	if err := f.check("ClearResetRequired"); err != nil {
		return err
	}
	return f.Store.ClearResetRequired(ctx, userID)
}

// NewChallengeID implements [twofactor.ChallengeIDMaker], so that the
// Manager forms the same challenge IDs on the wrapper as on the wrapped
// store. It forwards to the wrapped store when that implements the
// interface, and otherwise returns random in lowercase hex, as the Manager
// does without one. Injected failures do not apply, because the method
// returns no error, and its calls are not counted.
func (f *FailingStore) NewChallengeID(userID string, random []byte) string {
	if maker, ok := f.Store.(twofactor.ChallengeIDMaker); ok {
		return maker.NewChallengeID(userID, random)
	}
	return hex.EncodeToString(random)
}

// CreateChallenge implements [twofactor.ChallengeStore].
func (f *FailingStore) CreateChallenge(ctx context.Context, c twofactor.Challenge) error {
	if err := f.check("CreateChallenge"); err != nil {
		return err
	}
	return f.Store.CreateChallenge(ctx, c)
}

// GetChallenge implements [twofactor.ChallengeStore].
func (f *FailingStore) GetChallenge(ctx context.Context, id string) (twofactor.Challenge, error) {
	if err := f.check("GetChallenge"); err != nil {
		return twofactor.Challenge{}, err
	}
	return f.Store.GetChallenge(ctx, id)
}

// UpdateChallenge implements [twofactor.ChallengeStore].
func (f *FailingStore) UpdateChallenge(ctx context.Context, id string, from, to twofactor.State) error {
	if err := f.check("UpdateChallenge"); err != nil {
		return err
	}
	return f.Store.UpdateChallenge(ctx, id, from, to)
}

// PutBackupCode implements [twofactor.BackupCodeStore].
func (f *FailingStore) PutBackupCode(ctx context.Context, c twofactor.BackupCode) error {
	if err := f.check("PutBackupCode"); err != nil {
		return err
	}
	return f.Store.PutBackupCode(ctx, c)
}

// ConsumeBackupCode implements [twofactor.BackupCodeStore].
func (f *FailingStore) ConsumeBackupCode(ctx context.Context, challengeID, userID string, hash []byte, now time.Time) (twofactor.BackupCode, error) {
	if err := f.check("ConsumeBackupCode"); err != nil {
		return twofactor.BackupCode{}, err
	}
	return f.Store.ConsumeBackupCode(ctx, challengeID, userID, hash, now)
}

// DeleteBackupCode implements [twofactor.BackupCodeStore].
func (f *FailingStore) DeleteBackupCode(ctx context.Context, userID string) error {
	if err := f.check("DeleteBackupCode"); err != nil {
		return err
	}
	return f.Store.DeleteBackupCode(ctx, userID)
}

// PutDevice implements [twofactor.DeviceStore].
func (f *FailingStore) PutDevice(ctx context.Context, d twofactor.Device) error {
	if err := f.check("PutDevice"); err != nil {
		return err
	}
	return f.Store.PutDevice(ctx, d)
}

// UseDevice implements [twofactor.DeviceStore].
func (f *FailingStore) UseDevice(ctx context.Context, userID string, hash []byte, now time.Time) (twofactor.Device, error) {
	if err := f.check("UseDevice"); err != nil {
		return twofactor.Device{}, err
	}
	return f.Store.UseDevice(ctx, userID, hash, now)
}

// ListDevices implements [twofactor.DeviceStore].
func (f *FailingStore) ListDevices(ctx context.Context, userID string, now time.Time) ([]twofactor.Device, error) {
	if err := f.check("ListDevices"); err != nil {
		return nil, err
	}
	return f.Store.ListDevices(ctx, userID, now)
}

// DeleteDevice implements [twofactor.DeviceStore].
func (f *FailingStore) DeleteDevice(ctx context.Context, userID, id string) error {
	if err := f.check("DeleteDevice"); err != nil {
		return err
	}
	return f.Store.DeleteDevice(ctx, userID, id)
}

// DeleteDevices implements [twofactor.DeviceStore].
func (f *FailingStore) DeleteDevices(ctx context.Context, userID string) error {
	if err := f.check("DeleteDevices"); err != nil {
		return err
	}
	return f.Store.DeleteDevices(ctx, userID)
}
