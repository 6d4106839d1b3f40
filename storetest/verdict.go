package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
)

// appVerdict is the verdict on an app code checked against the secret
// that enroll stores for the user.
func appVerdict(userID string, matched bool, step int64) twofactor.Verdict {
	return twofactor.Verdict{Secret: []byte("sealed-setup-" + userID), Matched: matched, Step: step}
}

// backupVerdict is the verdict on a backup code whose hash is hash.
func backupVerdict(hash string) twofactor.Verdict {
	return twofactor.Verdict{BackupHash: []byte(hash)}
}

// wantOutcome fails the test unless the attempt has the flags given.
func wantOutcome(t *testing.T, a twofactor.Attempt, reserved, judged, accepted bool, submission string) {
	t.Helper()
	if a.Reserved != reserved || a.Judged != judged || a.Accepted != accepted {
		t.Errorf("%s: Reserved, Judged, Accepted = %v, %v, %v, want %v, %v, %v",
			submission, a.Reserved, a.Judged, a.Accepted, reserved, judged, accepted)
	}
}

// wantBackupCode fails the test unless the user's backup code with the
// hash is still stored, when want is true, or is gone.
func wantBackupCode(t *testing.T, s twofactor.Store, userID, hash string, want bool, after string) {
	t.Helper()
	// Consuming the code on a fresh challenge shows whether it is stored,
	// and PutBackupCode restores it afterwards.
	c := startChallenge(t, s, "probe-"+after, userID, 0)
	got, err := s.ConsumeBackupCode(ctx(t), c.ID, userID, []byte(hash), base)
	switch {
	case err == nil:
		must(t, "PutBackupCode", s.PutBackupCode(ctx(t), got))
		if !want {
			t.Errorf("backup code of %q after %s is stored, want it gone", userID, after)
		}
	case errors.Is(err, twofactor.ErrNotFound):
		if want {
			t.Errorf("backup code of %q after %s is gone, want it stored", userID, after)
		}
	default:
		t.Errorf("ConsumeBackupCode after %s: %v", after, err)
	}
}

