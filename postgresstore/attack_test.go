package postgresstore_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/postgresstore"
)

// sentinels are the errors that the library branches on. A driver failure
// must never match one of them.
var sentinels = []error{
	twofactor.ErrNotFound, twofactor.ErrStepUsed, twofactor.ErrConflict,
}

// newAttackStore returns a migrated Store in a fresh schema on pool and the
// schema's name.
func newAttackStore(t *testing.T, pool *pgxpool.Pool) (*postgresstore.Store, string) {
	t.Helper()
	schema := newSchema(t, pool)
	s := postgresstore.New(pool, postgresstore.WithSchema(schema))
	must(t, "Migrate", s.Migrate(t.Context()))
	return s, schema
}

// waitForBlockedStatements returns once n backends whose query text
// contains marker wait for a lock. It fails the test when done reports
// that one of the calls returned first.
func waitForBlockedStatements(t *testing.T, pool *pgxpool.Pool, marker string, n int, done func() bool) {
	t.Helper()
	for {
		if done() {
			t.Fatal("a call returned before it waited for the row lock")
		}
		var blocked int
		err := pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE cardinality(pg_blocking_pids(pid)) > 0 AND strpos(query, $1) > 0`, marker).Scan(&blocked)
		must(t, "counting the blocked backends", err)
		if blocked >= n {
			return
		}
	}
}

// TestAttackConfirmSetupVersusDeleteEnrollment makes ConfirmSetup and
// DeleteEnrollment of one user overlap. A transaction holds the set-up's
// row lock, ConfirmSetup queues for it first and DeleteEnrollment second,
// and then the lock is released. In any serial order of the two calls the
// user ends without an enrollment, or ConfirmSetup returns ErrNotFound.
func TestAttackConfirmSetupVersusDeleteEnrollment(t *testing.T) {
	tests := []struct {
		name        string
		enrolledYet bool
	}{
		{"re-enrollment", true},
		{"first enrollment", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := newPool(t)
			s, schema := newAttackStore(t, pool)
			ctx := t.Context()
			if tt.enrolledYet {
				enroll(t, s, "u1")
			}
			setup := twofactor.Setup{ID: "s2", UserID: "u1", Secret: []byte("new"), Digits: 6, Period: 30, ExpiresAt: base.Add(time.Hour)}
			must(t, "PutSetup", s.PutSetup(ctx, setup))

			tx, err := pool.Begin(ctx)
			must(t, "Begin", err)
			defer tx.Rollback(ctx) // a no-op after Commit
			_, err = tx.Exec(ctx, "SELECT FROM "+pgx.Identifier{schema, "setups"}.Sanitize()+" WHERE user_id = 'u1' FOR UPDATE")
			must(t, "locking the set-up", err)

			confirmed := make(chan error, 1)
			go func() {
				_, err := s.ConfirmSetup(ctx, "u1", "s2", 7, base)
				confirmed <- err
			}()
			waitForBlockedStatements(t, pool, schema, 1, func() bool { return len(confirmed) > 0 })
			deleted := make(chan error, 1)
			go func() { deleted <- s.DeleteEnrollment(ctx, "u1") }()
			waitForBlockedStatements(t, pool, schema, 2, func() bool { return len(confirmed)+len(deleted) > 0 })
			must(t, "Commit", tx.Commit(ctx))

			confirmErr, deleteErr := <-confirmed, <-deleted
			must(t, "DeleteEnrollment", deleteErr)
			if confirmErr != nil && !errors.Is(confirmErr, twofactor.ErrNotFound) {
				t.Fatalf("ConfirmSetup error = %v, want nil or ErrNotFound", confirmErr)
			}
			_, err = s.GetEnrollment(ctx, "u1")
			if !errors.Is(err, twofactor.ErrNotFound) {
				t.Errorf("GetEnrollment after overlapping ConfirmSetup (error %v) and DeleteEnrollment error = %v, want ErrNotFound", confirmErr, err)
			}
			if _, err := s.GetSetup(ctx, "u1", base); !errors.Is(err, twofactor.ErrNotFound) {
				t.Errorf("GetSetup after DeleteEnrollment error = %v, want ErrNotFound", err)
			}
		})
	}
}

// TestAttackTimeExtremes stores a device that expires at an extreme time,
// then uses it one microsecond before and at that time. A time that the
// column cannot hold must fail with an error that is no sentinel, and must
// never be stored as another time.
func TestAttackTimeExtremes(t *testing.T) {
	tests := []struct {
		name     string
		expires  time.Time
		knownBug string
	}{
		{"zero time", time.Time{}.Add(time.Microsecond), ""},
		{"before 1970", time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{"year 9999", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), ""},
		{"year 200000", time.Date(200000, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{"year 300000", time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{"year 586600", time.Date(586600, 1, 1, 0, 0, 0, 0, time.UTC), "pgx overflows the microseconds of a time after year 294246 without an error, so the device is stored as expiring in 2045"},
	}
	pool := newPool(t)
	s, _ := newAttackStore(t, pool)
	ctx := t.Context()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.knownBug != "" && os.Getenv("TWOFACTOR_SHOW_BUGS") == "" {
				t.Skip("known bug: " + tt.knownBug)
			}
			user := fmt.Sprintf("u%d", i)
			d := twofactor.Device{ID: "d1", UserID: user, TokenHash: []byte("t"), ExpiresAt: tt.expires}
			if err := s.PutDevice(ctx, d); err != nil {
				checkStoreFailure(t, "PutDevice", err)
				return
			}
			got, err := s.UseDevice(ctx, user, []byte("t"), tt.expires.Add(-time.Microsecond))
			if err != nil {
				t.Fatalf("UseDevice one microsecond before the expiry: %v", err)
			}
			if !got.ExpiresAt.Equal(tt.expires) {
				t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, tt.expires)
			}
			if _, err := s.UseDevice(ctx, user, []byte("t"), tt.expires); !errors.Is(err, twofactor.ErrNotFound) {
				t.Errorf("UseDevice at the expiry error = %v, want ErrNotFound", err)
			}
		})
	}
}

// checkStoreFailure fails the test unless err is a store failure: not nil,
// matching no sentinel, and naming the package.
func checkStoreFailure(t *testing.T, op string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s error = nil, want a store failure", op)
		return
	}
	for _, sentinel := range sentinels {
		if errors.Is(err, sentinel) {
			t.Errorf("%s error = %v, which matches %v; want a store failure", op, err, sentinel)
		}
	}
	if !strings.HasPrefix(err.Error(), "twofactor/postgresstore: ") {
		t.Errorf("%s error %q lacks the package prefix", op, err)
	}
}

// TestAttackUserIDsIsolated gives each of several look-alike user IDs a
// device, a backup code, an enrollment and a challenge, and checks that no
// operation of one user reads or changes the records of another, and that
// no user signs in on the challenge of another.
func TestAttackUserIDsIsolated(t *testing.T) {
	ids := []string{
		"u", "U", "u ", " u", "u%", "u_", "%", "_", `u\`, "u'", `u"`,
		"e\u0301", "\u00e9", "u{x}", "u:*", strings.Repeat("u", 256),
	}
	pool := newPool(t)
	s, _ := newAttackStore(t, pool)
	ctx := t.Context()
	challenges := make([]string, len(ids))
	for i, id := range ids {
		enroll(t, s, id)
		must(t, "PutDevice", s.PutDevice(ctx, twofactor.Device{ID: "d", UserID: id, TokenHash: []byte{byte(i)}, ExpiresAt: base.Add(time.Hour)}))
		must(t, "PutBackupCode", s.PutBackupCode(ctx, twofactor.BackupCode{UserID: id, Hash: []byte{byte(i)}, ExpiresAt: base.Add(time.Hour)}))
		challenges[i] = startChallenge(t, s, fmt.Sprintf("c%d", i), id, 0).ID
	}

	for i, id := range ids {
		next := (i + 1) % len(ids)
		other := ids[next]
		ownHash, otherHash := []byte{byte(i)}, []byte{byte(next)}
		if _, err := s.UseDevice(ctx, id, otherHash, base); !errors.Is(err, twofactor.ErrNotFound) {
			t.Errorf("UseDevice(%q) with the device hash of %q error = %v, want ErrNotFound", id, other, err)
		}
		if _, err := s.ConsumeBackupCode(ctx, challenges[i], id, otherHash, base); !errors.Is(err, twofactor.ErrNotFound) {
			t.Errorf("ConsumeBackupCode(%q) with the code hash of %q error = %v, want ErrNotFound", id, other, err)
		}
		if _, err := s.ConsumeBackupCode(ctx, challenges[next], id, ownHash, base); !errors.Is(err, twofactor.ErrNotFound) {
			t.Errorf("ConsumeBackupCode(%q) on the challenge of %q error = %v, want ErrNotFound", id, other, err)
		}
		if err := s.AcceptStep(ctx, challenges[next], id, 5); !errors.Is(err, twofactor.ErrNotFound) {
			t.Errorf("AcceptStep(%q) on the challenge of %q error = %v, want ErrNotFound", id, other, err)
		}
		for range 3 {
			reserve(t, s, challenges[i], 10)
		}
		must(t, "DeleteDevices", s.DeleteDevices(ctx, id))
		must(t, "AcceptStep", s.AcceptStep(ctx, challenges[i], id, 5))

		if i+1 < len(ids) {
			d, err := s.UseDevice(ctx, other, otherHash, base)
			if err != nil || d.UserID != other {
				t.Errorf("UseDevice(%q) after DeleteDevices(%q) = %q, %v; want its own device", other, id, d.UserID, err)
			}
			e, err := s.GetEnrollment(ctx, other)
			must(t, "GetEnrollment", err)
			if e.LastStep != 1 {
				t.Errorf("LastStep of %q after AcceptStep(%q) = %d, want 1", other, id, e.LastStep)
			}
			a, err := s.GetAccount(ctx, other)
			must(t, "GetAccount", err)
			if a.Failures != 0 {
				t.Errorf("Failures of %q after ReserveAttempt(%q) = %d, want 0", other, id, a.Failures)
			}
			c, err := s.GetChallenge(ctx, challenges[next])
			must(t, "GetChallenge", err)
			if c.State != twofactor.StateCodePending {
				t.Errorf("challenge of %q after the calls of %q is %v, want code-pending", other, id, c.State)
			}
		}
	}
}

