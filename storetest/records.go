package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
)

func attemptCases() []Case {
	return []Case{
		{
			Name: "AccountZeroValue",
			Rule: "GetAccount returns the zero Account and no error for an unknown user",
			Test: func(t *testing.T, s twofactor.Store) {
				a, err := s.GetAccount(ctx(t), "nobody")
				must(t, "GetAccount", err)
				if a != (twofactor.Account{}) {
					t.Errorf("GetAccount(nobody) = %+v, want zero", a)
				}
			},
		},
		{
			Name: "ReserveAttemptNotEnrolled",
			Rule: "ReserveAttempt returns ErrNotFound and counts nothing for a user without an enrollment",
			Test: func(t *testing.T, s twofactor.Store) {
				if _, _, err := s.ReserveAttempt(ctx(t), "nobody", 5); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("ReserveAttempt(nobody) error = %v, want ErrNotFound", err)
				}
				if a, _ := s.GetAccount(ctx(t), "nobody"); a.Failures != 0 {
					t.Errorf("Failures = %d after ReserveAttempt without an enrollment, want 0", a.Failures)
				}
			},
		},
		{
			Name: "ReserveAttemptLoadsEnrollment",
			Rule: "ReserveAttempt returns the account after the change and the user's enrollment",
			Test: func(t *testing.T, s twofactor.Store) {
				want := enroll(t, s, "u1", 7)
				must(t, "Unlock", s.Unlock(ctx(t), "u1", base, true))
				a, e, err := s.ReserveAttempt(ctx(t), "u1", 5)
				must(t, "ReserveAttempt", err)
				if a.Failures != 1 || a.Generation != 1 || !a.ResetRequired || !a.UnlockedAt.Equal(base) {
					t.Errorf("account = %+v, want 1 failure, generation 1, reset required, unlocked at %v", a, base)
				}
				if e.UserID != "u1" || !bytes.Equal(e.Secret, want.Secret) || e.LastStep != 7 || e.Algorithm != want.Algorithm ||
					e.Digits != want.Digits || e.Period != want.Period || !e.ConfirmedAt.Equal(want.ConfirmedAt) {
					t.Errorf("enrollment = %+v, want %+v", e, want)
				}
			},
		},
		{
			Name: "ReserveAttemptLimit",
			Rule: "ReserveAttempt counts up to max and then returns ErrAttemptLimit without counting",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 1)
				for want := 1; want <= 3; want++ {
					a, _, err := s.ReserveAttempt(ctx(t), "u1", 3)
					must(t, "ReserveAttempt", err)
					if a.Failures != want {
						t.Errorf("ReserveAttempt = %d failures, want %d", a.Failures, want)
					}
				}
				a, _, err := s.ReserveAttempt(ctx(t), "u1", 3)
				if !errors.Is(err, twofactor.ErrAttemptLimit) || a.Failures != 3 {
					t.Errorf("ReserveAttempt past the limit = %d, %v, want 3, ErrAttemptLimit", a.Failures, err)
				}
				a, err = s.GetAccount(ctx(t), "u1")
				must(t, "GetAccount", err)
				if a.Failures != 3 {
					t.Errorf("Failures = %d, want 3", a.Failures)
				}
			},
		},
		{
			Name: "ReserveAttemptConcurrent",
			Rule: "concurrent ReserveAttempt calls never count past max",
			Test: func(t *testing.T, s twofactor.Store) {
				const max = 5
				enroll(t, s, "u1", 1)
				wins := countSuccesses(t, Concurrency, func() error {
					_, _, err := s.ReserveAttempt(ctx(t), "u1", max)
					return err
				}, twofactor.ErrAttemptLimit)
				if wins != max {
					t.Errorf("%d of %d concurrent reservations succeeded, want %d", wins, Concurrency, max)
				}
				a, err := s.GetAccount(ctx(t), "u1")
				must(t, "GetAccount", err)
				if a.Failures != max {
					t.Errorf("Failures = %d, want %d", a.Failures, max)
				}
			},
		},
		{
			Name: "ReleaseAttempt",
			Rule: "ReleaseAttempt subtracts one down to zero, per user",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 1)
				enroll(t, s, "u2", 1)
				for range 2 {
					_, _, err := s.ReserveAttempt(ctx(t), "u1", 5)
					must(t, "ReserveAttempt", err)
				}
				_, _, err := s.ReserveAttempt(ctx(t), "u2", 5)
				must(t, "ReserveAttempt u2", err)
				must(t, "ReleaseAttempt", s.ReleaseAttempt(ctx(t), "u1"))
				if a, _ := s.GetAccount(ctx(t), "u1"); a.Failures != 1 {
					t.Errorf("after release Failures = %d, want 1", a.Failures)
				}
				must(t, "ReleaseAttempt", s.ReleaseAttempt(ctx(t), "u1"))
				must(t, "ReleaseAttempt at zero", s.ReleaseAttempt(ctx(t), "u1"))
				must(t, "ReleaseAttempt unknown", s.ReleaseAttempt(ctx(t), "nobody"))
				if a, _ := s.GetAccount(ctx(t), "u1"); a.Failures != 0 {
					t.Errorf("after releasing everything Failures = %d, want 0", a.Failures)
				}
				if a, _ := s.GetAccount(ctx(t), "u2"); a.Failures != 1 {
					t.Errorf("other user's Failures = %d, want 1", a.Failures)
				}
			},
		},
		{
			Name: "AcceptStepClearsFailures",
			Rule: "AcceptStep sets the failure count to zero when it accepts, and leaves it when it rejects",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 10)
				for range 3 {
					_, _, err := s.ReserveAttempt(ctx(t), "u1", 5)
					must(t, "ReserveAttempt", err)
				}
				if err := s.AcceptStep(ctx(t), "u1", 10); !errors.Is(err, twofactor.ErrStepUsed) {
					t.Fatalf("AcceptStep(10) error = %v, want ErrStepUsed", err)
				}
				if a, _ := s.GetAccount(ctx(t), "u1"); a.Failures != 3 {
					t.Errorf("Failures after a rejected step = %d, want 3", a.Failures)
				}
				must(t, "AcceptStep", s.AcceptStep(ctx(t), "u1", 11))
				if a, _ := s.GetAccount(ctx(t), "u1"); a.Failures != 0 {
					t.Errorf("Failures after an accepted step = %d, want 0", a.Failures)
				}
			},
		},
		{
			Name: "UnlockGeneration",
			Rule: "Unlock clears failures, sets UnlockedAt and ResetRequired, and adds one to Generation",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 1)
				for range 5 {
					_, _, err := s.ReserveAttempt(ctx(t), "u1", 5)
					must(t, "ReserveAttempt", err)
				}
				must(t, "Unlock", s.Unlock(ctx(t), "u1", base, true))
				a, err := s.GetAccount(ctx(t), "u1")
				must(t, "GetAccount", err)
				if a.Failures != 0 || a.Generation != 1 || !a.UnlockedAt.Equal(base) || !a.ResetRequired {
					t.Errorf("after Unlock = %+v, want 0 failures, generation 1, unlocked at %v, reset required", a, base)
				}
				must(t, "ClearResetRequired", s.ClearResetRequired(ctx(t), "u1"))
				must(t, "Unlock", s.Unlock(ctx(t), "u1", base.Add(time.Hour), false))
				a, err = s.GetAccount(ctx(t), "u1")
				must(t, "GetAccount", err)
				if a.Generation != 2 || a.ResetRequired {
					t.Errorf("after second Unlock = %+v, want generation 2 and no reset required", a)
				}
			},
		},
	}
}

