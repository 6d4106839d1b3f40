package memstore

import (
	"bytes"
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/hex"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
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
	users       map[string]*user
	setups      map[string]twofactor.Setup
	backupCodes map[string]twofactor.BackupCode
	challenges  map[string]twofactor.Challenge // by challenge ID
	devices     map[string]twofactor.Device    // by deviceKey
}

// user is the enrollment and the account of one user in one record, so
// that the several store calls of one submission look up one map entry
// and the sealed secret lies in the same memory. The map holds pointers
// because a Go map's slots are between 7/16 and 7/8 full, and small slots
// waste less in the empty ones.
//
// A record's secret is never modified once the record is in the map, so
// GetEnrollment returns it without a copy. A new secret gets a new record.
// A user without an enrollment and with the zero account has no record.
type user struct {
	// secret is the sealed secret: a slice of inline when it fits, and a
	// slice of its own otherwise.
	secret []byte

	lastStep int64
	digits   int
	period   int

	failures   int
	generation int64

	// The times as toParts splits them.
	confirmedSec, unlockedSec   int64
	confirmedNsec, unlockedNsec int32

	algorithm     twofactor.Algorithm
	enrolled      bool
	resetRequired bool

	inline [inlineSecretSize]byte
}

// inlineSecretSize is the room for the sealed secret in a user record. It
// makes the record 176 bytes, a size class of the Go 1.26 allocator, and
// holds a 20-byte secret sealed under a key id of up to 23 bytes.
const inlineSecretSize = 85

// newUser returns a record with the account of old, which may be nil, and
// no enrollment.
func newUser(old *user) *user {
	u := new(user)
	if old != nil {
		u.failures = old.failures
		u.generation = old.generation
		u.unlockedSec, u.unlockedNsec = old.unlockedSec, old.unlockedNsec
		u.resetRequired = old.resetRequired
	}
	return u
}

// setSecret stores a copy of sealed. Call it only on a record that is not
// yet in the map, because a reader may still hold the old secret.
func (u *user) setSecret(sealed []byte) {
	if len(sealed) == 0 || len(sealed) > len(u.inline) {
		u.secret = slices.Clone(sealed)
		return
	}
	n := copy(u.inline[:], sealed)
	u.secret = u.inline[:n:n]
}

func (u *user) enrollment(userID string) twofactor.Enrollment {
	return twofactor.Enrollment{
		UserID:      userID,
		Secret:      u.secret,
		Algorithm:   u.algorithm,
		Digits:      u.digits,
		Period:      u.period,
		LastStep:    u.lastStep,
		ConfirmedAt: fromParts(u.confirmedSec, u.confirmedNsec),
	}
}

func (u *user) account() twofactor.Account {
	return twofactor.Account{
		Failures:      u.failures,
		Generation:    u.generation,
		UnlockedAt:    fromParts(u.unlockedSec, u.unlockedNsec),
		ResetRequired: u.resetRequired,
	}
}

// zeroUnix is the Unix time of the zero time.Time, January 1 of year 1 UTC.
var zeroUnix = time.Time{}.Unix()

// toParts returns t as seconds and nanoseconds since the zero time.Time, so
// that the zero time is stored as zeros.
func toParts(t time.Time) (sec int64, nsec int32) {
	return t.Unix() - zeroUnix, int32(t.Nanosecond())
}

// fromParts returns the time that toParts split. The zero time comes back
// as the zero time.Time, and any other time in the local time zone without
// a monotonic clock reading.
func fromParts(sec int64, nsec int32) time.Time {
	if sec == 0 && nsec == 0 {
		return time.Time{}
	}
	return time.Unix(sec+zeroUnix, int64(nsec))
}

var (
	_ twofactor.Store            = (*Store)(nil)
	_ twofactor.ChallengeIDMaker = (*Store)(nil)
)

// New returns an empty Store.
func New() *Store {
	s := &Store{seed: maphash.MakeSeed()}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.users = make(map[string]*user)
		sh.setups = make(map[string]twofactor.Setup)
		sh.backupCodes = make(map[string]twofactor.BackupCode)
		sh.challenges = make(map[string]twofactor.Challenge)
		sh.devices = make(map[string]twofactor.Device)
	}
	return s
}

