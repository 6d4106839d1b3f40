package postgresstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/postgresstore"
)

// The tests in this file run the statements of a code submission,
// ReserveAttempt, AcceptStep and ConsumeBackupCode, concurrently with each
// other and with Unlock on the server. Each of the three locks the
// challenge row before any row of the user. If two of them waited on each
// other's locks in a cycle, PostgreSQL would abort one with "deadlock
// detected" (SQLSTATE 40P01), and the tests fail on that error as on any
// other.

const (
	// raceClients is the number of goroutines of each round of a race.
	raceClients = 30

	// raceRounds is the number of rounds of each race.
	raceRounds = 10

	// raceTimeout bounds one round, so that calls that wait on each other
	// forever fail the test instead of hanging it.
	raceTimeout = 30 * time.Second

	// raceLimit is an attempt limit that no race reaches, so that only
	// the challenge and the generation decide whether a call reserves.
	raceLimit = 1000
)

// newRaceStore returns a migrated Store in a fresh schema on a pool with a
// connection for every goroutine of a race, so that the calls wait on row
// locks rather than on the pool. It also returns the pool and the schema's
// name.
func newRaceStore(t *testing.T) (*postgresstore.Store, *pgxpool.Pool, string) {
	t.Helper()
	cfg := poolConfig(t)
	cfg.MaxConns = raceClients + 2
	pool := openPool(t, cfg)
	schema := newSchema(t, pool)
	s := postgresstore.New(pool, postgresstore.WithSchema(schema))
	must(t, "Migrate", s.Migrate(t.Context()))
	return s, pool, schema
}

// runRace calls f(ctx, 0) to f(ctx, n-1) in n goroutines released at once,
// with a context that ends after raceTimeout, and returns when all have
// returned.
func runRace(t *testing.T, n int, f func(ctx context.Context, i int)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), raceTimeout)
	defer cancel()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			f(ctx, i)
		})
	}
	close(start)
	wg.Wait()
}

// TestSubmissionStatementsConcurrent runs, on one challenge from
// raceClients goroutines, ReserveAttempt without a verdict, AcceptStep,
// ConsumeBackupCode, and ReserveAttempt with a right app code's verdict
// and with a right backup code's, a fifth of them each, for raceRounds
// rounds with a new challenge and backup code each. No call may fail or
// deadlock, exactly one call may sign in per challenge, and the sign-in
// must leave no failure counted, because it clears the reservations before
// it and none is taken after it.
func TestSubmissionStatementsConcurrent(t *testing.T) {
	s, pool, schema := newRaceStore(t)
	ctx := t.Context()
	enroll(t, s, "u1")
	// enroll stores the sealed secret "x".
	secret := []byte("x")
	lastStep := int64(1)
	for round := range raceRounds {
		c := startChallenge(t, s, fmt.Sprintf("c%d", round), "u1", 0)
		hash := []byte(fmt.Sprintf("h%d", round))
		must(t, "PutBackupCode", s.PutBackupCode(ctx, twofactor.BackupCode{UserID: "u1", Hash: hash, ExpiresAt: base.Add(time.Hour)}))
		// Every step of the round is above every step of earlier rounds.
		firstStep := lastStep + 1 + int64(round*raceClients)

		var (
			mu       sync.Mutex
			stepWins []int64
			codeWins int
		)
		runRace(t, raceClients, func(ctx context.Context, i int) {
			step := firstStep + int64(i)
			switch i % 5 {
			case 0:
				a, err := s.ReserveAttempt(ctx, c.ID, raceLimit, base, twofactor.Verdict{})
				if err != nil {
					t.Errorf("round %d: ReserveAttempt: %v", round, err)
				} else if a.Account.Failures > raceClients {
					t.Errorf("round %d: ReserveAttempt Failures = %d, want at most %d", round, a.Account.Failures, raceClients)
				}
			case 1:
				err := s.AcceptStep(ctx, c.ID, "u1", step)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					stepWins = append(stepWins, step)
				case !errors.Is(err, twofactor.ErrConflict):
					t.Errorf("round %d: AcceptStep(%d) error = %v, want nil or ErrConflict", round, step, err)
				}
			case 2:
				_, err := s.ConsumeBackupCode(ctx, c.ID, "u1", hash, base)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					codeWins++
				case !errors.Is(err, twofactor.ErrConflict):
					t.Errorf("round %d: ConsumeBackupCode error = %v, want nil or ErrConflict", round, err)
				}
			case 3, 4:
				v := twofactor.Verdict{BackupHash: hash}
				if i%5 == 3 {
					v = twofactor.Verdict{Secret: secret, Matched: true, Step: step}
				}
				a, err := s.ReserveAttempt(ctx, c.ID, raceLimit, base, v)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					t.Errorf("round %d: ReserveAttempt with a right verdict: %v", round, err)
				case a.Accepted && v.BackupHash != nil:
					codeWins++
				case a.Accepted:
					stepWins = append(stepWins, step)
				}
			}
		})
		if t.Failed() {
			t.FailNow()
		}

		if wins := len(stepWins) + codeWins; wins != 1 {
			t.Fatalf("round %d: %d app codes and %d backup codes signed in on one challenge, want 1 in all", round, len(stepWins), codeWins)
		}
		after := fmt.Sprintf("round %d", round)
		wantChallengeState(t, s, c.ID, twofactor.StateSucceeded, after)
		wantAccountFailures(t, s, "u1", 0, after)
		codes := backupCodeCount(t, pool, schema, "u1")
		if len(stepWins) == 1 {
			lastStep = stepWins[0]
			if codes != 1 {
				t.Errorf("%s: an app code signed in, but the user has %d backup codes, want 1", after, codes)
			}
		} else if codes != 0 {
			t.Errorf("%s: a backup code signed in, but the user has %d backup codes, want 0", after, codes)
		}
		e, err := s.GetEnrollment(ctx, "u1")
		must(t, "GetEnrollment", err)
		if e.LastStep != lastStep {
			t.Errorf("%s: LastStep = %d, want %d", after, e.LastStep, lastStep)
		}
	}
}