func newChallenge(id string) twofactor.Challenge {
	return twofactor.Challenge{
		ID:           id,
		UserID:       "u1",
		Role:         twofactor.RoleSuperAgent,
		State:        twofactor.StateCodePending,
		TrustAllowed: true,
		Generation:   3,
		CreatedAt:    base,
		Deadline:     base.Add(10 * time.Minute),
		ExpiresAt:    base.Add(70 * time.Minute),
	}
}

func challengeCases() []Case {
	return []Case{
		{
			Name: "ChallengeRoundTrip",
			Rule: "GetChallenge returns every field that CreateChallenge stored, and ErrNotFound for an unknown ID",
			Test: func(t *testing.T, s twofactor.Store) {
				want := newChallenge("c1")
				must(t, "CreateChallenge", s.CreateChallenge(ctx(t), want))
				got, err := s.GetChallenge(ctx(t), "c1")
				must(t, "GetChallenge", err)
				if got.ID != want.ID || got.UserID != want.UserID || got.Role != want.Role || got.State != want.State ||
					got.TrustAllowed != want.TrustAllowed || got.Generation != want.Generation ||
					!got.CreatedAt.Equal(want.CreatedAt) || !got.Deadline.Equal(want.Deadline) || !got.ExpiresAt.Equal(want.ExpiresAt) {
					t.Errorf("GetChallenge = %+v, want %+v", got, want)
				}
				if _, err := s.GetChallenge(ctx(t), "unknown"); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("GetChallenge(unknown) error = %v, want ErrNotFound", err)
				}
			},
		},
		{
			Name: "UpdateChallengeCompare",
			Rule: "UpdateChallenge moves the state only from the expected one",
			Test: func(t *testing.T, s twofactor.Store) {
				must(t, "CreateChallenge", s.CreateChallenge(ctx(t), newChallenge("c1")))
				err := s.UpdateChallenge(ctx(t), "c1", twofactor.StateSucceeded, twofactor.StateLocked)
				if !errors.Is(err, twofactor.ErrConflict) {
					t.Errorf("UpdateChallenge from a wrong state error = %v, want ErrConflict", err)
				}
				must(t, "UpdateChallenge", s.UpdateChallenge(ctx(t), "c1", twofactor.StateCodePending, twofactor.StateSucceeded))
				got, err := s.GetChallenge(ctx(t), "c1")
				must(t, "GetChallenge", err)
				if got.State != twofactor.StateSucceeded {
					t.Errorf("State = %v, want succeeded", got.State)
				}
				err = s.UpdateChallenge(ctx(t), "unknown", twofactor.StateCodePending, twofactor.StateSucceeded)
				if !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("UpdateChallenge(unknown) error = %v, want ErrNotFound", err)
				}
			},
		},
		{
			Name: "UpdateChallengeConcurrent",
			Rule: "of many concurrent moves out of one state, exactly one succeeds",
			Test: func(t *testing.T, s twofactor.Store) {
				must(t, "CreateChallenge", s.CreateChallenge(ctx(t), newChallenge("c1")))
				wins := countSuccesses(t, Concurrency, func() error {
					return s.UpdateChallenge(ctx(t), "c1", twofactor.StateCodePending, twofactor.StateSucceeded)
				}, twofactor.ErrConflict)
				if wins != 1 {
					t.Errorf("%d concurrent updates succeeded, want 1", wins)
				}
			},
		},
	}
}

