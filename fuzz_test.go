package twofactor_test

import (
	"errors"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/twofactortest"
)

// FuzzChallenge drives the challenge state machine with a random sequence
// of submissions, clock moves, new sign-ins and unlocks, and checks its
// invariants after every step. Between two clears of the count, no more
// wrong codes are checked than the limit. No code is accepted twice or
// after a later one. A locked account accepts nothing, and a challenge
// accepts nothing at or after its deadline. Only at or after its
// ExpiresAt, an hour after the deadline, may a challenge be not found.
// An op with the high bit set submits through a second instance, which
// does not remember the challenges, so that both ways of judging a code
// run on the same challenges.
func FuzzChallenge(f *testing.F) {
	f.Add([]byte{0, 1, 1, 1, 1, 1, 0, 3, 0})
	f.Add([]byte{1, 1, 1, 1, 1, 5, 3, 0, 4, 0})
	f.Add([]byte{2, 0xff, 2, 0xff, 0, 3, 6, 0})
	f.Add([]byte("\xf0\xf0\xf0\xf0\xf0AAy0"))
	// Wrong codes from both instances, and the right code and its replay
	// through the second one. On a new challenge, the second one accepts
	// the next step's code, and on a third the first rejects the current
	// code, whose step is older.
	f.Add([]byte{1, 0x86, 1, 0x86, 0x85, 0x8b, 3, 0x89, 3, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 200 {
			return
		}
		kit := twofactortest.New(t, twofactor.Config{})
		other := secondInstance(t, kit, twofactor.Config{})
		key := kit.Enroll(t, "u1")
		ctx := t.Context()
		challenge := beginChallenge(t, kit, "u1")
		first, err := kit.Store.GetChallenge(ctx, challenge)
		if err != nil {
			t.Fatal(err)
		}
		var (
			deadline     = first.Deadline
			expires      = first.ExpiresAt
			lastAccepted = kit.Clock.Now().Add(-key.Period) // the confirming code
			lastCode     string
			lastAt       time.Time
			failures     int
			locked       bool
		)
		for i, op := range ops {
			var input string
			var at time.Time
			switch op % 7 {
			case 0, 4: // the app's code now, or one step ahead
				at = kit.Clock.Now().Add(time.Duration(op%7/4) * key.Period)
				input = twofactortest.Code(t, key, at)
			case 1: // a wrong code
				input = wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
			case 2: // time passes
				kit.Clock.Advance(time.Duration(op) * 3 * time.Second)
				continue
			case 3: // the user signs in again
				d, err := kit.Manager.Begin(ctx, twofactor.Login{UserID: "u1", Role: twofactor.RoleAgent})
				if err != nil {
					t.Fatal(err)
				}
				if locked != (d.Reason == twofactor.ReasonLocked) {
					t.Fatalf("op %d: Begin reason %q while locked=%v", i, d.Reason, locked)
				}
				if d.Challenge != nil {
					challenge, deadline, expires = d.Challenge.ID, d.Challenge.Deadline, d.Challenge.ExpiresAt
				}
				continue
			case 5: // an administrator unlocks
				if err := kit.Manager.UnlockByAdmin(ctx, "u1", "admin"); err != nil {
					t.Fatal(err)
				}
				failures, locked = 0, false
				continue
			case 6: // a replay of the last code typed
				input, at = lastCode, lastAt
			}
			lastCode, lastAt = input, at
			submitter := kit
			if op&0x80 != 0 {
				submitter = other
			}
			before := submitter.Events.Count(twofactor.EventCodeRejected)
			res, err := submitter.Manager.Submit(ctx, challenge, input)
			if errors.Is(err, twofactor.ErrChallengeNotFound) && !kit.Clock.Now().Before(expires) {
				continue
			}
			if err != nil && err != twofactor.ErrChallengeClosed {
				t.Fatalf("op %d: Submit: %v", i, err)
			}
			failures += submitter.Events.Count(twofactor.EventCodeRejected) - before
			if failures > twofactor.DefaultMaxAttempts {
				t.Fatalf("op %d: %d wrong codes checked, limit %d", i, failures, twofactor.DefaultMaxAttempts)
			}
			if !res.Succeeded() {
				if failures == twofactor.DefaultMaxAttempts {
					locked = true
				}
				continue
			}
			switch {
			case locked:
				t.Fatalf("op %d: success on a locked account", i)
			case !kit.Clock.Now().Before(deadline):
				t.Fatalf("op %d: success at or after the deadline", i)
			case at.IsZero() || stepOf(at, key) <= stepOf(lastAccepted, key):
				t.Fatalf("op %d: accepted a code of a used or older step", i)
			}
			lastAccepted, failures = at, 0
		}
	})
}

func stepOf(t time.Time, key *twofactor.SetupKey) int64 {
	return t.Unix() / int64(key.Period/time.Second)
}