// TestAttackUnstorableUserIDs passes user IDs that a PostgreSQL text
// column cannot hold. Each call must either behave as for an unknown user
// or fail with a store failure, and no failure may show the secret.
func TestAttackUnstorableUserIDs(t *testing.T) {
	secret := []byte("SEALED-SECRET-BYTES")
	ids := []string{"u\x00", "u\xff", "\xc3(", strings.Repeat("\u00e9", 3000)}
	pool := newPool(t)
	s, _ := newAttackStore(t, pool)
	ctx := t.Context()
	for _, id := range ids {
		t.Run(fmt.Sprintf("%.12q", id), func(t *testing.T) {
			if err := s.PutSetup(ctx, twofactor.Setup{ID: "s1", UserID: id, Secret: secret, ExpiresAt: base.Add(time.Hour)}); err != nil {
				checkStoreFailure(t, "PutSetup", err)
				if bytes.Contains([]byte(err.Error()), secret) {
					t.Errorf("PutSetup error %q contains the secret", err)
				}
			}
			if _, err := s.GetEnrollment(ctx, id); !errors.Is(err, twofactor.ErrNotFound) {
				checkStoreFailure(t, "GetEnrollment", err)
			}
			c := twofactor.Challenge{ID: id, UserID: id, State: twofactor.StateCodePending, Deadline: base.Add(time.Hour), ExpiresAt: base.Add(time.Hour)}
			if err := s.CreateChallenge(ctx, c); err != nil {
				checkStoreFailure(t, "CreateChallenge", err)
			}
			// The ID serves as the challenge ID as well.
			if _, err := s.ReserveAttempt(ctx, id, 5, base, twofactor.Verdict{}); err != nil && !errors.Is(err, twofactor.ErrNotFound) {
				checkStoreFailure(t, "ReserveAttempt", err)
			}
			if err := s.AcceptStep(ctx, id, id, 5); !errors.Is(err, twofactor.ErrNotFound) {
				checkStoreFailure(t, "AcceptStep", err)
			}
			if _, err := s.ConsumeBackupCode(ctx, id, id, secret, base); !errors.Is(err, twofactor.ErrNotFound) {
				checkStoreFailure(t, "ConsumeBackupCode", err)
			}
			if err := s.ReplaceSecret(ctx, id, secret, secret); !errors.Is(err, twofactor.ErrNotFound) {
				checkStoreFailure(t, "ReplaceSecret", err)
			}
		})
	}
}