func verdictCases() []Case {
	return []Case{
		{
			Name: "VerdictAppCodeRight",
			Rule: "ReserveAttempt with a verdict on the enrollment's secret that matched a step after LastStep records the step, sets the failure count to zero and moves the challenge to succeeded",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 10)
				c := startChallenge(t, s, "c1", "u1", 0)
				reserveN(t, s, c.ID, 2)
				a, err := s.ReserveAttempt(ctx(t), c.ID, 5, base, appVerdict("u1", true, 11))
				must(t, "ReserveAttempt", err)
				wantOutcome(t, a, true, true, true, "right app code")
				if a.Account.Failures != 0 {
					t.Errorf("Account.Failures = %d, want 0", a.Account.Failures)
				}
				if a.Enrollment.UserID != "u1" || a.Enrollment.LastStep != 10 {
					t.Errorf("Enrollment = %q at LastStep %d, want u1 as read, at 10", a.Enrollment.UserID, a.Enrollment.LastStep)
				}
				wantLastStep(t, s, "u1", 11, "a right app code")
				wantFailures(t, s, "u1", 0, "a right app code")
				wantState(t, s, c.ID, twofactor.StateSucceeded, "a right app code")
			},
		},
		{
			Name: "VerdictAppCodeWrong",
			Rule: "ReserveAttempt with a verdict on the enrollment's secret that did not match, or matched a step not after LastStep, counts a failure and changes nothing else",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 10)
				c := startChallenge(t, s, "c1", "u1", 0)
				for i, v := range []twofactor.Verdict{
					appVerdict("u1", false, 0),
					appVerdict("u1", false, 11),
					appVerdict("u1", true, 10),
					appVerdict("u1", true, 9),
				} {
					a, err := s.ReserveAttempt(ctx(t), c.ID, 5, base, v)
					must(t, "ReserveAttempt", err)
					wantOutcome(t, a, true, true, false, "a wrong app code")
					if a.Account.Failures != i+1 {
						t.Errorf("wrong code %d: Account.Failures = %d, want %d", i+1, a.Account.Failures, i+1)
					}
				}
				wantLastStep(t, s, "u1", 10, "wrong app codes")
				wantFailures(t, s, "u1", 4, "wrong app codes")
				wantState(t, s, c.ID, twofactor.StateCodePending, "wrong app codes")
			},
		},
		{
			Name: "VerdictOtherSecret",
			Rule: "ReserveAttempt with a verdict on another secret than the enrollment's does not judge: it counts the attempt and leaves the step and the challenge alone",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 10)
				c := startChallenge(t, s, "c1", "u1", 0)
				for _, secret := range [][]byte{[]byte("sealed-setup-u2"), []byte("sealed-setup-u1x"), []byte("sealed-setup-u"), {}} {
					v := twofactor.Verdict{Secret: secret, Matched: true, Step: 11}
					a, err := s.ReserveAttempt(ctx(t), c.ID, 5, base, v)
					must(t, "ReserveAttempt", err)
					wantOutcome(t, a, true, false, false, "a verdict on secret "+string(secret))
					if string(a.Enrollment.Secret) != "sealed-setup-u1" {
						t.Errorf("Enrollment.Secret = %q, want the stored one", a.Enrollment.Secret)
					}
				}
				wantLastStep(t, s, "u1", 10, "verdicts on other secrets")
				wantFailures(t, s, "u1", 4, "verdicts on other secrets")
				wantState(t, s, c.ID, twofactor.StateCodePending, "verdicts on other secrets")
			},
		},
		{
			Name: "VerdictBackupCode",
			Rule: "ReserveAttempt with a backup code's hash judges it: the user's unexpired code with that hash is deleted, the count set to zero and the challenge moved to succeeded; any other hash counts a failure and keeps the code",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 10)
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", "h")))
				c := startChallenge(t, s, "c1", "u1", 0)
				for i, hash := range []string{"wrong", "h2", ""} {
					a, err := s.ReserveAttempt(ctx(t), c.ID, 5, base, backupVerdict(hash))
					must(t, "ReserveAttempt", err)
					wantOutcome(t, a, true, true, false, "a wrong backup code")
					if a.Account.Failures != i+1 {
						t.Errorf("wrong backup code %d: Account.Failures = %d, want %d", i+1, a.Account.Failures, i+1)
					}
				}
				wantState(t, s, c.ID, twofactor.StateCodePending, "wrong backup codes")
				wantBackupCode(t, s, "u1", "h", true, "wrong backup codes")

				a, err := s.ReserveAttempt(ctx(t), c.ID, 5, base, backupVerdict("h"))
				must(t, "ReserveAttempt", err)
				wantOutcome(t, a, true, true, true, "the right backup code")
				if a.Account.Failures != 0 {
					t.Errorf("Account.Failures = %d, want 0", a.Account.Failures)
				}
				wantFailures(t, s, "u1", 0, "the right backup code")
				wantState(t, s, c.ID, twofactor.StateSucceeded, "the right backup code")
				wantLastStep(t, s, "u1", 10, "the right backup code")
				wantBackupCode(t, s, "u1", "h", false, "the right backup code")
			},
		},
		{
			Name: "VerdictBackupCodeExpired",
			Rule: "ReserveAttempt judges a backup code that expires at or before now as wrong, and one that expires after now as right",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 10)
				code := newBackupCode("u1", "h")
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), code))
				// The challenge outlives the code.
				c := challengeFor(s, "c1", "u1", 0)
				c.Deadline = code.ExpiresAt.Add(time.Hour)
				c.ExpiresAt = c.Deadline.Add(time.Hour)
				must(t, "CreateChallenge", s.CreateChallenge(ctx(t), c))
				for _, now := range []time.Time{code.ExpiresAt, code.ExpiresAt.Add(time.Microsecond)} {
					a, err := s.ReserveAttempt(ctx(t), c.ID, 5, now, backupVerdict("h"))
					must(t, "ReserveAttempt", err)
					wantOutcome(t, a, true, true, false, "a backup code at or after its expiry")
				}
				wantState(t, s, c.ID, twofactor.StateCodePending, "an expired backup code")
				a, err := s.ReserveAttempt(ctx(t), c.ID, 5, code.ExpiresAt.Add(-time.Microsecond), backupVerdict("h"))
				must(t, "ReserveAttempt", err)
				wantOutcome(t, a, true, true, true, "a backup code just before its expiry")
			},
		},
		{
			Name: "VerdictWithoutAttempt",
			Rule: "ReserveAttempt that takes no attempt applies no verdict: a right code on a locked account or a closed challenge records nothing",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 10)
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", "h")))
				c := startChallenge(t, s, "c1", "u1", 0)
				reserveN(t, s, c.ID, 5)
				for _, v := range []twofactor.Verdict{appVerdict("u1", true, 11), backupVerdict("h")} {
					a, err := s.ReserveAttempt(ctx(t), c.ID, 5, base, v)
					must(t, "ReserveAttempt", err)
					wantOutcome(t, a, false, false, false, "a right code at the limit")
				}
				wantLastStep(t, s, "u1", 10, "right codes at the limit")
				wantFailures(t, s, "u1", 5, "right codes at the limit")
				wantState(t, s, c.ID, twofactor.StateCodePending, "right codes at the limit")
				wantBackupCode(t, s, "u1", "h", true, "right codes at the limit")
			},
		},
		{
			Name: "VerdictConcurrentOneChallenge",
			Rule: "of many concurrent ReserveAttempt calls with one right verdict on one challenge, exactly one accepts, and the others take no attempt",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 10)
				c := startChallenge(t, s, "c1", "u1", 0)
				accepted := raceCalls(t, Concurrency, func(int) error {
					a, err := s.ReserveAttempt(ctx(t), c.ID, Concurrency, base, appVerdict("u1", true, 11))
					switch {
					case err != nil:
						return err
					case a.Accepted:
						return nil
					case a.Reserved:
						t.Errorf("a call after the sign-in took an attempt: %+v", a)
					}
					return errNotAccepted
				}, errNotAccepted)
				if len(accepted) != 1 {
					t.Errorf("%d calls accepted, want 1", len(accepted))
				}
				wantFailures(t, s, "u1", 0, "racing right codes")
				wantLastStep(t, s, "u1", 11, "racing right codes")
			},
		},
		{
			Name: "VerdictConcurrentChallenges",
			Rule: "of many concurrent ReserveAttempt calls with one right verdict, or one backup code, on different challenges of the user, exactly one accepts",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 10)
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", "h")))
				for _, v := range []twofactor.Verdict{appVerdict("u1", true, 11), backupVerdict("h")} {
					ids := make([]string, Concurrency)
					for i := range ids {
						ids[i] = startChallenge(t, s, fmt.Sprintf("c%d-%t", i, v.BackupHash != nil), "u1", 0).ID
					}
					accepted := raceCalls(t, Concurrency, func(i int) error {
						a, err := s.ReserveAttempt(ctx(t), ids[i], 10*Concurrency, base, v)
						if err == nil && !a.Accepted {
							return errNotAccepted
						}
						return err
					}, errNotAccepted)
					if len(accepted) != 1 {
						t.Errorf("%d calls accepted, want 1", len(accepted))
					}
					for i, id := range ids {
						want := twofactor.StateCodePending
						if len(accepted) == 1 && accepted[0] == i {
							want = twofactor.StateSucceeded
						}
						wantState(t, s, id, want, "racing right codes")
					}
				}
				wantLastStep(t, s, "u1", 11, "racing right codes")
			},
		},
	}
}

// errNotAccepted stands for a call that returned no error and did not
// accept, in the concurrency cases.
var errNotAccepted = errors.New("not accepted")
