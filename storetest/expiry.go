package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
)

func expiryCases() []Case {
	return []Case{
		{
			Name: "SubMicrosecondExpiry",
			Rule: "a record that expired at or a fraction of a microsecond before now is absent, whatever the year",
			Test: func(t *testing.T, s twofactor.Store) {
				instants := []time.Time{
					base.Add(700 * time.Nanosecond),
					time.Date(1969, 12, 31, 23, 59, 59, 999_999_700, time.UTC),
					time.Date(1, 1, 1, 0, 0, 0, 700, time.UTC),
					time.Date(2500, 1, 1, 0, 0, 0, 700, time.UTC),
				}
				for i, now := range instants {
					offsets := []time.Duration{-400 * time.Nanosecond, 0, -time.Microsecond}
					for j, offset := range offsets {
						checkExpiredAbsent(t, s, fmt.Sprintf("u%d-%d", i, j), now.Add(offset), now)
					}
				}
			},
		},
	}
}

// checkExpiredAbsent stores a set-up, a challenge, a backup code and a
// device of user that expire at expires, and checks that every method
// treats them as absent at now. The backup code is tried on a second
// challenge that has not expired.
func checkExpiredAbsent(t *testing.T, s twofactor.Store, user string, expires, now time.Time) {
	t.Helper()
	must(t, "PutSetup", s.PutSetup(ctx(t), twofactor.Setup{ID: "s1", UserID: user, Secret: []byte("x"), ExpiresAt: expires}))
	must(t, "PutBackupCode", s.PutBackupCode(ctx(t), twofactor.BackupCode{UserID: user, Hash: []byte("h"), ExpiresAt: expires}))
	must(t, "PutDevice", s.PutDevice(ctx(t), twofactor.Device{ID: "d1", UserID: user, TokenHash: []byte("t"), CreatedAt: expires.Add(-time.Hour), ExpiresAt: expires}))
	expired := twofactor.Challenge{
		ID:        challengeID(s, user, "expired-"+user),
		UserID:    user,
		Role:      twofactor.RoleAgent,
		State:     twofactor.StateCodePending,
		CreatedAt: expires.Add(-70 * time.Minute),
		Deadline:  expires.Add(-time.Hour),
		ExpiresAt: expires,
	}
	must(t, "CreateChallenge", s.CreateChallenge(ctx(t), expired))
	live := expired
	live.ID = challengeID(s, user, "live-"+user)
	live.CreatedAt, live.Deadline, live.ExpiresAt = now, now.Add(10*time.Minute), now.Add(70*time.Minute)
	must(t, "CreateChallenge", s.CreateChallenge(ctx(t), live))

	if _, err := s.GetSetup(ctx(t), user, now); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("GetSetup(expires %v, now %v) error = %v, want ErrNotFound", expires, now, err)
	}
	if _, err := s.ConfirmSetup(ctx(t), user, "s1", 1, now); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("ConfirmSetup(expires %v, now %v) error = %v, want ErrNotFound", expires, now, err)
	}
	if _, err := s.ReserveAttempt(ctx(t), expired.ID, 5, now, twofactor.Verdict{}); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("ReserveAttempt(expires %v, now %v) error = %v, want ErrNotFound", expires, now, err)
	}
	if _, err := s.ConsumeBackupCode(ctx(t), live.ID, user, []byte("h"), now); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("ConsumeBackupCode(expires %v, now %v) error = %v, want ErrNotFound", expires, now, err)
	}
	if c, err := s.GetChallenge(ctx(t), live.ID); err != nil || c.State != twofactor.StateCodePending {
		t.Errorf("challenge after ConsumeBackupCode of an expired code = %v, %v, want code-pending", c.State, err)
	}
	if _, err := s.UseDevice(ctx(t), user, []byte("t"), now); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("UseDevice(expires %v, now %v) error = %v, want ErrNotFound", expires, now, err)
	}
	list, err := s.ListDevices(ctx(t), user, now)
	must(t, "ListDevices", err)
	if len(list) != 0 {
		t.Errorf("ListDevices(expires %v, now %v) returned %d devices, want 0", expires, now, len(list))
	}
}