func (s *Store) shard(key string) *shard {
	return &s.shards[s.shardIndex(key)]
}

func (s *Store) shardIndex(key string) uint64 {
	return maphash.String(s.seed, key) & (shardCount - 1)
}

// NewChallengeID implements [twofactor.ChallengeIDMaker]. The ID is the
// random bytes in hex, a dot and the index of the user's shard in hex, so
// that the challenge lives in its user's shard and one lock covers a
// submission.
func (s *Store) NewChallengeID(userID string, random []byte) string {
	return hex.EncodeToString(random) + "." + strconv.FormatUint(s.shardIndex(userID), 16)
}

// challengeShardIndex returns the index of the shard of the challenge with
// the ID: the one that the ID names, when NewChallengeID formed it, and
// otherwise the one that the ID hashes to.
func (s *Store) challengeShardIndex(id string) uint64 {
	if dot := strings.LastIndexByte(id, '.'); dot > 0 {
		if i, err := strconv.ParseUint(id[dot+1:], 16, 8); err == nil && i < shardCount {
			return i
		}
	}
	return s.shardIndex(id)
}

// enrolled returns the user's record if the user is enrolled.
func (sh *shard) enrolled(userID string) (*user, bool) {
	u, ok := sh.users[userID]
	if !ok || !u.enrolled {
		return nil, false
	}
	return u, true
}

// user returns the user's record, and adds an empty one if there is none.
func (sh *shard) user(userID string) *user {
	u, ok := sh.users[userID]
	if !ok {
		u = new(user)
		sh.users[userID] = u
	}
	return u
}

// GetEnrollment implements [twofactor.EnrollmentStore]. The returned
// Secret is the store's own slice, to save a copy on every login: the
// caller must not modify it. The twofactor package only reads it.
// ConfirmedAt comes back in the local time zone, without a monotonic clock
// reading.
func (s *Store) GetEnrollment(ctx context.Context, userID string) (twofactor.Enrollment, error) {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	u, ok := sh.enrolled(userID)
	if !ok {
		return twofactor.Enrollment{}, twofactor.ErrNotFound
	}
	return u.enrollment(userID), nil
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
	u := newUser(sh.users[userID])
	sh.users[userID] = u
	u.enrolled = true
	u.setSecret(setup.Secret)
	u.algorithm = setup.Algorithm
	u.digits = setup.Digits
	u.period = setup.Period
	u.lastStep = step
	u.confirmedSec, u.confirmedNsec = toParts(now)
	e := u.enrollment(userID)
	e.Secret = slices.Clone(e.Secret)
	return e, nil
}

// DeleteEnrollment implements [twofactor.EnrollmentStore].
func (s *Store) DeleteEnrollment(ctx context.Context, userID string) error {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	delete(sh.setups, userID)
	u, ok := sh.users[userID]
	if !ok {
		return nil
	}
	sh.users[userID] = newUser(u)
	sh.deleteIfUnused(userID)
	return nil
}

// deleteIfUnused deletes the user's record if it holds nothing that a read
// would return.
func (sh *shard) deleteIfUnused(userID string) {
	if u, ok := sh.users[userID]; ok && !u.enrolled && u.account() == (twofactor.Account{}) {
		delete(sh.users, userID)
	}
}

// AcceptStep implements [twofactor.EnrollmentStore].
func (s *Store) AcceptStep(ctx context.Context, challengeID, userID string, step int64) error {
	csh, ush := s.lockPair(challengeID, userID)
	defer unlockPair(csh, ush)
	c, err := csh.pendingChallenge(challengeID, userID)
	if err != nil {
		return err
	}
	u, ok := ush.enrolled(userID)
	if !ok {
		return twofactor.ErrNotFound
	}
	if step <= u.lastStep {
		return twofactor.ErrStepUsed
	}
	u.lastStep = step
	u.failures = 0
	csh.succeed(c)
	return nil
}

