package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
)

// raceCases run different operations on one user at once. Each checks an
// outcome that every serial order of the operations gives.
func raceCases() []Case {
	return []Case{
		{
			Name: "UnlockDuringReservations",
			Rule: "ReserveAttempt calls racing an Unlock never count past max on either side of it, and reserve on a challenge of the old generation only before it",
			Test: func(t *testing.T, s twofactor.Store) {
				const max, calls = 3, 40
				enroll(t, s, "u1", 1)
				// A challenge that began before the unlock and one that
				// begins at the generation the unlock makes.
				challenges := []twofactor.Challenge{
					startChallenge(t, s, "before", "u1", 0),
					startChallenge(t, s, "after", "u1", 1),
				}
				var (
					wg       sync.WaitGroup
					mu       sync.Mutex
					reserved [2]int
					start    = make(chan struct{})
				)
				for i := range calls {
					wg.Go(func() {
						<-start
						if i == calls/2 {
							must(t, "Unlock", s.Unlock(ctx(t), "u1", base, false))
							return
						}
						a, err := s.ReserveAttempt(ctx(t), challenges[i%2].ID, max, base, twofactor.Verdict{})
						mu.Lock()
						defer mu.Unlock()
						if err != nil {
							t.Errorf("ReserveAttempt: %v", err)
							return
						}
						if a.Reserved {
							reserved[i%2]++
						}
						if a.Account.Failures > max {
							t.Errorf("ReserveAttempt Failures = %d, want at most %d", a.Account.Failures, max)
						}
					})
				}
				close(start)
				wg.Wait()
				a, err := s.GetAccount(ctx(t), "u1")
				must(t, "GetAccount", err)
				if a.Failures > max || a.Generation != 1 {
					t.Errorf("account after the race = %+v, want Failures at most %d and Generation 1", a, max)
				}
				for i, n := range reserved {
					if n > max {
						t.Errorf("%d attempts reserved on the challenge of generation %d, want at most %d", n, i, max)
					}
				}
				if n := reserved[1]; n != a.Failures {
					t.Errorf("%d attempts reserved after the unlock, but Failures = %d", n, a.Failures)
				}
			},
		},
		{
			Name: "ReserveAttemptConcurrentChallenges",
			Rule: "of many concurrent ReserveAttempt calls spread over several challenges of one user, exactly max reserve an attempt",
			Test: func(t *testing.T, s twofactor.Store) {
				const max = 5
				enroll(t, s, "u1", 1)
				ids := make([]string, 7)
				for i := range ids {
					ids[i] = startChallenge(t, s, fmt.Sprintf("c%d", i), "u1", 0).ID
				}
				wins := raceCalls(t, Concurrency, func(i int) error {
					return reserveOrErr(t, s, ids[i%len(ids)], max)
				}, errNotReserved)
				if len(wins) != max {
					t.Errorf("%d of %d concurrent reservations succeeded, want %d", len(wins), Concurrency, max)
				}
				wantFailures(t, s, "u1", max, "concurrent reservations")
			},
		},
		{
			Name: "AcceptStepConcurrentOneChallenge",
			Rule: "of many concurrent AcceptStep calls with different steps on one challenge, exactly one succeeds, and its step becomes LastStep",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 0)
				c := startChallenge(t, s, "c1", "u1", 0)
				wins := raceCalls(t, Concurrency, func(i int) error {
					return s.AcceptStep(ctx(t), c.ID, "u1", int64(i+1))
				}, twofactor.ErrConflict, twofactor.ErrStepUsed)
				if len(wins) != 1 {
					t.Fatalf("%d concurrent AcceptStep calls on one challenge succeeded, want 1", len(wins))
				}
				wantLastStep(t, s, "u1", int64(wins[0]+1), "concurrent AcceptStep calls on one challenge")
				wantState(t, s, c.ID, twofactor.StateSucceeded, "concurrent AcceptStep calls on one challenge")
			},
		},
		{
			Name: "BackupCodeConcurrentChallenges",
			Rule: "of many concurrent uses of one backup code on different challenges of the user, exactly one succeeds and moves only its challenge to succeeded",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 1)
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", "h")))
				ids := make([]string, Concurrency)
				for i := range ids {
					ids[i] = startChallenge(t, s, fmt.Sprintf("c%d", i), "u1", 0).ID
				}
				wins := raceCalls(t, Concurrency, func(i int) error {
					_, err := s.ConsumeBackupCode(ctx(t), ids[i], "u1", []byte("h"), base)
					return err
				}, twofactor.ErrNotFound)
				if len(wins) != 1 {
					t.Fatalf("%d concurrent uses of one backup code succeeded, want 1", len(wins))
				}
				for i, id := range ids {
					want := twofactor.StateCodePending
					if i == wins[0] {
						want = twofactor.StateSucceeded
					}
					wantState(t, s, id, want, "concurrent uses of a backup code")
				}
			},
		},
		{
			Name: "AppCodeAndBackupCodeOnOneChallenge",
			Rule: "an AcceptStep and a ConsumeBackupCode racing on one challenge: exactly one succeeds, and the other changes nothing",
			Test: func(t *testing.T, s twofactor.Store) {
				enroll(t, s, "u1", 0)
				lastStep := int64(0)
				for round := range 20 {
					c := startChallenge(t, s, fmt.Sprintf("c%d", round), "u1", 0)
					hash := fmt.Sprintf("h%d", round)
					must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", hash)))
					step := int64(round + 1)
					wins := raceCalls(t, 2, func(i int) error {
						if i == 0 {
							return s.AcceptStep(ctx(t), c.ID, "u1", step)
						}
						_, err := s.ConsumeBackupCode(ctx(t), c.ID, "u1", []byte(hash), base)
						return err
					}, twofactor.ErrConflict)
					if len(wins) != 1 {
						t.Fatalf("round %d: %d of an app code and a backup code on one challenge succeeded, want 1", round, len(wins))
					}
					wantState(t, s, c.ID, twofactor.StateSucceeded, fmt.Sprintf("round %d", round))
					if wins[0] == 0 {
						lastStep = step
						// The backup code lost, so it must still work.
						other := startChallenge(t, s, fmt.Sprintf("check%d", round), "u1", 0)
						if _, err := s.ConsumeBackupCode(ctx(t), other.ID, "u1", []byte(hash), base); err != nil {
							t.Errorf("round %d: the backup code that lost the race was spent: %v", round, err)
						}
					}
					wantLastStep(t, s, "u1", lastStep, fmt.Sprintf("round %d", round))
				}
			},
		},
		{
			Name: "ReservationsDuringSignIn",
			Rule: "ReserveAttempt calls racing an AcceptStep or ConsumeBackupCode on the same challenge leave no failure counted, because none reserves after the challenge succeeded",
			Test: func(t *testing.T, s twofactor.Store) {
				const calls = 30
				enroll(t, s, "u1", 0)
				for round := range 10 {
					c := startChallenge(t, s, fmt.Sprintf("c%d", round), "u1", 0)
					hash := fmt.Sprintf("h%d", round)
					must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", hash)))
					signIn := func() error { return s.AcceptStep(ctx(t), c.ID, "u1", int64(round+1)) }
					if round%2 == 1 {
						signIn = func() error {
							_, err := s.ConsumeBackupCode(ctx(t), c.ID, "u1", []byte(hash), base)
							return err
						}
					}
					wins := raceCalls(t, calls, func(i int) error {
						if i == calls/2 {
							return signIn()
						}
						// max is above the number of calls, so only the
						// challenge's state stops a reservation.
						err := reserveOrErr(t, s, c.ID, 2*calls)
						if errors.Is(err, errNotReserved) {
							return nil
						}
						return err
					})
					if len(wins) != calls {
						t.Fatalf("round %d: %d of %d calls returned no error", round, len(wins), calls)
					}
					wantState(t, s, c.ID, twofactor.StateSucceeded, fmt.Sprintf("round %d", round))
					wantFailures(t, s, "u1", 0, fmt.Sprintf("round %d of reservations racing a sign-in", round))
				}
			},
		},
		{
			Name: "BackupCodeReplacedDuringUse",
			Rule: "uses of an old backup code racing its replacement never delete the new code",
			Test: func(t *testing.T, s twofactor.Store) {
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", "old")))
				ids := make([]string, 30)
				for i := range ids {
					ids[i] = startChallenge(t, s, fmt.Sprintf("c%d", i), "u1", 0).ID
				}
				var (
					wg    sync.WaitGroup
					mu    sync.Mutex
					wins  int
					start = make(chan struct{})
				)
				for i := range 30 {
					wg.Go(func() {
						<-start
						if i == 15 {
							must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", "new")))
							return
						}
						_, err := s.ConsumeBackupCode(ctx(t), ids[i], "u1", []byte("old"), base)
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							wins++
						case !errors.Is(err, twofactor.ErrNotFound):
							t.Errorf("ConsumeBackupCode: %v", err)
						}
					})
				}
				close(start)
				wg.Wait()
				if wins > 1 {
					t.Errorf("the old code was used %d times, want at most 1", wins)
				}
				if _, err := s.ConsumeBackupCode(ctx(t), ids[15], "u1", []byte("new"), base); err != nil {
					t.Errorf("ConsumeBackupCode of the new code: %v", err)
				}
			},
		},
		{
			Name: "ConfirmDuringDelete",
			Rule: "a ConfirmSetup racing a DeleteEnrollment of the same user leaves no enrollment",
			Test: func(t *testing.T, s twofactor.Store) {
				for round := range 20 {
					user := fmt.Sprintf("u%d", round)
					setup := newSetup(user, "s1")
					setup.ExpiresAt = base.Add(time.Hour)
					must(t, "PutSetup", s.PutSetup(ctx(t), setup))
					var (
						wg         sync.WaitGroup
						confirmErr error
						start      = make(chan struct{})
					)
					wg.Go(func() {
						<-start
						_, confirmErr = s.ConfirmSetup(ctx(t), user, "s1", 1, base)
					})
					wg.Go(func() {
						<-start
						must(t, "DeleteEnrollment", s.DeleteEnrollment(ctx(t), user))
					})
					close(start)
					wg.Wait()
					if confirmErr != nil && !errors.Is(confirmErr, twofactor.ErrNotFound) {
						t.Fatalf("ConfirmSetup error = %v, want nil or ErrNotFound", confirmErr)
					}
					if _, err := s.GetEnrollment(ctx(t), user); !errors.Is(err, twofactor.ErrNotFound) {
						t.Errorf("round %d: enrollment left after ConfirmSetup (error %v) and DeleteEnrollment: %v", round, confirmErr, err)
					}
				}
			},
		},
	}
}