func newBackupCode(userID string, hash string) twofactor.BackupCode {
	return twofactor.BackupCode{
		UserID:    userID,
		Hash:      []byte(hash),
		IssuedBy:  "admin",
		CreatedAt: base,
		ExpiresAt: base.Add(30 * time.Minute),
	}
}

func backupCodeCases() []Case {
	return []Case{
		{
			Name: "BackupCodeOnce",
			Rule: "ConsumeBackupCode returns the code once, and a wrong hash leaves it in place",
			Test: func(t *testing.T, s twofactor.Store) {
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", "hash-1")))
				if _, err := s.ConsumeBackupCode(ctx(t), "u1", []byte("wrong"), base); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("wrong hash error = %v, want ErrNotFound", err)
				}
				if _, err := s.ConsumeBackupCode(ctx(t), "u2", []byte("hash-1"), base); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("another user's hash error = %v, want ErrNotFound", err)
				}
				got, err := s.ConsumeBackupCode(ctx(t), "u1", []byte("hash-1"), base)
				must(t, "ConsumeBackupCode", err)
				if got.IssuedBy != "admin" || got.UserID != "u1" || !got.CreatedAt.Equal(base) {
					t.Errorf("ConsumeBackupCode = %+v, want the stored fields", got)
				}
				if _, err := s.ConsumeBackupCode(ctx(t), "u1", []byte("hash-1"), base); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("second use error = %v, want ErrNotFound", err)
				}
			},
		},
		{
			Name: "BackupCodeClearsFailures",
			Rule: "ConsumeBackupCode sets the failure count to zero when it succeeds, and leaves it when it fails",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 1)
				for range 3 {
					_, _, err := s.ReserveAttempt(ctx(t), "u1", 5)
					must(t, "ReserveAttempt", err)
				}
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", "h")))
				if _, err := s.ConsumeBackupCode(ctx(t), "u1", []byte("wrong"), base); !errors.Is(err, twofactor.ErrNotFound) {
					t.Fatalf("wrong hash error = %v, want ErrNotFound", err)
				}
				if a, _ := s.GetAccount(ctx(t), "u1"); a.Failures != 3 {
					t.Errorf("Failures after a wrong backup code = %d, want 3", a.Failures)
				}
				_, err := s.ConsumeBackupCode(ctx(t), "u1", []byte("h"), base)
				must(t, "ConsumeBackupCode", err)
				if a, _ := s.GetAccount(ctx(t), "u1"); a.Failures != 0 {
					t.Errorf("Failures after a backup code = %d, want 0", a.Failures)
				}
			},
		},
		{
			Name: "BackupCodeExpiry",
			Rule: "a backup code works just before ExpiresAt and not at it",
			Test: func(t *testing.T, s twofactor.Store) {
				c := newBackupCode("u1", "h")
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), c))
				if _, err := s.ConsumeBackupCode(ctx(t), "u1", c.Hash, c.ExpiresAt); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("use at expiry error = %v, want ErrNotFound", err)
				}
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), c))
				if _, err := s.ConsumeBackupCode(ctx(t), "u1", c.Hash, c.ExpiresAt.Add(-time.Microsecond)); err != nil {
					t.Errorf("use just before expiry: %v", err)
				}
			},
		},
		{
			Name: "BackupCodeSuperseded",
			Rule: "PutBackupCode replaces the user's earlier code at once; DeleteBackupCode is idempotent",
			Test: func(t *testing.T, s twofactor.Store) {
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", "old")))
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", "new")))
				if _, err := s.ConsumeBackupCode(ctx(t), "u1", []byte("old"), base); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("superseded code error = %v, want ErrNotFound", err)
				}
				must(t, "DeleteBackupCode", s.DeleteBackupCode(ctx(t), "u1"))
				must(t, "DeleteBackupCode again", s.DeleteBackupCode(ctx(t), "u1"))
				if _, err := s.ConsumeBackupCode(ctx(t), "u1", []byte("new"), base); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("deleted code error = %v, want ErrNotFound", err)
				}
			},
		},
		{
			Name: "BackupCodeConcurrent",
			Rule: "of many concurrent uses of one backup code, exactly one succeeds",
			Test: func(t *testing.T, s twofactor.Store) {
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", "h")))
				wins := countSuccesses(t, Concurrency, func() error {
					_, err := s.ConsumeBackupCode(ctx(t), "u1", []byte("h"), base)
					return err
				}, twofactor.ErrNotFound)
				if wins != 1 {
					t.Errorf("%d concurrent uses succeeded, want 1", wins)
				}
			},
		},
	}
}