// TestAttackDeleteDevicesDuringUse uses a device from many goroutines
// while DeleteDevices runs. Once DeleteDevices returns, no use succeeds.
func TestAttackDeleteDevicesDuringUse(t *testing.T) {
	pool := newPool(t)
	s, _ := newAttackStore(t, pool)
	ctx := t.Context()
	must(t, "PutDevice", s.PutDevice(ctx, twofactor.Device{ID: "d1", UserID: "u1", TokenHash: []byte("t"), ExpiresAt: base.Add(time.Hour)}))

	var (
		wg      sync.WaitGroup
		deleted = make(chan struct{})
		start   = make(chan struct{})
	)
	for i := range 20 {
		wg.Go(func() {
			<-start
			if i == 10 {
				must(t, "DeleteDevices", s.DeleteDevices(ctx, "u1"))
				close(deleted)
				return
			}
			if _, err := s.UseDevice(ctx, "u1", []byte("t"), base); err != nil && !errors.Is(err, twofactor.ErrNotFound) {
				t.Errorf("UseDevice: %v", err)
			}
		})
	}
	close(start)
	<-deleted
	if _, err := s.UseDevice(ctx, "u1", []byte("t"), base); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("UseDevice after DeleteDevices error = %v, want ErrNotFound", err)
	}
	wg.Wait()
}
