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
			Rule: "ReserveAttempt calls racing an Unlock never count past max on either side of it",
			Test: func(t *testing.T, s twofactor.Store) {
				const max, calls = 3, 40
				enroll(t, s, "u1", 1)
				var (
					wg       sync.WaitGroup
					mu       sync.Mutex
					reserved int
					start    = make(chan struct{})
				)
				for i := range calls {
					wg.Go(func() {
						<-start
						if i == calls/2 {
							must(t, "Unlock", s.Unlock(ctx(t), "u1", base, false))
							return
						}
						a, _, err := s.ReserveAttempt(ctx(t), "u1", max)
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							reserved++
						case !errors.Is(err, twofactor.ErrAttemptLimit):
							t.Errorf("ReserveAttempt: %v", err)
						}
						if a.Failures > max {
							t.Errorf("ReserveAttempt Failures = %d, want at most %d", a.Failures, max)
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
				if reserved > 2*max {
					t.Errorf("%d attempts reserved around one unlock, want at most %d", reserved, 2*max)
				}
			},
		},
		{
			Name: "BackupCodeReplacedDuringUse",
			Rule: "uses of an old backup code racing its replacement never delete the new code",
			Test: func(t *testing.T, s twofactor.Store) {
				must(t, "PutBackupCode", s.PutBackupCode(ctx(t), newBackupCode("u1", "old")))
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
						_, err := s.ConsumeBackupCode(ctx(t), "u1", []byte("old"), base)
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
				if _, err := s.ConsumeBackupCode(ctx(t), "u1", []byte("new"), base); err != nil {
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
