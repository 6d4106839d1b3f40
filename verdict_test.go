package twofactor_test

import (
	"context"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/memstore"
	"github.com/twofactor-go/twofactor/twofactortest"
)

// flagStore wraps a memstore and rewrites the flags of the attempts that
// ReserveAttempt returns, as a faulty store might.
type flagStore struct {
	*memstore.Store
	rewrite func(a *twofactor.Attempt)
}

func (s *flagStore) ReserveAttempt(ctx context.Context, id string, max int, now time.Time, v twofactor.Verdict) (twofactor.Attempt, error) {
	a, err := s.Store.ReserveAttempt(ctx, id, max, now, v)
	if err == nil {
		s.rewrite(&a)
	}
	return a, err
}

// TestSubmitIgnoresInconsistentFlags gives the Manager attempts whose flags
// contradict the verdict it sent. A wrong code must never sign in.
func TestSubmitIgnoresInconsistentFlags(t *testing.T) {
	tests := []struct {
		name    string
		rewrite func(a *twofactor.Attempt)
		other   bool // submit through a Manager that did not begin the challenge
	}{
		{"accepted without reserved", func(a *twofactor.Attempt) {
			a.Reserved, a.Judged, a.Accepted = false, true, true
		}, false},
		{"accepted without judged", func(a *twofactor.Attempt) {
			a.Judged, a.Accepted = false, true
		}, false},
		{"accepted for a code that did not match", func(a *twofactor.Attempt) {
			if a.Reserved {
				a.Judged, a.Accepted = true, true
			}
		}, false},
		{"accepted for the zero verdict", func(a *twofactor.Attempt) {
			if a.Reserved {
				a.Judged, a.Accepted = true, true
			}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kit := twofactortest.New(t, twofactor.Config{Store: &flagStore{Store: memstore.New(), rewrite: tt.rewrite}})
			key := kit.Enroll(t, "u1")
			id := beginChallenge(t, kit, "u1")
			m := kit.Manager
			if tt.other {
				m = secondInstance(t, kit, twofactor.Config{}).Manager
			}
			res, err := m.Submit(t.Context(), id, wrongCode(twofactortest.Code(t, key, kit.Clock.Now())))
			if res.Succeeded() {
				t.Errorf("a wrong code signed in: %+v, %v", res, err)
			}
		})
	}
}

// consumeHookStore runs a function before the next ConsumeBackupCode, to
// interleave another submission at that point.
type consumeHookStore struct {
	*memstore.Store
	beforeConsume func()
}

func (s *consumeHookStore) ConsumeBackupCode(ctx context.Context, challengeID, userID string, hash []byte, now time.Time) (twofactor.BackupCode, error) {
	if f := s.beforeConsume; f != nil {
		s.beforeConsume = nil
		f()
	}
	return s.Store.ConsumeBackupCode(ctx, challengeID, userID, hash, now)
}

// TestBackupInputRacingTheLock lets the wrong code that reaches the limit
// lock the challenge between the attempt of a backup-form input, submitted
// through a Manager that did not begin the challenge, and that input's
// ConsumeBackupCode. The input counts as a wrong code with the failures of
// its attempt, is reported as rejected, and keeps its attempt, so the
// account ends at the limit with as many rejected codes as failures.
func TestBackupInputRacingTheLock(t *testing.T) {
	store := &consumeHookStore{Store: memstore.New()}
	kit := twofactortest.New(t, twofactor.Config{Store: store})
	key := kit.Enroll(t, "u1")
	otherKit := secondInstance(t, kit, twofactor.Config{})
	other := otherKit.Manager
	id := beginChallenge(t, kit, "u1")
	wrong := wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
	for range twofactor.DefaultMaxAttempts - 2 {
		submit(t, kit, id, wrong)
	}
	var locking twofactor.Result
	store.beforeConsume = func() { locking = submit(t, kit, id, wrong) }

	res, err := other.Submit(t.Context(), id, "ABCD-EFGH-JKMN")
	if locking.State != twofactor.StateLocked {
		t.Fatalf("the interleaved wrong code left the challenge %v, want locked", locking.State)
	}
	if err != nil {
		t.Errorf("backup-form input after the lock: %v", err)
	}
	if res.Succeeded() || res.Message == "" {
		t.Errorf("backup-form input after the lock = %+v, want a rejection with a message", res)
	}
	acct, err := kit.Store.GetAccount(t.Context(), "u1")
	if err != nil {
		t.Fatal(err)
	}
	if acct.Failures != twofactor.DefaultMaxAttempts {
		t.Errorf("failures after the lock = %d, want %d", acct.Failures, twofactor.DefaultMaxAttempts)
	}
	if n := kit.Events.Count(twofactor.EventCodeRejected) + otherKit.Events.Count(twofactor.EventCodeRejected); n != twofactor.DefaultMaxAttempts {
		t.Errorf("%d rejected codes reported, want %d, one per counted attempt", n, twofactor.DefaultMaxAttempts)
	}
}
