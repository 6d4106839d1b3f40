package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
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
			Name: "ReserveAttemptNotFound",
			Rule: "ReserveAttempt returns ErrNotFound and counts nothing for a missing challenge or one whose ExpiresAt is at or before now",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 1)
				c := startChallenge(t, s, "c1", "u1", 0)
				if _, err := s.ReserveAttempt(ctx(t), "unknown", 5, base, twofactor.Verdict{}); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("ReserveAttempt(unknown) error = %v, want ErrNotFound", err)
				}
				for _, now := range []time.Time{c.ExpiresAt, c.ExpiresAt.Add(time.Microsecond), c.ExpiresAt.Add(24 * time.Hour)} {
					if _, err := s.ReserveAttempt(ctx(t), c.ID, 5, now, twofactor.Verdict{}); !errors.Is(err, twofactor.ErrNotFound) {
						t.Errorf("ReserveAttempt at %v, challenge expires at %v: error = %v, want ErrNotFound", now, c.ExpiresAt, err)
					}
				}
				wantFailures(t, s, "u1", 0, "ReserveAttempt on a missing or expired challenge")
				a, err := s.ReserveAttempt(ctx(t), c.ID, 5, c.ExpiresAt.Add(-time.Microsecond), twofactor.Verdict{})
				must(t, "ReserveAttempt just before ExpiresAt", err)
				if a.Challenge.ID != c.ID {
					t.Errorf("ReserveAttempt just before ExpiresAt returned challenge %q, want %q", a.Challenge.ID, c.ID)
				}
			},
		},
		{
			Name: "ReserveAttemptNotEnrolled",
			Rule: "ReserveAttempt reserves nothing for a user without an enrollment, and returns the challenge, the account and an Enrollment with an empty UserID",
			Test: func(t *testing.T, s twofactor.Store) {
				// User "nobody" has no records. User u2 has an account
				// from an Unlock but no enrollment. User u3 enrolled and
				// turned 2FA off.
				must(t, "Unlock u2", s.Unlock(ctx(t), "u2", base, true))
				enroll(t, s, "u3", 1)
				must(t, "DeleteEnrollment u3", s.DeleteEnrollment(ctx(t), "u3"))
				tests := []struct {
					user       string
					generation int64
					account    twofactor.Account
				}{
					{"nobody", 0, twofactor.Account{}},
					{"u2", 1, twofactor.Account{Generation: 1, UnlockedAt: base, ResetRequired: true}},
					{"u3", 0, twofactor.Account{}},
				}
				for _, tt := range tests {
					c := startChallenge(t, s, "c-"+tt.user, tt.user, tt.generation)
					a, err := s.ReserveAttempt(ctx(t), c.ID, 5, base, twofactor.Verdict{})
					must(t, "ReserveAttempt "+tt.user, err)
					if a.Reserved {
						t.Errorf("ReserveAttempt for %s without an enrollment reserved an attempt", tt.user)
					}
					if a.Enrollment.UserID != "" {
						t.Errorf("ReserveAttempt for %s returned an enrollment of %q, want an empty UserID", tt.user, a.Enrollment.UserID)
					}
					if !sameChallenge(a.Challenge, c) {
						t.Errorf("ReserveAttempt for %s returned challenge %+v, want %+v", tt.user, a.Challenge, c)
					}
					if !sameAccount(a.Account, tt.account) {
						t.Errorf("ReserveAttempt for %s returned account %+v, want %+v", tt.user, a.Account, tt.account)
					}
					wantFailures(t, s, tt.user, 0, "ReserveAttempt without an enrollment")
					wantState(t, s, c.ID, twofactor.StateCodePending, "ReserveAttempt without an enrollment")
				}
			},
		},
		{
			Name: "ReserveAttemptLoadsEnrollment",
			Rule: "ReserveAttempt that reserves returns the challenge as before the call, the account after the change and the user's enrollment",
			Test: func(t *testing.T, s twofactor.Store) {
				want := enroll(t, s, "u1", 7)
				must(t, "Unlock", s.Unlock(ctx(t), "u1", base, true))
				c := startChallenge(t, s, "c1", "u1", 1)
				a, err := s.ReserveAttempt(ctx(t), c.ID, 5, base, twofactor.Verdict{})
				must(t, "ReserveAttempt", err)
				if !a.Reserved {
					t.Errorf("ReserveAttempt reserved no attempt")
				}
				if !sameChallenge(a.Challenge, c) {
					t.Errorf("challenge = %+v, want %+v", a.Challenge, c)
				}
				acct := a.Account
				if acct.Failures != 1 || acct.Generation != 1 || !acct.ResetRequired || !acct.UnlockedAt.Equal(base) {
					t.Errorf("account = %+v, want 1 failure, generation 1, reset required, unlocked at %v", acct, base)
				}
				e := a.Enrollment
				if e.UserID != "u1" || !bytes.Equal(e.Secret, want.Secret) || e.LastStep != 7 || e.Algorithm != want.Algorithm ||
					e.Digits != want.Digits || e.Period != want.Period || !e.ConfirmedAt.Equal(want.ConfirmedAt) {
					t.Errorf("enrollment = %+v, want %+v", e, want)
				}
			},
		},
		{
			Name: "ReserveAttemptClosedChallenge",
			Rule: "ReserveAttempt reserves nothing on a challenge that is not code-pending, and returns the challenge, the account and the enrollment",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 7)
				reserveN(t, s, startChallenge(t, s, "open", "u1", 0).ID, 1)
				for _, state := range closedStates {
					c := challengeFor(s, "c-"+state.String(), "u1", 0)
					c.State = state
					must(t, "CreateChallenge", s.CreateChallenge(ctx(t), c))
					a, err := s.ReserveAttempt(ctx(t), c.ID, 5, base, twofactor.Verdict{})
					must(t, "ReserveAttempt on a "+state.String()+" challenge", err)
					checkUnreserved(t, a, c, "u1", 1)
				}
				moved := startChallenge(t, s, "moved", "u1", 0)
				must(t, "UpdateChallenge", s.UpdateChallenge(ctx(t), moved.ID, twofactor.StateCodePending, twofactor.StateSucceeded))
				moved.State = twofactor.StateSucceeded
				a, err := s.ReserveAttempt(ctx(t), moved.ID, 5, base, twofactor.Verdict{})
				must(t, "ReserveAttempt on a challenge that UpdateChallenge closed", err)
				checkUnreserved(t, a, moved, "u1", 1)
				wantFailures(t, s, "u1", 1, "ReserveAttempt on closed challenges")
			},
		},
		{
			Name: "ReserveAttemptDeadline",
			Rule: "ReserveAttempt reserves just before the challenge's Deadline and nothing at or after it, where it still returns the challenge and the enrollment",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 7)
				c := startChallenge(t, s, "c1", "u1", 0)
				for _, now := range []time.Time{c.Deadline, c.Deadline.Add(time.Minute)} {
					a, err := s.ReserveAttempt(ctx(t), c.ID, 5, now, twofactor.Verdict{})
					must(t, "ReserveAttempt at or after the deadline", err)
					checkUnreserved(t, a, c, "u1", 0)
				}
				wantFailures(t, s, "u1", 0, "ReserveAttempt at the deadline")
				a, err := s.ReserveAttempt(ctx(t), c.ID, 5, c.Deadline.Add(-time.Microsecond), twofactor.Verdict{})
				must(t, "ReserveAttempt just before the deadline", err)
				if !a.Reserved || a.Account.Failures != 1 {
					t.Errorf("ReserveAttempt just before the deadline = reserved %v, %d failures, want reserved, 1", a.Reserved, a.Account.Failures)
				}
			},
		},
		{
			Name: "ReserveAttemptGeneration",
			Rule: "ReserveAttempt reserves nothing on a challenge whose Generation differs from the account's, as after an Unlock",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 7)
				before := startChallenge(t, s, "before", "u1", 0)
				reserveN(t, s, before.ID, 2)
				must(t, "Unlock", s.Unlock(ctx(t), "u1", base, false))
				a, err := s.ReserveAttempt(ctx(t), before.ID, 5, base, twofactor.Verdict{})
				must(t, "ReserveAttempt on a challenge from before the unlock", err)
				checkUnreserved(t, a, before, "u1", 0)
				if a.Account.Generation != 1 {
					t.Errorf("account Generation = %d, want 1", a.Account.Generation)
				}
				ahead := startChallenge(t, s, "ahead", "u1", 2)
				a, err = s.ReserveAttempt(ctx(t), ahead.ID, 5, base, twofactor.Verdict{})
				must(t, "ReserveAttempt on a challenge of a later generation", err)
				checkUnreserved(t, a, ahead, "u1", 0)
				wantFailures(t, s, "u1", 0, "ReserveAttempt with another generation")

				after := startChallenge(t, s, "after", "u1", 1)
				a, err = s.ReserveAttempt(ctx(t), after.ID, 5, base, twofactor.Verdict{})
				must(t, "ReserveAttempt on a challenge from after the unlock", err)
				if !a.Reserved || a.Account.Failures != 1 {
					t.Errorf("ReserveAttempt after the unlock = reserved %v, %d failures, want reserved, 1", a.Reserved, a.Account.Failures)
				}
			},
		},
		{
			Name: "ReserveAttemptLimit",
			Rule: "ReserveAttempt counts up to max and then reserves nothing, on any challenge of the user, returning the account with max failures",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 1)
				c := startChallenge(t, s, "c1", "u1", 0)
				for want := 1; want <= 3; want++ {
					a, err := s.ReserveAttempt(ctx(t), c.ID, 3, base, twofactor.Verdict{})
					must(t, "ReserveAttempt", err)
					if !a.Reserved || a.Account.Failures != want {
						t.Errorf("ReserveAttempt = reserved %v, %d failures, want reserved, %d", a.Reserved, a.Account.Failures, want)
					}
				}
				other := startChallenge(t, s, "c2", "u1", 0)
				for _, ch := range []twofactor.Challenge{c, other} {
					a, err := s.ReserveAttempt(ctx(t), ch.ID, 3, base, twofactor.Verdict{})
					must(t, "ReserveAttempt past the limit", err)
					checkUnreserved(t, a, ch, "u1", 3)
				}
				wantFailures(t, s, "u1", 3, "ReserveAttempt past the limit")
				a, err := s.ReserveAttempt(ctx(t), c.ID, 4, base, twofactor.Verdict{})
				must(t, "ReserveAttempt with a higher max", err)
				if !a.Reserved || a.Account.Failures != 4 {
					t.Errorf("ReserveAttempt with max 4 after 3 = reserved %v, %d failures, want reserved, 4", a.Reserved, a.Account.Failures)
				}
			},
		},
		{
			Name: "ReserveAttemptConcurrent",
			Rule: "of many concurrent ReserveAttempt calls on one challenge, exactly max reserve an attempt",
			Test: func(t *testing.T, s twofactor.Store) {
				const max = 5
				enroll(t, s, "u1", 1)
				c := startChallenge(t, s, "c1", "u1", 0)
				wins := countSuccesses(t, Concurrency, func() error {
					return reserveOrErr(t, s, c.ID, max)
				}, errNotReserved)
				if wins != max {
					t.Errorf("%d of %d concurrent reservations succeeded, want %d", wins, Concurrency, max)
				}
				wantFailures(t, s, "u1", max, "concurrent reservations")
			},
		},
		{
			Name: "ReleaseAttempt",
			Rule: "ReleaseAttempt subtracts one down to zero, per user",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 1)
				enroll(t, s, "u2", 1)
				reserveN(t, s, startChallenge(t, s, "c1", "u1", 0).ID, 2)
				reserveN(t, s, startChallenge(t, s, "c2", "u2", 0).ID, 1)
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
				c := startChallenge(t, s, "c1", "u1", 0)
				reserveN(t, s, c.ID, 3)
				if err := s.AcceptStep(ctx(t), c.ID, "u1", 10); !errors.Is(err, twofactor.ErrStepUsed) {
					t.Fatalf("AcceptStep(10) error = %v, want ErrStepUsed", err)
				}
				if a, _ := s.GetAccount(ctx(t), "u1"); a.Failures != 3 {
					t.Errorf("Failures after a rejected step = %d, want 3", a.Failures)
				}
				must(t, "AcceptStep", s.AcceptStep(ctx(t), c.ID, "u1", 11))
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
				reserveN(t, s, startChallenge(t, s, "c1", "u1", 0).ID, 5)
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

