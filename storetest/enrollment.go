package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
)

func newSetup(userID, id string) twofactor.Setup {
	return twofactor.Setup{
		ID:        id,
		UserID:    userID,
		Secret:    []byte("sealed-" + id),
		Algorithm: twofactor.SHA256,
		Digits:    8,
		Period:    60,
		ExpiresAt: base.Add(10 * time.Minute),
	}
}

// enroll stores and confirms a set-up for the user at step.
func enroll(t *testing.T, s twofactor.Store, userID string, step int64) twofactor.Enrollment {
	t.Helper()
	must(t, "PutSetup", s.PutSetup(ctx(t), newSetup(userID, "setup-"+userID)))
	e, err := s.ConfirmSetup(ctx(t), userID, "setup-"+userID, step, base)
	must(t, "ConfirmSetup", err)
	return e
}

func enrollmentCases() []Case {
	return []Case{
		{
			Name: "EnrollmentNotFound",
			Rule: "GetEnrollment returns ErrNotFound for a user without an enrollment",
			Test: func(t *testing.T, s twofactor.Store) {
				_, err := s.GetEnrollment(ctx(t), "nobody")
				if !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("GetEnrollment(nobody) error = %v, want ErrNotFound", err)
				}
			},
		},
		{
			Name: "SetupRoundTrip",
			Rule: "GetSetup returns every field that PutSetup stored",
			Test: func(t *testing.T, s twofactor.Store) {
				want := newSetup("u1", "s1")
				must(t, "PutSetup", s.PutSetup(ctx(t), want))
				got, err := s.GetSetup(ctx(t), "u1", base)
				must(t, "GetSetup", err)
				if got.ID != want.ID || got.UserID != want.UserID || !bytes.Equal(got.Secret, want.Secret) ||
					got.Algorithm != want.Algorithm || got.Digits != want.Digits || got.Period != want.Period ||
					!got.ExpiresAt.Equal(want.ExpiresAt) {
					t.Errorf("GetSetup = %+v, want %+v", got, want)
				}
			},
		},
		{
			Name: "SetupReplaced",
			Rule: "PutSetup replaces the user's earlier pending set-up",
			Test: func(t *testing.T, s twofactor.Store) {
				must(t, "PutSetup", s.PutSetup(ctx(t), newSetup("u1", "old")))
				must(t, "PutSetup", s.PutSetup(ctx(t), newSetup("u1", "new")))
				got, err := s.GetSetup(ctx(t), "u1", base)
				must(t, "GetSetup", err)
				if got.ID != "new" {
					t.Errorf("GetSetup ID = %q, want %q", got.ID, "new")
				}
				if _, err := s.ConfirmSetup(ctx(t), "u1", "old", 1, base); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("ConfirmSetup(old) error = %v, want ErrNotFound", err)
				}
			},
		},
		{
			Name: "SetupExpiry",
			Rule: "a set-up is absent at and after its ExpiresAt, present just before",
			Test: func(t *testing.T, s twofactor.Store) {
				setup := newSetup("u1", "s1")
				must(t, "PutSetup", s.PutSetup(ctx(t), setup))
				if _, err := s.GetSetup(ctx(t), "u1", setup.ExpiresAt.Add(-time.Microsecond)); err != nil {
					t.Errorf("GetSetup just before expiry: %v", err)
				}
				if _, err := s.GetSetup(ctx(t), "u1", setup.ExpiresAt); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("GetSetup at expiry error = %v, want ErrNotFound", err)
				}
				if _, err := s.ConfirmSetup(ctx(t), "u1", "s1", 1, setup.ExpiresAt); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("ConfirmSetup at expiry error = %v, want ErrNotFound", err)
				}
				if _, err := s.GetEnrollment(ctx(t), "u1"); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("expired set-up became an enrollment: %v", err)
				}
			},
		},
		{
			Name: "ConfirmSetupMoves",
			Rule: "ConfirmSetup turns the set-up into the enrollment with LastStep and ConfirmedAt, and deletes the set-up",
			Test: func(t *testing.T, s twofactor.Store) {
				setup := newSetup("u1", "s1")
				must(t, "PutSetup", s.PutSetup(ctx(t), setup))
				_, err := s.ConfirmSetup(ctx(t), "u1", "s1", 42, base)
				must(t, "ConfirmSetup", err)
				e, err := s.GetEnrollment(ctx(t), "u1")
				must(t, "GetEnrollment", err)
				if !bytes.Equal(e.Secret, setup.Secret) || e.LastStep != 42 || !e.ConfirmedAt.Equal(base) ||
					e.Algorithm != setup.Algorithm || e.Digits != setup.Digits || e.Period != setup.Period || e.UserID != "u1" {
					t.Errorf("GetEnrollment = %+v, want the set-up's fields, LastStep 42 and ConfirmedAt %v", e, base)
				}
				if _, err := s.GetSetup(ctx(t), "u1", base); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("GetSetup after confirm error = %v, want ErrNotFound", err)
				}
				if _, err := s.ConfirmSetup(ctx(t), "u1", "s1", 43, base); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("second ConfirmSetup error = %v, want ErrNotFound", err)
				}
			},
		},
		{
			Name: "ConfirmSetupKeepsOldUntilConfirmed",
			Rule: "a pending set-up does not touch the enrollment until it is confirmed, then replaces it",
			Test: func(t *testing.T, s twofactor.Store) {
				old := enroll(t, s, "u1", 5)
				reset := newSetup("u1", "reset")
				reset.Secret = []byte("new secret")
				must(t, "PutSetup", s.PutSetup(ctx(t), reset))
				e, err := s.GetEnrollment(ctx(t), "u1")
				must(t, "GetEnrollment", err)
				if !bytes.Equal(e.Secret, old.Secret) {
					t.Errorf("enrollment secret changed by a pending reset")
				}
				_, err = s.ConfirmSetup(ctx(t), "u1", "reset", 7, base)
				must(t, "ConfirmSetup", err)
				e, err = s.GetEnrollment(ctx(t), "u1")
				must(t, "GetEnrollment", err)
				if !bytes.Equal(e.Secret, reset.Secret) || e.LastStep != 7 {
					t.Errorf("after reset: secret %q step %d, want %q step 7", e.Secret, e.LastStep, reset.Secret)
				}
			},
		},
		{
			Name: "DeleteEnrollmentIdempotent",
			Rule: "DeleteEnrollment removes enrollment and set-up, and deleting nothing is not an error",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 1)
				must(t, "PutSetup", s.PutSetup(ctx(t), newSetup("u1", "s2")))
				must(t, "DeleteEnrollment", s.DeleteEnrollment(ctx(t), "u1"))
				must(t, "DeleteEnrollment again", s.DeleteEnrollment(ctx(t), "u1"))
				must(t, "DeleteEnrollment unknown", s.DeleteEnrollment(ctx(t), "nobody"))
				if _, err := s.GetEnrollment(ctx(t), "u1"); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("GetEnrollment after delete error = %v, want ErrNotFound", err)
				}
				if _, err := s.GetSetup(ctx(t), "u1", base); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("GetSetup after delete error = %v, want ErrNotFound", err)
				}
			},
		},
		{
			Name: "AcceptStepOrder",
			Rule: "AcceptStep accepts only steps greater than the last one, and returns ErrNotFound without an enrollment",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 10)
				steps := []struct {
					step int64
					want error
				}{
					{10, twofactor.ErrStepUsed},
					{9, twofactor.ErrStepUsed},
					{11, nil},
					{11, twofactor.ErrStepUsed},
					{13, nil},
					{12, twofactor.ErrStepUsed},
				}
				for i, st := range steps {
					// An accepted step closes its challenge, so each call
					// gets a challenge of its own.
					c := startChallenge(t, s, fmt.Sprintf("c%d", i), "u1", 0)
					if err := s.AcceptStep(ctx(t), c.ID, "u1", st.step); !errors.Is(err, st.want) || (st.want == nil && err != nil) {
						t.Errorf("AcceptStep(%d) error = %v, want %v", st.step, err, st.want)
					}
					if st.want != nil {
						wantState(t, s, c.ID, twofactor.StateCodePending, fmt.Sprintf("AcceptStep(%d)", st.step))
					}
				}
				e, err := s.GetEnrollment(ctx(t), "u1")
				must(t, "GetEnrollment", err)
				if e.LastStep != 13 {
					t.Errorf("LastStep = %d, want 13", e.LastStep)
				}
				c := startChallenge(t, s, "c-nobody", "nobody", 0)
				if err := s.AcceptStep(ctx(t), c.ID, "nobody", 1); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("AcceptStep(nobody) error = %v, want ErrNotFound", err)
				}
				wantState(t, s, c.ID, twofactor.StateCodePending, "AcceptStep without an enrollment")
			},
		},
		{
			Name: "AcceptStepSignsIn",
			Rule: "AcceptStep that accepts records the step as LastStep, sets the failure count to zero and moves the challenge to succeeded",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 10)
				c := startChallenge(t, s, "c1", "u1", 0)
				reserveN(t, s, c.ID, 3)
				must(t, "AcceptStep", s.AcceptStep(ctx(t), c.ID, "u1", 12))
				got, err := s.GetChallenge(ctx(t), c.ID)
				must(t, "GetChallenge", err)
				want := c
				want.State = twofactor.StateSucceeded
				if !sameChallenge(got, want) {
					t.Errorf("challenge after AcceptStep = %+v, want %+v", got, want)
				}
				wantLastStep(t, s, "u1", 12, "AcceptStep")
				wantFailures(t, s, "u1", 0, "AcceptStep")
			},
		},
		{
			Name: "AcceptStepRejectionChangesNothing",
			Rule: "AcceptStep that rejects changes nothing: ErrNotFound for a missing challenge, another user's challenge or a user without an enrollment, ErrConflict for a challenge that is not code-pending, and ErrStepUsed for a step not greater than the last",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 10)
				enroll(t, s, "u2", 20)
				c := startChallenge(t, s, "c1", "u1", 0)
				reserveN(t, s, c.ID, 2)
				ofU2 := startChallenge(t, s, "c-u2", "u2", 0)
				ofNobody := startChallenge(t, s, "c-nobody", "nobody", 0)
				states := map[string]twofactor.State{
					c.ID:        twofactor.StateCodePending,
					ofU2.ID:     twofactor.StateCodePending,
					ofNobody.ID: twofactor.StateCodePending,
				}

				type call struct {
					name        string
					challengeID string
					userID      string
					step        int64
					want        error
				}
				calls := []call{
					{"a missing challenge", "unknown", "u1", 11, twofactor.ErrNotFound},
					{"another user's challenge", ofU2.ID, "u1", 11, twofactor.ErrNotFound},
					{"another user's challenge, with a step new to both users", ofU2.ID, "u1", 21, twofactor.ErrNotFound},
					{"a user without an enrollment", ofNobody.ID, "nobody", 11, twofactor.ErrNotFound},
					{"the last step", c.ID, "u1", 10, twofactor.ErrStepUsed},
					{"an earlier step", c.ID, "u1", 9, twofactor.ErrStepUsed},
				}
				for _, state := range closedStates {
					closed := challengeFor(s, "c-"+state.String(), "u1", 0)
					closed.State = state
					must(t, "CreateChallenge", s.CreateChallenge(ctx(t), closed))
					states[closed.ID] = state
					calls = append(calls, call{"a " + state.String() + " challenge", closed.ID, "u1", 11, twofactor.ErrConflict})
				}
				for _, cl := range calls {
					err := s.AcceptStep(ctx(t), cl.challengeID, cl.userID, cl.step)
					if !errors.Is(err, cl.want) {
						t.Errorf("AcceptStep on %s error = %v, want %v", cl.name, err, cl.want)
					}
					after := "AcceptStep on " + cl.name
					for id, state := range states {
						wantState(t, s, id, state, after)
					}
					wantLastStep(t, s, "u1", 10, after)
					wantLastStep(t, s, "u2", 20, after)
					wantFailures(t, s, "u1", 2, after)
				}
			},
		},
		{
			Name: "AcceptStepOncePerChallenge",
			Rule: "a challenge takes one accepted step: a second AcceptStep on it returns ErrConflict even with a greater step",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 10)
				c := startChallenge(t, s, "c1", "u1", 0)
				must(t, "AcceptStep", s.AcceptStep(ctx(t), c.ID, "u1", 11))
				if err := s.AcceptStep(ctx(t), c.ID, "u1", 12); !errors.Is(err, twofactor.ErrConflict) {
					t.Errorf("second AcceptStep on one challenge error = %v, want ErrConflict", err)
				}
				wantLastStep(t, s, "u1", 11, "a second AcceptStep on one challenge")
				wantState(t, s, c.ID, twofactor.StateSucceeded, "a second AcceptStep on one challenge")
			},
		},
		{
			Name: "AcceptStepConcurrent",
			Rule: "of many concurrent AcceptStep calls with one step on different challenges of the user, exactly one succeeds",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 0)
				ids := make([]string, Concurrency)
				for i := range ids {
					ids[i] = startChallenge(t, s, fmt.Sprintf("c%d", i), "u1", 0).ID
				}
				wins := raceCalls(t, Concurrency, func(i int) error {
					return s.AcceptStep(ctx(t), ids[i], "u1", 1)
				}, twofactor.ErrStepUsed)
				if len(wins) != 1 {
					t.Fatalf("%d concurrent AcceptStep calls succeeded, want 1", len(wins))
				}
				for i, id := range ids {
					want := twofactor.StateCodePending
					if i == wins[0] {
						want = twofactor.StateSucceeded
					}
					wantState(t, s, id, want, "concurrent AcceptStep calls")
				}
				wantLastStep(t, s, "u1", 1, "concurrent AcceptStep calls")
			},
		},
		{
			Name: "ListEnrollmentsPages",
			Rule: "ListEnrollments returns enrollments after a user ID in ascending order, at most limit",
			Test: func(t *testing.T, s twofactor.Store) {
				var want []string
				for i := range 7 {
					id := fmt.Sprintf("user-%02d", 6-i)
					enroll(t, s, id, 1)
					want = append([]string{id}, want...)
				}
				var got []string
				after := ""
				for range 10 {
					page, err := s.ListEnrollments(ctx(t), after, 3)
					must(t, "ListEnrollments", err)
					if len(page) > 3 {
						t.Fatalf("ListEnrollments returned %d, limit 3", len(page))
					}
					for _, e := range page {
						got = append(got, e.UserID)
					}
					if len(page) < 3 {
						break
					}
					after = page[len(page)-1].UserID
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("pages = %v, want %v", got, want)
				}
			},
		},
		{
			Name: "ReplaceSecretCompare",
			Rule: "ReplaceSecret replaces only when the stored secret equals the old one",
			Test: func(t *testing.T, s twofactor.Store) {
				e := enroll(t, s, "u1", 1)
				if err := s.ReplaceSecret(ctx(t), "u1", []byte("other"), []byte("x")); !errors.Is(err, twofactor.ErrConflict) {
					t.Errorf("ReplaceSecret with a stale old secret error = %v, want ErrConflict", err)
				}
				must(t, "ReplaceSecret", s.ReplaceSecret(ctx(t), "u1", e.Secret, []byte("rotated")))
				got, err := s.GetEnrollment(ctx(t), "u1")
				must(t, "GetEnrollment", err)
				if string(got.Secret) != "rotated" || got.LastStep != 1 {
					t.Errorf("after ReplaceSecret: secret %q step %d, want %q step 1", got.Secret, got.LastStep, "rotated")
				}
				if err := s.ReplaceSecret(ctx(t), "nobody", nil, []byte("x")); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("ReplaceSecret(nobody) error = %v, want ErrNotFound", err)
				}
			},
		},
	}
}

// countSuccesses runs f in n goroutines released at once and returns how
// many calls returned nil. Any error other than nil or one of expected
// fails the test.
func countSuccesses(t *testing.T, n int, f func() error, expected ...error) int {
	t.Helper()
	return len(raceCalls(t, n, func(int) error { return f() }, expected...))
}

// raceCalls runs f(0) to f(n-1) in n goroutines released at once and
// returns the arguments of the calls that returned nil, in ascending order.
// Any error other than nil or one of expected fails the test.
func raceCalls(t *testing.T, n int, f func(i int) error, expected ...error) []int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		wins  []int
		start = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			err := f(i)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins = append(wins, i)
			case !isOneOf(err, expected):
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	slices.Sort(wins)
	return wins
}

// isOneOf reports whether err matches one of targets by errors.Is.
func isOneOf(err error, targets []error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
