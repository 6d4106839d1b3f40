package memstore

import (
	"bytes"
	"cmp"
	"context"
	"crypto/subtle"
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/twofactor-go/twofactor"
)

// shardCount is the number of independently locked parts of the store. A
// power of two so that a hash picks a shard with a mask.
const shardCount = 64

// Store is an in-memory [twofactor.Store]. The zero value is not usable;
// call [New]. It is safe for concurrent use.
type Store struct {
	seed   maphash.Seed
	shards [shardCount]shard
}

// shard holds the records whose key hashes to it. Records of one user sit
// in one shard, so that a user's operations take one lock.
type shard struct {
	mu          sync.Mutex
	enrollments map[string]twofactor.Enrollment
	setups      map[string]twofactor.Setup
	accounts    map[string]twofactor.Account
	backupCodes map[string]twofactor.BackupCode
	challenges  map[string]twofactor.Challenge // by challenge ID
	devices     map[string]twofactor.Device    // by deviceKey
}

var _ twofactor.Store = (*Store)(nil)

// New returns an empty Store.
func New() *Store {
	s := &Store{seed: maphash.MakeSeed()}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.enrollments = make(map[string]twofactor.Enrollment)
		sh.setups = make(map[string]twofactor.Setup)
		sh.accounts = make(map[string]twofactor.Account)
		sh.backupCodes = make(map[string]twofactor.BackupCode)
		sh.challenges = make(map[string]twofactor.Challenge)
		sh.devices = make(map[string]twofactor.Device)
	}
	return s
}

func (s *Store) shard(key string) *shard {
	return &s.shards[maphash.String(s.seed, key)&(shardCount-1)]
}

// GetEnrollment implements [twofactor.EnrollmentStore].
func (s *Store) GetEnrollment(ctx context.Context, userID string) (twofactor.Enrollment, error) {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.enrollments[userID]
	if !ok {
		return twofactor.Enrollment{}, twofactor.ErrNotFound
	}
	e.Secret = slices.Clone(e.Secret)
	return e, nil
}