// ListEnrollments implements [twofactor.EnrollmentStore]. It visits every
// shard, so it costs time in proportion to the number of users.
func (s *Store) ListEnrollments(ctx context.Context, after string, limit int) ([]twofactor.Enrollment, error) {
	var out []twofactor.Enrollment
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for id, u := range sh.users {
			if u.enrolled && id > after {
				e := u.enrollment(id)
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
	u, ok := sh.enrolled(userID)
	if !ok {
		return twofactor.ErrNotFound
	}
	if !bytes.Equal(u.secret, oldSecret) {
		return twofactor.ErrConflict
	}
	replaced := *u
	replaced.setSecret(newSecret)
	sh.users[userID] = &replaced
	return nil
}

// ReserveAttempt implements [twofactor.AttemptStore]. The enrollment's
// Secret is the store's own slice, as GetEnrollment returns it.
func (s *Store) ReserveAttempt(ctx context.Context, challengeID string, max int, now time.Time, v twofactor.Verdict) (twofactor.Attempt, error) {
	csh, ush, c, ok := s.lockChallenge(challengeID)
	if !ok {
		return twofactor.Attempt{}, twofactor.ErrNotFound
	}
	defer unlockPair(csh, ush)
	if !now.Before(c.ExpiresAt) {
		return twofactor.Attempt{}, twofactor.ErrNotFound
	}

	a := twofactor.Attempt{Challenge: c}
	u, ok := ush.users[c.UserID]
	if !ok {
		return a, nil
	}
	if u.enrolled {
		a.Enrollment = u.enrollment(c.UserID)
		a.Reserved = c.State == twofactor.StateCodePending && now.Before(c.Deadline) &&
			u.generation == c.Generation && u.failures < max
	}
	if a.Reserved {
		a.Judged, a.Accepted = ush.judge(c.UserID, u, v, now)
		if a.Accepted {
			u.failures = 0
			csh.succeed(c)
		} else {
			u.failures++
		}
	}
	a.Account = u.account()
	return a, nil
}

// judge applies the verdict to the enrolled user u of the shard: it
// reports whether the verdict holds and, if so, whether the code is right,
// and records a right code's use.
func (sh *shard) judge(userID string, u *user, v twofactor.Verdict, now time.Time) (judged, accepted bool) {
	switch {
	case v.BackupHash != nil:
		c, ok := sh.backupCodes[userID]
		if !ok || !now.Before(c.ExpiresAt) || subtle.ConstantTimeCompare(c.Hash, v.BackupHash) != 1 {
			return true, false
		}
		delete(sh.backupCodes, userID)
		return true, true
	case v.Secret != nil && subtle.ConstantTimeCompare(u.secret, v.Secret) == 1:
		if !v.Matched || v.Step <= u.lastStep {
			return true, false
		}
		u.lastStep = v.Step
		return true, true
	}
	return false, false
}

// ReleaseAttempt implements [twofactor.AttemptStore].
func (s *Store) ReleaseAttempt(ctx context.Context, userID string) error {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if u, ok := sh.users[userID]; ok && u.failures > 0 {
		u.failures--
		sh.deleteIfUnused(userID)
	}
	return nil
}

// GetAccount implements [twofactor.AttemptStore]. UnlockedAt comes back in
// the local time zone, without a monotonic clock reading.
func (s *Store) GetAccount(ctx context.Context, userID string) (twofactor.Account, error) {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	u, ok := sh.users[userID]
	if !ok {
		return twofactor.Account{}, nil
	}
	return u.account(), nil
}

// Unlock implements [twofactor.AttemptStore].
func (s *Store) Unlock(ctx context.Context, userID string, now time.Time, resetRequired bool) error {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	u := sh.user(userID)
	u.failures = 0
	u.generation++
	u.unlockedSec, u.unlockedNsec = toParts(now)
	u.resetRequired = resetRequired
	return nil
}

// ClearResetRequired implements [twofactor.AttemptStore].
func (s *Store) ClearResetRequired(ctx context.Context, userID string) error {
	sh := s.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if u, ok := sh.users[userID]; ok && u.resetRequired {
		u.resetRequired = false
		sh.deleteIfUnused(userID)
	}
	return nil
}

// lockChallenge locks the shard of the challenge with the ID and the shard
// of its user, and returns them with the challenge. It returns false, with
// no lock held, when there is no such challenge.
func (s *Store) lockChallenge(id string) (csh, ush *shard, c twofactor.Challenge, ok bool) {
	i := s.challengeShardIndex(id)
	csh = &s.shards[i]
	csh.mu.Lock()
	c, ok = csh.challenges[id]
	if !ok {
		csh.mu.Unlock()
		return nil, nil, c, false
	}
	if s.shardIndex(c.UserID) == i {
		// NewChallengeID put the challenge in its user's shard.
		return csh, csh, c, true
	}
	// The user's shard may come before the challenge's in the lock
	// order: lock both in order, and read the challenge again.
	csh.mu.Unlock()
	csh, ush = s.lockPair(id, c.UserID)
	c, ok = csh.challenges[id]
	if !ok {
		unlockPair(csh, ush)
		return nil, nil, c, false
	}
	return csh, ush, c, true
}

// lockPair locks the shard of a challenge and the shard of a user, the one
// with the lower index first. Because every caller locks a pair in that
// order, no two calls deadlock. The two may be the same shard.
func (s *Store) lockPair(challengeID, userID string) (csh, ush *shard) {
	i, j := s.challengeShardIndex(challengeID), s.shardIndex(userID)
	csh, ush = &s.shards[i], &s.shards[j]
	switch {
	case i == j:
		csh.mu.Lock()
	case i < j:
		csh.mu.Lock()
		ush.mu.Lock()
	default:
		ush.mu.Lock()
		csh.mu.Lock()
	}
	return csh, ush
}

func unlockPair(csh, ush *shard) {
	csh.mu.Unlock()
	if ush != csh {
		ush.mu.Unlock()
	}
}

// pendingChallenge returns the challenge with the ID when it belongs to
// the user and is code-pending. It returns ErrNotFound when the challenge
// is missing or belongs to another user, and ErrConflict when it is in
// another state.
func (sh *shard) pendingChallenge(id, userID string) (twofactor.Challenge, error) {
	c, ok := sh.challenges[id]
	if !ok || c.UserID != userID {
		return twofactor.Challenge{}, twofactor.ErrNotFound
	}
	if c.State != twofactor.StateCodePending {
		return twofactor.Challenge{}, twofactor.ErrConflict
	}
	return c, nil
}

// succeed moves a code-pending challenge of the shard to succeeded.
func (sh *shard) succeed(c twofactor.Challenge) {
	c.State = twofactor.StateSucceeded
	sh.challenges[c.ID] = c
}

// CreateChallenge implements [twofactor.ChallengeStore].
func (s *Store) CreateChallenge(ctx context.Context, c twofactor.Challenge) error {
	sh := &s.shards[s.challengeShardIndex(c.ID)]
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
	sh := &s.shards[s.challengeShardIndex(id)]
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
	sh := &s.shards[s.challengeShardIndex(id)]
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
func (s *Store) ConsumeBackupCode(ctx context.Context, challengeID, userID string, hash []byte, now time.Time) (twofactor.BackupCode, error) {
	csh, ush := s.lockPair(challengeID, userID)
	defer unlockPair(csh, ush)
	ch, err := csh.pendingChallenge(challengeID, userID)
	if err != nil {
		return twofactor.BackupCode{}, err
	}
	c, ok := ush.backupCodes[userID]
	if !ok || !now.Before(c.ExpiresAt) || subtle.ConstantTimeCompare(c.Hash, hash) != 1 {
		return twofactor.BackupCode{}, twofactor.ErrNotFound
	}
	delete(ush.backupCodes, userID)
	if u, ok := ush.users[userID]; ok && u.failures != 0 {
		u.failures = 0
		ush.deleteIfUnused(userID)
	}
	csh.succeed(ch)
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