// errNotReserved is the error of reserveOrErr for a call that reserved no
// attempt, so that countSuccesses counts only reservations.
var errNotReserved = errors.New("storetest: no attempt reserved")

// reserveOrErr calls ReserveAttempt on the challenge at base, and returns
// its error, errNotReserved when it reserved nothing, or nil.
func reserveOrErr(t *testing.T, s twofactor.Store, challengeID string, max int) error {
	a, err := s.ReserveAttempt(ctx(t), challengeID, max, base, twofactor.Verdict{})
	if err != nil {
		return err
	}
	if !a.Reserved {
		return errNotReserved
	}
	if a.Account.Failures > max {
		return fmt.Errorf("ReserveAttempt reserved an attempt and returned %d failures, more than max %d", a.Account.Failures, max)
	}
	return nil
}

// reserveN reserves n attempts on the challenge at base, with max 5, and
// fails the test unless each call reserves one.
func reserveN(t *testing.T, s twofactor.Store, challengeID string, n int) {
	t.Helper()
	for i := range n {
		a, err := s.ReserveAttempt(ctx(t), challengeID, 5, base, twofactor.Verdict{})
		must(t, "ReserveAttempt", err)
		if !a.Reserved {
			t.Fatalf("ReserveAttempt %d of %d on challenge %q reserved nothing: %+v", i+1, n, challengeID, a)
		}
	}
}