// PutSetup implements [twofactor.EnrollmentStore].
func (s *Store) PutSetup(ctx context.Context, setup twofactor.Setup) error {
	setup.Secret = slices.Clone(setup.Secret)
	sh := s.shard(setup.UserID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.setups[setup.UserID] = setup
	return nil
}

// GetSetup implements [twofactor.EnrollmentStore].
func (s *Store) GetSetup(ctx context.Context, userID string, now time.Time) (twofactor.Setup, error) {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	setup, ok := sh.setups[userID]
	if !ok || !now.Before(setup.ExpiresAt) {
		return twofactor.Setup{}, twofactor.ErrNotFound
	}
	setup.Secret = slices.Clone(setup.Secret)
	return setup, nil
}

// ConfirmSetup implements [twofactor.EnrollmentStore].
func (s *Store) ConfirmSetup(ctx context.Context, userID, setupID string, step int64, now time.Time) (twofactor.Enrollment, error) {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	setup, ok := sh.setups[userID]
	if !ok || setup.ID != setupID || !now.Before(setup.ExpiresAt) {
		return twofactor.Enrollment{}, twofactor.ErrNotFound
	}
	delete(sh.setups, userID)
	e := twofactor.Enrollment{
		UserID:      userID,
		Secret:      setup.Secret,
		Algorithm:   setup.Algorithm,
		Digits:      setup.Digits,
		Period:      setup.Period,
		LastStep:    step,
		ConfirmedAt: now,
	}
	sh.enrollments[userID] = e
	e.Secret = slices.Clone(e.Secret)
	return e, nil
}

// DeleteEnrollment implements [twofactor.EnrollmentStore].
func (s *Store) DeleteEnrollment(ctx context.Context, userID string) error {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	delete(sh.enrollments, userID)
	delete(sh.setups, userID)
	return nil
}

// AcceptStep implements [twofactor.EnrollmentStore].
func (s *Store) AcceptStep(ctx context.Context, userID string, step int64) error {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.enrollments[userID]
	if !ok {
		return twofactor.ErrNotFound
	}
	if step <= e.LastStep {
		return twofactor.ErrStepUsed
	}
	e.LastStep = step
	sh.enrollments[userID] = e
	return nil
}

// ListEnrollments implements [twofactor.EnrollmentStore]. It visits every
// shard, so it costs time in proportion to the number of enrollments.
func (s *Store) ListEnrollments(ctx context.Context, after string, limit int) ([]twofactor.Enrollment, error) {
	var out []twofactor.Enrollment
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for id, e := range sh.enrollments {
			if id > after {
				e.Secret = slices.Clone(e.Secret)
				out = append(out, e)
			}
		}
		sh.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b twofactor.Enrollment) int { return cmp.Compare(a.UserID, b.UserID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// ReplaceSecret implements [twofactor.EnrollmentStore].
func (s *Store) ReplaceSecret(ctx context.Context, userID string, oldSecret, newSecret []byte) error {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.enrollments[userID]
	if !ok {
		return twofactor.ErrNotFound
	}
	if !bytes.Equal(e.Secret, oldSecret) {
		return twofactor.ErrConflict
	}
	e.Secret = slices.Clone(newSecret)
	sh.enrollments[userID] = e
	return nil
}

// ReserveAttempt implements [twofactor.AttemptStore].
func (s *Store) ReserveAttempt(ctx context.Context, userID string, max int) (int, error) {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	a := sh.accounts[userID]
	if a.Failures >= max {
		return a.Failures, twofactor.ErrAttemptLimit
	}
	a.Failures++
	sh.accounts[userID] = a
	return a.Failures, nil
}

// ReleaseAttempt implements [twofactor.AttemptStore].
func (s *Store) ReleaseAttempt(ctx context.Context, userID string) error {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if a, ok := sh.accounts[userID]; ok && a.Failures > 0 {
		a.Failures--
		sh.accounts[userID] = a
	}
	return nil
}

// ClearFailures implements [twofactor.AttemptStore].
func (s *Store) ClearFailures(ctx context.Context, userID string) error {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if a, ok := sh.accounts[userID]; ok && a.Failures != 0 {
		a.Failures = 0
		sh.accounts[userID] = a
	}
	return nil
}

// GetAccount implements [twofactor.AttemptStore].
func (s *Store) GetAccount(ctx context.Context, userID string) (twofactor.Account, error) {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.accounts[userID], nil
}

// Unlock implements [twofactor.AttemptStore].
func (s *Store) Unlock(ctx context.Context, userID string, now time.Time, resetRequired bool) error {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	a := sh.accounts[userID]
	a.Failures = 0
	a.Generation++
	a.UnlockedAt = now
	a.ResetRequired = resetRequired
	sh.accounts[userID] = a
	return nil
}

// ClearResetRequired implements [twofactor.AttemptStore].
func (s *Store) ClearResetRequired(ctx context.Context, userID string) error {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if a, ok := sh.accounts[userID]; ok && a.ResetRequired {
		a.ResetRequired = false
		sh.accounts[userID] = a
	}
	return nil
}

// CreateChallenge implements [twofactor.ChallengeStore].
func (s *Store) CreateChallenge(ctx context.Context, c twofactor.Challenge) error {
	sh := s.shard(c.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.challenges[c.ID]; ok {
		return twofactor.ErrConflict
	}
	sh.challenges[c.ID] = c
	return nil
}

// GetChallenge implements [twofactor.ChallengeStore].
func (s *Store) GetChallenge(ctx context.Context, id string) (twofactor.Challenge, error) {
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	c, ok := sh.challenges[id]
	if !ok {
		return twofactor.Challenge{}, twofactor.ErrNotFound
	}
	return c, nil
}

// UpdateChallenge implements [twofactor.ChallengeStore].
func (s *Store) UpdateChallenge(ctx context.Context, id string, from, to twofactor.State) error {
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	c, ok := sh.challenges[id]
	if !ok {
		return twofactor.ErrNotFound
	}
	if c.State != from {
		return twofactor.ErrConflict
	}
	c.State = to
	sh.challenges[id] = c
	return nil
}

// PutBackupCode implements [twofactor.BackupCodeStore].
func (s *Store) PutBackupCode(ctx context.Context, c twofactor.BackupCode) error {
	c.Hash = slices.Clone(c.Hash)
	sh := s.shard(c.UserID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.backupCodes[c.UserID] = c
	return nil
}

// ConsumeBackupCode implements [twofactor.BackupCodeStore].
func (s *Store) ConsumeBackupCode(ctx context.Context, userID string, hash []byte, now time.Time) (twofactor.BackupCode, error) {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	c, ok := sh.backupCodes[userID]
	if !ok || !now.Before(c.ExpiresAt) || subtle.ConstantTimeCompare(c.Hash, hash) != 1 {
		return twofactor.BackupCode{}, twofactor.ErrNotFound
	}
	delete(sh.backupCodes, userID)
	return c, nil
}

// DeleteBackupCode implements [twofactor.BackupCodeStore].
func (s *Store) DeleteBackupCode(ctx context.Context, userID string) error {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	delete(sh.backupCodes, userID)
	return nil
}

// PutDevice implements [twofactor.DeviceStore].
func (s *Store) PutDevice(ctx context.Context, d twofactor.Device) error {
	d.TokenHash = slices.Clone(d.TokenHash)
	sh := s.shard(d.UserID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.devices[deviceKey(d.UserID, d.TokenHash)] = d
	return nil
}

// deviceKey is the map key of a device: its user and token hash, so that a
// user's devices share the user's shard.
func deviceKey(userID string, hash []byte) string {
	return userID + "\x00" + string(hash)
}

// UseDevice implements [twofactor.DeviceStore].
func (s *Store) UseDevice(ctx context.Context, userID string, hash []byte, now time.Time) (twofactor.Device, error) {
	key := deviceKey(userID, hash)
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	d, ok := sh.devices[key]
	if !ok || !now.Before(d.ExpiresAt) {
		return twofactor.Device{}, twofactor.ErrNotFound
	}
	d.LastUsed = now
	sh.devices[key] = d
	d.TokenHash = slices.Clone(d.TokenHash)
	return d, nil
}

// ListDevices implements [twofactor.DeviceStore].
func (s *Store) ListDevices(ctx context.Context, userID string, now time.Time) ([]twofactor.Device, error) {
	var out []twofactor.Device
	s.eachDevice(userID, func(sh *shard, key string, d twofactor.Device) {
		if now.Before(d.ExpiresAt) {
			d.TokenHash = slices.Clone(d.TokenHash)
			out = append(out, d)
		}
	})
	slices.SortFunc(out, func(a, b twofactor.Device) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// DeleteDevice implements [twofactor.DeviceStore].
func (s *Store) DeleteDevice(ctx context.Context, userID, id string) error {
	s.eachDevice(userID, func(sh *shard, key string, d twofactor.Device) {
		if d.ID == id {
			delete(sh.devices, key)
		}
	})
	return nil
}

// DeleteDevices implements [twofactor.DeviceStore].
func (s *Store) DeleteDevices(ctx context.Context, userID string) error {
	s.eachDevice(userID, func(sh *shard, key string, d twofactor.Device) {
		delete(sh.devices, key)
	})
	return nil
}

// eachDevice calls f for every device of the user, holding the shard lock.
// It scans the user's shard, which holds 1/64 of all devices.
func (s *Store) eachDevice(userID string, f func(sh *shard, key string, d twofactor.Device)) {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for key, d := range sh.devices {
		if d.UserID == userID {
			f(sh, key, d)
		}
	}
}

// DeleteExpired deletes every set-up, challenge, backup code and device
// that expired at or before now, and returns how many it deleted. Reads
// already treat such records as absent, so this only frees memory.
func (s *Store) DeleteExpired(now time.Time) int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += deleteIf(sh.setups, func(v twofactor.Setup) bool { return !now.Before(v.ExpiresAt) })
		n += deleteIf(sh.challenges, func(v twofactor.Challenge) bool { return !now.Before(v.ExpiresAt) })
		n += deleteIf(sh.backupCodes, func(v twofactor.BackupCode) bool { return !now.Before(v.ExpiresAt) })
		n += deleteIf(sh.devices, func(v twofactor.Device) bool { return !now.Before(v.ExpiresAt) })
		sh.mu.Unlock()
	}
	return n
}

func deleteIf[V any](m map[string]V, expired func(V) bool) int {
	n := 0
	for k, v := range m {
		if expired(v) {
			delete(m, k)
			n++
		}
	}
	return n
}

// RunCleanup calls DeleteExpired every interval until ctx is done. Run it
// in its own goroutine.
func (s *Store) RunCleanup(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.DeleteExpired(now)
		}
	}
}