func newDevice(userID, id string, created time.Time) twofactor.Device {
	return twofactor.Device{
		ID:        id,
		UserID:    userID,
		TokenHash: []byte("hash-" + userID + "-" + id),
		Label:     "Firefox on " + id,
		CreatedAt: created,
		LastUsed:  created,
		ExpiresAt: created.Add(14 * 24 * time.Hour),
	}
}

func deviceCases() []Case {
	return []Case{
		{
			Name: "DeviceUse",
			Rule: "UseDevice finds a user's device by hash, sets LastUsed, and treats it as absent at ExpiresAt",
			Test: func(t *testing.T, s twofactor.Store) {
				d := newDevice("u1", "d1", base)
				must(t, "PutDevice", s.PutDevice(ctx(t), d))
				later := base.Add(time.Hour)
				got, err := s.UseDevice(ctx(t), "u1", d.TokenHash, later)
				must(t, "UseDevice", err)
				if got.ID != "d1" || got.UserID != "u1" || got.Label != d.Label || !got.LastUsed.Equal(later) ||
					!got.CreatedAt.Equal(base) || !got.ExpiresAt.Equal(d.ExpiresAt) || !bytes.Equal(got.TokenHash, d.TokenHash) {
					t.Errorf("UseDevice = %+v, want %+v with LastUsed %v", got, d, later)
				}
				if _, err := s.UseDevice(ctx(t), "u2", d.TokenHash, later); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("UseDevice by another user error = %v, want ErrNotFound", err)
				}
				if _, err := s.UseDevice(ctx(t), "u1", []byte("unknown"), later); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("UseDevice(unknown) error = %v, want ErrNotFound", err)
				}
				if _, err := s.UseDevice(ctx(t), "u1", d.TokenHash, d.ExpiresAt.Add(-time.Microsecond)); err != nil {
					t.Errorf("UseDevice just before expiry: %v", err)
				}
				if _, err := s.UseDevice(ctx(t), "u1", d.TokenHash, d.ExpiresAt); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("UseDevice at expiry error = %v, want ErrNotFound", err)
				}
			},
		},
		{
			Name: "DeviceListAndDelete",
			Rule: "ListDevices returns one user's unexpired devices newest first; DeleteDevice spares other users",
			Test: func(t *testing.T, s twofactor.Store) {
				for i := range 3 {
					must(t, "PutDevice", s.PutDevice(ctx(t), newDevice("u1", fmt.Sprintf("d%d", i), base.Add(time.Duration(i)*time.Hour))))
				}
				must(t, "PutDevice", s.PutDevice(ctx(t), newDevice("u2", "d0", base)))
				expired := newDevice("u1", "old", base.Add(-15*24*time.Hour))
				must(t, "PutDevice", s.PutDevice(ctx(t), expired))
				list, err := s.ListDevices(ctx(t), "u1", base.Add(3*time.Hour))
				must(t, "ListDevices", err)
				if got := deviceIDs(list); got != "[d2 d1 d0]" {
					t.Errorf("ListDevices = %s, want [d2 d1 d0]", got)
				}
				must(t, "DeleteDevice", s.DeleteDevice(ctx(t), "u1", "d1"))
				must(t, "DeleteDevice again", s.DeleteDevice(ctx(t), "u1", "d1"))
				must(t, "DeleteDevice of another user", s.DeleteDevice(ctx(t), "u1", "d9"))
				list, err = s.ListDevices(ctx(t), "u1", base.Add(3*time.Hour))
				must(t, "ListDevices", err)
				if got := deviceIDs(list); got != "[d2 d0]" {
					t.Errorf("after DeleteDevice = %s, want [d2 d0]", got)
				}
				list, err = s.ListDevices(ctx(t), "u2", base)
				must(t, "ListDevices u2", err)
				if got := deviceIDs(list); got != "[d0]" {
					t.Errorf("u2 devices = %s, want [d0]", got)
				}
				must(t, "DeleteDevices", s.DeleteDevices(ctx(t), "u1"))
				list, err = s.ListDevices(ctx(t), "u1", base)
				must(t, "ListDevices", err)
				if len(list) != 0 {
					t.Errorf("after DeleteDevices = %s, want none", deviceIDs(list))
				}
				if _, err := s.UseDevice(ctx(t), "u2", newDevice("u2", "d0", base).TokenHash, base); err != nil {
					t.Errorf("u2's device gone after u1's DeleteDevices: %v", err)
				}
			},
		},
	}
}

func deviceIDs(ds []twofactor.Device) string {
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	return fmt.Sprint(ids)
}