// checkUnreserved fails the test unless a is the result of a ReserveAttempt
// that reserved nothing on want, a challenge of the enrolled user, and
// whose failure count is failures.
func checkUnreserved(t *testing.T, a twofactor.Attempt, want twofactor.Challenge, userID string, failures int) {
	t.Helper()
	if a.Reserved {
		t.Errorf("ReserveAttempt on challenge %q (%v, deadline %v) reserved an attempt, want none", want.ID, want.State, want.Deadline)
	}
	if !sameChallenge(a.Challenge, want) {
		t.Errorf("ReserveAttempt returned challenge %+v, want %+v", a.Challenge, want)
	}
	if a.Enrollment.UserID != userID {
		t.Errorf("ReserveAttempt on challenge %q returned the enrollment of %q, want %q", want.ID, a.Enrollment.UserID, userID)
	}
	if a.Account.Failures != failures {
		t.Errorf("ReserveAttempt on challenge %q returned %d failures, want %d", want.ID, a.Account.Failures, failures)
	}
}

// sameAccount reports whether two accounts are equal, comparing the times
// with Equal.
func sameAccount(a, b twofactor.Account) bool {
	return a.Failures == b.Failures && a.Generation == b.Generation &&
		a.UnlockedAt.Equal(b.UnlockedAt) && a.ResetRequired == b.ResetRequired
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

// challengeID returns the ID of the challenge of the user that a case
// calls name. On a store that implements [twofactor.ChallengeIDMaker] it
// is the store's ID for 16 bytes derived from the user and name, so that
// the challenge sits where the store keeps the user's challenges. On any
// other store it is name.
func challengeID(s twofactor.Store, userID, name string) string {
	maker, ok := s.(twofactor.ChallengeIDMaker)
	if !ok {
		return name
	}
	random := sha256.Sum256([]byte(userID + "\x00" + name))
	return maker.NewChallengeID(userID, random[:16])
}

// challengeFor returns a code-pending challenge of the user that began at
// the account generation, with the times of newChallenge: the deadline 10
// minutes and the expiry 70 minutes after base.
func challengeFor(s twofactor.Store, name, userID string, generation int64) twofactor.Challenge {
	c := newChallenge(challengeID(s, userID, name))
	c.UserID = userID
	c.Generation = generation
	return c
}

// startChallenge stores the challenge that challengeFor returns.
func startChallenge(t *testing.T, s twofactor.Store, name, userID string, generation int64) twofactor.Challenge {
	t.Helper()
	c := challengeFor(s, name, userID, generation)
	must(t, "CreateChallenge "+name, s.CreateChallenge(ctx(t), c))
	return c
}

// sameChallenge reports whether two challenges are equal, comparing the
// times with Equal.
func sameChallenge(a, b twofactor.Challenge) bool {
	return a.ID == b.ID && a.UserID == b.UserID && a.Role == b.Role && a.State == b.State &&
		a.TrustAllowed == b.TrustAllowed && a.Generation == b.Generation &&
		a.CreatedAt.Equal(b.CreatedAt) && a.Deadline.Equal(b.Deadline) && a.ExpiresAt.Equal(b.ExpiresAt)
}

// wantState fails the test unless the challenge with the ID is in the
// state. after names the calls before the check, for the message.
func wantState(t *testing.T, s twofactor.Store, id string, want twofactor.State, after string) {
	t.Helper()
	c, err := s.GetChallenge(ctx(t), id)
	if err != nil {
		t.Errorf("GetChallenge(%q) after %s: %v", id, after, err)
		return
	}
	if c.State != want {
		t.Errorf("challenge %q after %s is %v, want %v", id, after, c.State, want)
	}
}

// wantFailures fails the test unless the user's failure count is want.
func wantFailures(t *testing.T, s twofactor.Store, userID string, want int, after string) {
	t.Helper()
	a, err := s.GetAccount(ctx(t), userID)
	if err != nil {
		t.Errorf("GetAccount(%q) after %s: %v", userID, after, err)
		return
	}
	if a.Failures != want {
		t.Errorf("Failures of %q after %s = %d, want %d", userID, after, a.Failures, want)
	}
}

// wantLastStep fails the test unless the user's enrollment has LastStep
// want.
func wantLastStep(t *testing.T, s twofactor.Store, userID string, want int64, after string) {
	t.Helper()
	e, err := s.GetEnrollment(ctx(t), userID)
	if err != nil {
		t.Errorf("GetEnrollment(%q) after %s: %v", userID, after, err)
		return
	}
	if e.LastStep != want {
		t.Errorf("LastStep of %q after %s = %d, want %d", userID, after, e.LastStep, want)
	}
}

func challengeCases() []Case {
	return []Case{
		{
			Name: "ChallengeRoundTrip",
			Rule: "GetChallenge returns every field that CreateChallenge stored, and ErrNotFound for an unknown ID",
			Test: func(t *testing.T, s twofactor.Store) {
				want := newChallenge(challengeID(s, "u1", "c1"))
				must(t, "CreateChallenge", s.CreateChallenge(ctx(t), want))
				got, err := s.GetChallenge(ctx(t), want.ID)
				must(t, "GetChallenge", err)
				if !sameChallenge(got, want) {
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
				id := challengeID(s, "u1", "c1")
				must(t, "CreateChallenge", s.CreateChallenge(ctx(t), newChallenge(id)))
				err := s.UpdateChallenge(ctx(t), id, twofactor.StateSucceeded, twofactor.StateLocked)
				if !errors.Is(err, twofactor.ErrConflict) {
					t.Errorf("UpdateChallenge from a wrong state error = %v, want ErrConflict", err)
				}
				must(t, "UpdateChallenge", s.UpdateChallenge(ctx(t), id, twofactor.StateCodePending, twofactor.StateSucceeded))
				got, err := s.GetChallenge(ctx(t), id)
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
			Name: "ChallengeIDMakerForm",
			Rule: "NewChallengeID, when the store implements ChallengeIDMaker, returns printable ASCII that is a function of the user and every byte of random",
			Test: func(t *testing.T, s twofactor.Store) {
				maker, ok := s.(twofactor.ChallengeIDMaker)
				if !ok {
					t.Skip("the store does not implement twofactor.ChallengeIDMaker")
				}
				random := make([]byte, 16)
				for i := range random {
					random[i] = byte(0x5a + 13*i)
				}
				id := maker.NewChallengeID("u1", random)
				if id == "" {
					t.Fatalf("NewChallengeID returned an empty ID")
				}
				for i := 0; i < len(id); i++ {
					if id[i] < 0x20 || id[i] > 0x7e {
						t.Fatalf("NewChallengeID = %q, which has the byte %#x at %d, want printable ASCII", id, id[i], i)
					}
				}
				if again := maker.NewChallengeID("u1", slices.Clone(random)); again != id {
					t.Errorf("NewChallengeID with the same input = %q, then %q, want the same ID", id, again)
				}
				for i := range random {
					changed := slices.Clone(random)
					changed[i] ^= 0x01
					if other := maker.NewChallengeID("u1", changed); other == id {
						t.Errorf("NewChallengeID ignores byte %d of random: %q for both", i, id)
					}
				}
				must(t, "CreateChallenge", s.CreateChallenge(ctx(t), challengeFor(s, "c1", "u1", 0)))
				if _, err := s.GetChallenge(ctx(t), challengeID(s, "u1", "c1")); err != nil {
					t.Errorf("GetChallenge of a challenge with an ID from NewChallengeID: %v", err)
				}
			},
		},
		{
			Name: "UpdateChallengeConcurrent",
			Rule: "of many concurrent moves out of one state, exactly one succeeds",
			Test: func(t *testing.T, s twofactor.Store) {
				id := challengeID(s, "u1", "c1")
				must(t, "CreateChallenge", s.CreateChallenge(ctx(t), newChallenge(id)))
				wins := countSuccesses(t, Concurrency, func() error {
					return s.UpdateChallenge(ctx(t), id, twofactor.StateCodePending, twofactor.StateSucceeded)
				}, twofactor.ErrConflict)
				if wins != 1 {
					t.Errorf("%d concurrent updates succeeded, want 1", wins)
				}
			},
		},
	}
}

// closedStates are the states other than code-pending, in which a challenge
// takes no code.
var closedStates = []twofactor.State{
	twofactor.StateCredentialVerified,
	twofactor.StateSucceeded,
	twofactor.StateLocked,
	twofactor.StateTimedOut,
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
			Rule: "ConsumeBackupCode returns the code once, and a wrong hash or another user's hash leaves it in place",
			Test: func(t *testing.T, s twofactor.Store) {
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", "hash-1")))
				c := startChallenge(t, s, "c1", "u1", 0)
				if _, err := s.ConsumeBackupCode(ctx(t), c.ID, "u1", []byte("wrong"), base); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("wrong hash error = %v, want ErrNotFound", err)
				}
				other := startChallenge(t, s, "c2", "u2", 0)
				if _, err := s.ConsumeBackupCode(ctx(t), other.ID, "u2", []byte("hash-1"), base); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("another user's hash error = %v, want ErrNotFound", err)
				}
				got, err := s.ConsumeBackupCode(ctx(t), c.ID, "u1", []byte("hash-1"), base)
				must(t, "ConsumeBackupCode", err)
				if got.IssuedBy != "admin" || got.UserID != "u1" || !got.CreatedAt.Equal(base) {
					t.Errorf("ConsumeBackupCode = %+v, want the stored fields", got)
				}
				again := startChallenge(t, s, "c3", "u1", 0)
				if _, err := s.ConsumeBackupCode(ctx(t), again.ID, "u1", []byte("hash-1"), base); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("second use error = %v, want ErrNotFound", err)
				}
			},
		},
		{
			Name: "BackupCodeSignsIn",
			Rule: "ConsumeBackupCode that succeeds deletes and returns the code, sets the failure count to zero and moves the challenge to succeeded",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 1)
				want := newBackupCode("u1", "h")
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), want))
				c := startChallenge(t, s, "c1", "u1", 0)
				reserveN(t, s, c.ID, 3)
				got, err := s.ConsumeBackupCode(ctx(t), c.ID, "u1", []byte("h"), base)
				must(t, "ConsumeBackupCode", err)
				if got.UserID != want.UserID || !bytes.Equal(got.Hash, want.Hash) || got.IssuedBy != want.IssuedBy ||
					!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
					t.Errorf("ConsumeBackupCode = %+v, want %+v", got, want)
				}
				wantState(t, s, c.ID, twofactor.StateSucceeded, "ConsumeBackupCode")
				wantFailures(t, s, "u1", 0, "ConsumeBackupCode")
				wantLastStep(t, s, "u1", 1, "ConsumeBackupCode")
				other := startChallenge(t, s, "c2", "u1", 0)
				if _, err := s.ConsumeBackupCode(ctx(t), other.ID, "u1", []byte("h"), base); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("use of a spent code on another challenge error = %v, want ErrNotFound", err)
				}
				wantState(t, s, other.ID, twofactor.StateCodePending, "ConsumeBackupCode of a spent code")
			},
		},
		{
			Name: "BackupCodeClearsFailures",
			Rule: "ConsumeBackupCode sets the failure count to zero when it succeeds, and leaves it when it fails",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 1)
				c := startChallenge(t, s, "c1", "u1", 0)
				reserveN(t, s, c.ID, 3)
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", "h")))
				if _, err := s.ConsumeBackupCode(ctx(t), c.ID, "u1", []byte("wrong"), base); !errors.Is(err, twofactor.ErrNotFound) {
					t.Fatalf("wrong hash error = %v, want ErrNotFound", err)
				}
				if a, _ := s.GetAccount(ctx(t), "u1"); a.Failures != 3 {
					t.Errorf("Failures after a wrong backup code = %d, want 3", a.Failures)
				}
				_, err := s.ConsumeBackupCode(ctx(t), c.ID, "u1", []byte("h"), base)
				must(t, "ConsumeBackupCode", err)
				if a, _ := s.GetAccount(ctx(t), "u1"); a.Failures != 0 {
					t.Errorf("Failures after a backup code = %d, want 0", a.Failures)
				}
			},
		},
		{
			Name: "BackupCodeFailureChangesNothing",
			Rule: "ConsumeBackupCode that fails changes nothing and keeps the code: ErrNotFound for an expired code, a wrong hash, a missing challenge or another user's challenge, and ErrConflict for a challenge that is not code-pending",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 1)
				enroll(t, s, "u2", 1)
				code := newBackupCode("u1", "h")
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), code))
				c := startChallenge(t, s, "c1", "u1", 0)
				reserveN(t, s, c.ID, 2)
				states := map[string]twofactor.State{c.ID: twofactor.StateCodePending}
				ofU2 := startChallenge(t, s, "c-u2", "u2", 0)
				states[ofU2.ID] = twofactor.StateCodePending

				type call struct {
					name        string
					challengeID string
					hash        string
					now         time.Time
					want        error
				}
				calls := []call{
					{"expired code", c.ID, "h", code.ExpiresAt, twofactor.ErrNotFound},
					{"wrong hash", c.ID, "wrong", base, twofactor.ErrNotFound},
					{"missing challenge", "unknown", "h", base, twofactor.ErrNotFound},
					{"another user's challenge", ofU2.ID, "h", base, twofactor.ErrNotFound},
				}
				for _, state := range closedStates {
					closed := challengeFor(s, "c-"+state.String(), "u1", 0)
					closed.State = state
					must(t, "CreateChallenge", s.CreateChallenge(ctx(t), closed))
					states[closed.ID] = state
					calls = append(calls, call{"a " + state.String() + " challenge", closed.ID, "h", base, twofactor.ErrConflict})
				}
				for _, cl := range calls {
					_, err := s.ConsumeBackupCode(ctx(t), cl.challengeID, "u1", []byte(cl.hash), cl.now)
					if !errors.Is(err, cl.want) {
						t.Errorf("ConsumeBackupCode with %s error = %v, want %v", cl.name, err, cl.want)
					}
					after := "ConsumeBackupCode with " + cl.name
					for id, state := range states {
						wantState(t, s, id, state, after)
					}
					wantFailures(t, s, "u1", 2, after)
				}
				if _, err := s.ConsumeBackupCode(ctx(t), c.ID, "u1", []byte("h"), base); err != nil {
					t.Errorf("ConsumeBackupCode after the failed uses: %v, want the code kept", err)
				}
			},
		},
		{
			Name: "BackupCodeExpiry",
			Rule: "a backup code works just before ExpiresAt and not at it",
			Test: func(t *testing.T, s twofactor.Store) {
				c := newBackupCode("u1", "h")
				ch := startChallenge(t, s, "c1", "u1", 0)
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), c))
				if _, err := s.ConsumeBackupCode(ctx(t), ch.ID, "u1", c.Hash, c.ExpiresAt); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("use at expiry error = %v, want ErrNotFound", err)
				}
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), c))
				if _, err := s.ConsumeBackupCode(ctx(t), ch.ID, "u1", c.Hash, c.ExpiresAt.Add(-time.Microsecond)); err != nil {
					t.Errorf("use just before expiry: %v", err)
				}
			},
		},
		{
			Name: "BackupCodeSuperseded",
			Rule: "PutBackupCode replaces the user's earlier code at once; DeleteBackupCode is idempotent",
			Test: func(t *testing.T, s twofactor.Store) {
				ch := startChallenge(t, s, "c1", "u1", 0)
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", "old")))
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", "new")))
				if _, err := s.ConsumeBackupCode(ctx(t), ch.ID, "u1", []byte("old"), base); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("superseded code error = %v, want ErrNotFound", err)
				}
				must(t, "DeleteBackupCode", s.DeleteBackupCode(ctx(t), "u1"))
				must(t, "DeleteBackupCode again", s.DeleteBackupCode(ctx(t), "u1"))
				if _, err := s.ConsumeBackupCode(ctx(t), ch.ID, "u1", []byte("new"), base); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("deleted code error = %v, want ErrNotFound", err)
				}
			},
		},
		{
			Name: "BackupCodeConcurrent",
			Rule: "of many concurrent uses of one backup code on one challenge, exactly one succeeds",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 1)
				c := startChallenge(t, s, "c1", "u1", 0)
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", "h")))
				wins := countSuccesses(t, Concurrency, func() error {
					_, err := s.ConsumeBackupCode(ctx(t), c.ID, "u1", []byte("h"), base)
					return err
				}, twofactor.ErrNotFound, twofactor.ErrConflict)
				if wins != 1 {
					t.Errorf("%d concurrent uses succeeded, want 1", wins)
				}
				wantState(t, s, c.ID, twofactor.StateSucceeded, "concurrent uses of a backup code")
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