// TestReserveAttemptRacingUnlock runs ReserveAttempt on a challenge of the
// current generation from raceClients-1 goroutines and Unlock from one, for
// raceRounds rounds. The first round starts without an account row, so the
// first reservation and the unlock both insert one. Every attempt reserved
// before the unlock is cleared by it, and none may be reserved after it,
// so the count must be zero after each round. A call that starts after
// Unlock returned must reserve nothing.
func TestReserveAttemptRacingUnlock(t *testing.T) {
	s, _, _ := newRaceStore(t)
	enroll(t, s, "u1")
	for round := range raceRounds {
		generation := int64(round)
		c := startChallenge(t, s, fmt.Sprintf("c%d", round), "u1", generation)
		var unlocked atomic.Bool
		runRace(t, raceClients, func(ctx context.Context, i int) {
			if i == raceClients/2 {
				if err := s.Unlock(ctx, "u1", base, false); err != nil {
					t.Errorf("round %d: Unlock: %v", round, err)
				}
				unlocked.Store(true)
				return
			}
			afterUnlock := unlocked.Load()
			a, err := s.ReserveAttempt(ctx, c.ID, raceLimit, base, twofactor.Verdict{})
			switch {
			case err != nil:
				t.Errorf("round %d: ReserveAttempt: %v", round, err)
			case !a.Reserved:
			case afterUnlock:
				t.Errorf("round %d: ReserveAttempt that started after Unlock returned reserved an attempt on a challenge of generation %d", round, generation)
			case a.Account.Generation != generation:
				t.Errorf("round %d: ReserveAttempt reserved an attempt at account generation %d on a challenge of generation %d", round, a.Account.Generation, generation)
			}
		})
		a, err := s.GetAccount(t.Context(), "u1")
		must(t, "GetAccount", err)
		if a.Failures != 0 || a.Generation != generation+1 {
			t.Fatalf("account after round %d = %+v, want 0 failures at generation %d", round, a, generation+1)
		}
		later, err := s.ReserveAttempt(t.Context(), c.ID, raceLimit, base, twofactor.Verdict{})
		must(t, "ReserveAttempt after the unlock", err)
		if later.Reserved {
			t.Errorf("round %d: ReserveAttempt after the unlock reserved an attempt on a challenge of generation %d", round, generation)
		}
	}
}

// TestSignInClearsFailuresCountedWhileWaiting holds, in a transaction,
// the challenge's row lock and counts a failure, as a ReserveAttempt on the
// challenge does. A sign-in on the challenge starts meanwhile and decides
// after the commit. Ordered after the reservation, it must leave the count
// at zero, whether the reservation added to an account row or inserted the
// first one.
func TestSignInClearsFailuresCountedWhileWaiting(t *testing.T) {
	signIns := []struct {
		name string
		call func(ctx context.Context, s *postgresstore.Store, challengeID string) error
	}{
		{"AcceptStep", func(ctx context.Context, s *postgresstore.Store, challengeID string) error {
			return s.AcceptStep(ctx, challengeID, "u1", 2)
		}},
		{"ConsumeBackupCode", func(ctx context.Context, s *postgresstore.Store, challengeID string) error {
			_, err := s.ConsumeBackupCode(ctx, challengeID, "u1", []byte("h"), base)
			return err
		}},
	}
	for _, signIn := range signIns {
		for _, accountRow := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/account row %t", signIn.name, accountRow), func(t *testing.T) {
				pool := newPool(t)
				s, schema := newAttackStore(t, pool)
				ctx := t.Context()
				enroll(t, s, "u1")
				must(t, "PutBackupCode", s.PutBackupCode(ctx, twofactor.BackupCode{UserID: "u1", Hash: []byte("h"), ExpiresAt: base.Add(time.Hour)}))
				if accountRow {
					reserve(t, s, startChallenge(t, s, "earlier", "u1", 0).ID, 5)
					must(t, "ReleaseAttempt", s.ReleaseAttempt(ctx, "u1"))
				}
				c := startChallenge(t, s, "c1", "u1", 0)

				tx, err := pool.Begin(ctx)
				must(t, "Begin", err)
				defer tx.Rollback(ctx) // a no-op after Commit
				var holder uint32
				must(t, "reading the backend PID", tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&holder))
				_, err = tx.Exec(ctx, "SELECT FROM "+pgx.Identifier{schema, "challenges"}.Sanitize()+" WHERE id = $1 FOR NO KEY UPDATE", c.ID)
				must(t, "locking the challenge in the transaction", err)
				accounts := pgx.Identifier{schema, "accounts"}.Sanitize()
				_, err = tx.Exec(ctx, "INSERT INTO "+accounts+" AS a (user_id, failures) VALUES ('u1', 1)"+
					" ON CONFLICT (user_id) DO UPDATE SET failures = a.failures + 1")
				must(t, "counting a failure in the transaction", err)

				done := make(chan error, 1)
				go func() { done <- signIn.call(ctx, s, c.ID) }()
				waitForBlockedBackend(t, pool, holder, func() bool { return len(done) > 0 })
				must(t, "Commit", tx.Commit(ctx))

				must(t, signIn.name+" after the commit", <-done)
				wantChallengeState(t, s, c.ID, twofactor.StateSucceeded, signIn.name)
				wantAccountFailures(t, s, "u1", 0, signIn.name+" that waited for a reservation")
			})
		}
	}
}

