package storetest

import (
	"bytes"
	"errors"
	"fmt"
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
			Rule: "AcceptStep accepts only steps greater than the last one, and ErrNotFound without an enrollment",
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
				for _, st := range steps {
					if err := s.AcceptStep(ctx(t), "u1", st.step); !errors.Is(err, st.want) || (st.want == nil && err != nil) {
						t.Errorf("AcceptStep(%d) error = %v, want %v", st.step, err, st.want)
					}
				}
				e, err := s.GetEnrollment(ctx(t), "u1")
				must(t, "GetEnrollment", err)
				if e.LastStep != 13 {
					t.Errorf("LastStep = %d, want 13", e.LastStep)
				}
				if err := s.AcceptStep(ctx(t), "nobody", 1); !errors.Is(err, twofactor.ErrNotFound) {
					t.Errorf("AcceptStep(nobody) error = %v, want ErrNotFound", err)
				}
			},
		},
		{
			Name: "AcceptStepConcurrent",
			Rule: "of many concurrent AcceptStep calls with one step, exactly one succeeds",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 0)
				wins := countSuccesses(t, Concurrency, func() error { return s.AcceptStep(ctx(t), "u1", 1) }, twofactor.ErrStepUsed)
				if wins != 1 {
					t.Errorf("%d concurrent AcceptStep calls succeeded, want 1", wins)
				}
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
// many calls returned nil. Any error other than nil or expected fails the
// test.
func countSuccesses(t *testing.T, n int, f func() error, expected error) int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		wins  int
		start = make(chan struct{})
	)
	for range n {
		wg.Go(func() {
			<-start
			err := f()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, expected):
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	return wins
}