// TestConsumeBackupCodeAfterConcurrentUse holds, in a transaction, the row
// locks that a winning ConsumeBackupCode takes, and makes its changes:
// the backup code deleted and the challenge succeeded. A second
// ConsumeBackupCode on the challenge starts meanwhile and decides after the
// commit. Ordered after the first, it finds the challenge succeeded, so
// the contract of ConsumeBackupCode calls for ErrConflict.
func TestConsumeBackupCodeAfterConcurrentUse(t *testing.T) {
	pool := newPool(t)
	s, schema := newAttackStore(t, pool)
	ctx := t.Context()
	enroll(t, s, "u1")
	c := startChallenge(t, s, "c1", "u1", 0)
	must(t, "PutBackupCode", s.PutBackupCode(ctx, twofactor.BackupCode{UserID: "u1", Hash: []byte("h"), ExpiresAt: base.Add(time.Hour)}))

	tx, err := pool.Begin(ctx)
	must(t, "Begin", err)
	defer tx.Rollback(ctx) // a no-op after Commit
	var holder uint32
	must(t, "reading the backend PID", tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&holder))
	_, err = tx.Exec(ctx, "UPDATE "+pgx.Identifier{schema, "challenges"}.Sanitize()+" SET state = $1 WHERE id = $2",
		twofactor.StateSucceeded, c.ID)
	must(t, "closing the challenge in the transaction", err)
	_, err = tx.Exec(ctx, "DELETE FROM "+pgx.Identifier{schema, "backup_codes"}.Sanitize()+" WHERE user_id = 'u1'")
	must(t, "deleting the backup code in the transaction", err)

	done := make(chan error, 1)
	go func() {
		_, err := s.ConsumeBackupCode(ctx, c.ID, "u1", []byte("h"), base)
		done <- err
	}()
	waitForBlockedBackend(t, pool, holder, func() bool { return len(done) > 0 })
	must(t, "Commit", tx.Commit(ctx))

	if err := <-done; !errors.Is(err, twofactor.ErrConflict) {
		t.Errorf("ConsumeBackupCode after a concurrent use of the code on the challenge error = %v, want ErrConflict", err)
	}
}

// wantChallengeState fails the test unless the challenge is in the state.
func wantChallengeState(t *testing.T, s *postgresstore.Store, id string, want twofactor.State, after string) {
	t.Helper()
	c, err := s.GetChallenge(t.Context(), id)
	if err != nil {
		t.Errorf("GetChallenge(%q) after %s: %v", id, after, err)
		return
	}
	if c.State != want {
		t.Errorf("challenge %q after %s is %v, want %v", id, after, c.State, want)
	}
}

// wantAccountFailures fails the test unless the user's count is want.
func wantAccountFailures(t *testing.T, s *postgresstore.Store, userID string, want int, after string) {
	t.Helper()
	a, err := s.GetAccount(t.Context(), userID)
	if err != nil {
		t.Errorf("GetAccount(%q) after %s: %v", userID, after, err)
		return
	}
	if a.Failures != want {
		t.Errorf("Failures of %q after %s = %d, want %d", userID, after, a.Failures, want)
	}
}

// backupCodeCount returns the number of the user's rows in the
// backup_codes table of the schema.
func backupCodeCount(t *testing.T, pool *pgxpool.Pool, schema, userID string) int {
	t.Helper()
	var n int
	err := pool.QueryRow(t.Context(), "SELECT count(*) FROM "+pgx.Identifier{schema, "backup_codes"}.Sanitize()+" WHERE user_id = $1", userID).Scan(&n)
	must(t, "counting backup codes", err)
	return n
}
