package postgresstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/postgresstore"
	"github.com/twofactor-go/twofactor/storetest"
)

// urlVariable names the environment variable with the server's URL.
const urlVariable = "TWOFACTOR_POSTGRES_URL"

// testMaxConns bounds each test pool. The concurrency cases start 50
// goroutines, and pgxpool queues those that find no free connection.
const testMaxConns = 8

var _ twofactor.Store = (*postgresstore.Store)(nil)

// serverURL returns the server's URL. When it is unset the test is
// skipped, except under CI=true, where it fails.
func serverURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(urlVariable)
	if url == "" && os.Getenv("CI") == "true" {
		t.Fatalf("%s is unset; CI must run the PostgreSQL tests", urlVariable)
	}
	if url == "" {
		t.Skipf("set %s to run the PostgreSQL tests, for example postgres://postgres@127.0.0.1:5432/test?sslmode=disable", urlVariable)
	}
	return url
}

// poolConfig parses the server's URL into a pool configuration with at
// most testMaxConns connections.
func poolConfig(t testing.TB) *pgxpool.Config {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(serverURL(t))
	if err != nil {
		t.Fatalf("parsing %s: %v", urlVariable, err)
	}
	cfg.MaxConns = testMaxConns
	return cfg
}

// openPool connects to the server and fails the test when it cannot.
func openPool(t testing.TB, cfg *pgxpool.Config) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connecting to %s: %v", urlVariable, err)
	}
	t.Cleanup(pool.Close)
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("connecting to the server in %s: %v", urlVariable, err)
	}
	return pool
}

// newPool returns a pool on the test server.
func newPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return openPool(t, poolConfig(t))
}

// newSchema returns the name of a new, empty schema on pool's server that
// is dropped when the test ends.
func newSchema(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	return newPrefixedSchema(t, pool, "tf_test_")
}

// newPrefixedSchema is newSchema with a name of prefix and 16 random hex
// digits.
func newPrefixedSchema(t testing.TB, pool *pgxpool.Pool, prefix string) string {
	t.Helper()
	name := prefix + randomHex(t, 8)
	t.Cleanup(func() { dropSchema(t, pool, name) })
	return name
}

func dropSchema(t testing.TB, pool *pgxpool.Pool, name string) {
	t.Helper()
	// t.Context is already canceled when cleanups run.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
		t.Errorf("dropping schema %q: %v", name, err)
	}
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// newStore returns a migrated Store in a fresh schema on pool.
func newStore(t testing.TB, pool *pgxpool.Pool) *postgresstore.Store {
	t.Helper()
	s := postgresstore.New(pool, postgresstore.WithSchema(newSchema(t, pool)))
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	pool := newPool(t)
	storetest.Run(t, func(t *testing.T) twofactor.Store { return newStore(t, pool) })
}

func TestMigrateIdempotent(t *testing.T) {
	pool := newPool(t)
	s := newStore(t, pool)
	ctx := t.Context()
	must(t, "PutBackupCode", s.PutBackupCode(ctx, twofactor.BackupCode{UserID: "u1", Hash: []byte("h"), ExpiresAt: base.Add(time.Hour)}))
	c := startChallenge(t, s, "c1", "u1", 0)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if _, err := s.ConsumeBackupCode(ctx, c.ID, "u1", []byte("h"), base); err != nil {
		t.Errorf("record lost by the second Migrate: %v", err)
	}
}

func TestMigrateConcurrent(t *testing.T) {
	pool := newPool(t)
	schema := newSchema(t, pool)
	const instances = 6
	var wg sync.WaitGroup
	errs := make([]error, instances)
	start := make(chan struct{})
	for i := range instances {
		// Each instance has its own Store, as separate processes would.
		s := postgresstore.New(pool, postgresstore.WithSchema(schema))
		wg.Go(func() {
			<-start
			errs[i] = s.Migrate(t.Context())
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate of instance %d: %v", i, err)
		}
	}
	s := postgresstore.New(pool, postgresstore.WithSchema(schema))
	if _, err := s.GetAccount(t.Context(), "u1"); err != nil {
		t.Errorf("GetAccount after concurrent migrations: %v", err)
	}
}

func TestSchemaNameQuoted(t *testing.T) {
	pool := newPool(t)
	// A name that breaks out of unquoted or badly quoted SQL.
	name := `tf test "q"; DROP ` + randomHex(t, 4)
	t.Cleanup(func() { dropSchema(t, pool, name) })
	s := postgresstore.New(pool, postgresstore.WithSchema(name))
	ctx := t.Context()
	must(t, "Migrate", s.Migrate(ctx))
	must(t, "PutSetup", s.PutSetup(ctx, twofactor.Setup{ID: "s1", UserID: "u1", Secret: []byte("x"), ExpiresAt: base.Add(time.Hour)}))
	var tables int
	err := pool.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", name).Scan(&tables)
	must(t, "counting tables", err)
	if tables != 6 {
		t.Errorf("schema %q has %d tables, want 6", name, tables)
	}
}

func TestNewInvalidSchema(t *testing.T) {
	tests := []struct {
		name   string
		schema string
	}{
		{"empty", ""},
		{"too long", strings.Repeat("s", 64)},
		{"NUL byte", "tf\x00x"},
		{"invalid UTF-8", "tf\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatalf("New(WithSchema(%q)) did not panic", tt.schema)
				}
				if err, ok := r.(error); !ok || !strings.HasPrefix(err.Error(), "twofactor/postgresstore: schema name") {
					t.Errorf("panic value = %v, want a schema name error", r)
				}
			}()
			postgresstore.New(nil, postgresstore.WithSchema(tt.schema))
		})
	}
}

func TestNewLongestSchema(t *testing.T) {
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("New with a 63-byte schema name panicked: %v", r)
		}
	}()
	postgresstore.New(nil, postgresstore.WithSchema(strings.Repeat("s", 63)))
}

func TestTimesUTC(t *testing.T) {
	pool := newPool(t)
	s := newStore(t, pool)
	ctx := t.Context()
	zone := time.FixedZone("UTC+5", 5*60*60)
	created := time.Date(2026, 3, 1, 17, 0, 0, 123456000, zone)
	c := twofactor.Challenge{
		ID: "c1", UserID: "u1", Role: twofactor.RoleAgent, State: twofactor.StateCodePending,
		CreatedAt: created, Deadline: created.Add(time.Minute), ExpiresAt: created.Add(time.Hour),
	}
	must(t, "CreateChallenge", s.CreateChallenge(ctx, c))
	got, err := s.GetChallenge(ctx, "c1")
	must(t, "GetChallenge", err)
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt location = %v, want UTC", got.CreatedAt.Location())
	}
	if !got.CreatedAt.Equal(created) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, created)
	}
}

func TestTimesTruncatedToMicroseconds(t *testing.T) {
	pool := newPool(t)
	s := newStore(t, pool)
	ctx := t.Context()
	expires := base.Add(time.Hour + 1500*time.Nanosecond)
	must(t, "PutSetup", s.PutSetup(ctx, twofactor.Setup{ID: "s1", UserID: "u1", ExpiresAt: expires}))
	got, err := s.GetSetup(ctx, "u1", base)
	must(t, "GetSetup", err)
	if want := expires.Truncate(time.Microsecond); !got.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, want)
	}
}

func TestPutDeviceDuplicateID(t *testing.T) {
	pool := newPool(t)
	s := newStore(t, pool)
	ctx := t.Context()
	d := twofactor.Device{ID: "d1", UserID: "u1", TokenHash: []byte("h1"), ExpiresAt: base.Add(time.Hour)}
	must(t, "PutDevice", s.PutDevice(ctx, d))
	d.TokenHash = []byte("h2")
	if err := s.PutDevice(ctx, d); !errors.Is(err, twofactor.ErrConflict) {
		t.Errorf("PutDevice with a used ID error = %v, want ErrConflict", err)
	}
	d.UserID = "u2"
	if err := s.PutDevice(ctx, d); err != nil {
		t.Errorf("PutDevice with another user's ID: %v", err)
	}
}

func TestReserveAttemptNonPositiveLimit(t *testing.T) {
	pool := newPool(t)
	s := newStore(t, pool)
	ctx := t.Context()
	enroll(t, s, "u1")
	enroll(t, s, "u2")
	c1 := startChallenge(t, s, "c1", "u1", 0)
	c2 := startChallenge(t, s, "c2", "u2", 0)
	reserve(t, s, c2.ID, 5)

	tests := []struct {
		user         string
		challengeID  string
		limit        int
		wantFailures int
	}{
		{"u1", c1.ID, 0, 0},
		{"u1", c1.ID, -1, 0},
		{"u2", c2.ID, 0, 1},
		{"u2", c2.ID, -1, 1},
	}
	for _, tt := range tests {
		a, err := s.ReserveAttempt(ctx, tt.challengeID, tt.limit, base, twofactor.Verdict{})
		must(t, "ReserveAttempt", err)
		if a.Reserved {
			t.Errorf("ReserveAttempt(challenge of %q, limit %d) reserved an attempt, want none", tt.user, tt.limit)
		}
		if a.Account.Failures != tt.wantFailures {
			t.Errorf("ReserveAttempt(challenge of %q, limit %d) Failures = %d, want %d", tt.user, tt.limit, a.Account.Failures, tt.wantFailures)
		}
	}
	for _, tt := range tests {
		a, err := s.GetAccount(ctx, tt.user)
		must(t, "GetAccount", err)
		if a.Failures != tt.wantFailures {
			t.Errorf("GetAccount(%q) Failures = %d, want %d", tt.user, a.Failures, tt.wantFailures)
		}
	}
}

func TestReserveAttemptCreatesNoAccountUnenrolled(t *testing.T) {
	pool := newPool(t)
	schema := newSchema(t, pool)
	s := postgresstore.New(pool, postgresstore.WithSchema(schema))
	ctx := t.Context()
	must(t, "Migrate", s.Migrate(ctx))
	if _, err := s.ReserveAttempt(ctx, "missing", 5, base, twofactor.Verdict{}); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("ReserveAttempt on a missing challenge error = %v, want ErrNotFound", err)
	}
	c := startChallenge(t, s, "c1", "u1", 0)
	a, err := s.ReserveAttempt(ctx, c.ID, 5, base, twofactor.Verdict{})
	must(t, "ReserveAttempt of an unenrolled user", err)
	if a.Reserved {
		t.Errorf("ReserveAttempt of an unenrolled user reserved an attempt, want none")
	}
	if a.Enrollment.UserID != "" {
		t.Errorf("ReserveAttempt of an unenrolled user returned the enrollment of %q, want none", a.Enrollment.UserID)
	}
	if a.Challenge.ID != c.ID || a.Challenge.UserID != "u1" {
		t.Errorf("ReserveAttempt returned challenge %q of %q, want %q of u1", a.Challenge.ID, a.Challenge.UserID, c.ID)
	}
	var rows int
	err = pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema, "accounts"}.Sanitize()).Scan(&rows)
	must(t, "counting accounts", err)
	if rows != 0 {
		t.Errorf("accounts has %d rows after ReserveAttempt of an unenrolled user, want 0", rows)
	}
}

// TestReserveAttemptAfterRowLock holds the account's row lock in a
// transaction that raises the count to the limit, so that ReserveAttempt
// starts while the stored count is below the limit and decides only after
// the commit. It must see the committed count and reserve nothing. The
// count that it reports may be the one as of the statement's start, as
// postgresstore documents for a call that reserves nothing.
func TestReserveAttemptAfterRowLock(t *testing.T) {
	const limit = 5
	pool := newPool(t)
	schema := newSchema(t, pool)
	s := postgresstore.New(pool, postgresstore.WithSchema(schema))
	ctx := t.Context()
	must(t, "Migrate", s.Migrate(ctx))
	enroll(t, s, "u1")
	c := startChallenge(t, s, "c1", "u1", 0)
	for range limit - 1 {
		reserve(t, s, c.ID, limit)
	}

	tx, err := pool.Begin(ctx)
	must(t, "Begin", err)
	defer tx.Rollback(ctx) // a no-op after Commit
	var holder uint32
	must(t, "reading the backend PID", tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&holder))
	_, err = tx.Exec(ctx, "UPDATE "+pgx.Identifier{schema, "accounts"}.Sanitize()+" SET failures = $1 WHERE user_id = 'u1'", limit)
	must(t, "raising the count in the transaction", err)

	done := reserveInBackground(ctx, s, c.ID, limit)
	waitForBlockedBackend(t, pool, holder, func() bool { return len(done) > 0 })
	must(t, "Commit", tx.Commit(ctx))

	got := <-done
	must(t, "ReserveAttempt after the commit", got.err)
	if got.attempt.Reserved {
		t.Errorf("ReserveAttempt after the commit reserved an attempt past the limit")
	}
	if f := got.attempt.Account.Failures; f != limit-1 && f != limit {
		t.Errorf("ReserveAttempt after the commit Failures = %d, want %d or %d", f, limit-1, limit)
	}
	a, err := s.GetAccount(ctx, "u1")
	must(t, "GetAccount", err)
	if a.Failures != limit {
		t.Errorf("GetAccount Failures = %d, want %d", a.Failures, limit)
	}
}

// TestReserveAttemptAfterUnlockCommits holds the account's row lock in a
// transaction that makes the change of Unlock, so that ReserveAttempt on a
// challenge of the old generation starts before the unlock and decides
// only after its commit. It must see the new generation and reserve
// nothing, and the unlock's zero count must stay.
func TestReserveAttemptAfterUnlockCommits(t *testing.T) {
	pool := newPool(t)
	schema := newSchema(t, pool)
	s := postgresstore.New(pool, postgresstore.WithSchema(schema))
	ctx := t.Context()
	must(t, "Migrate", s.Migrate(ctx))
	enroll(t, s, "u1")
	c := startChallenge(t, s, "c1", "u1", 0)
	reserve(t, s, c.ID, 5)

	tx, err := pool.Begin(ctx)
	must(t, "Begin", err)
	defer tx.Rollback(ctx) // a no-op after Commit
	var holder uint32
	must(t, "reading the backend PID", tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&holder))
	_, err = tx.Exec(ctx, "UPDATE "+pgx.Identifier{schema, "accounts"}.Sanitize()+
		" SET failures = 0, generation = generation + 1, unlocked_at = $1 WHERE user_id = 'u1'", base)
	must(t, "unlocking in the transaction", err)

	done := reserveInBackground(ctx, s, c.ID, 5)
	waitForBlockedBackend(t, pool, holder, func() bool { return len(done) > 0 })
	must(t, "Commit", tx.Commit(ctx))

	got := <-done
	must(t, "ReserveAttempt after the unlock", got.err)
	if got.attempt.Reserved {
		t.Errorf("ReserveAttempt on a challenge of generation 0 reserved an attempt after the unlock to generation 1")
	}
	a, err := s.GetAccount(ctx, "u1")
	must(t, "GetAccount", err)
	if a.Failures != 0 || a.Generation != 1 {
		t.Errorf("account after the unlock = %+v, want 0 failures at generation 1", a)
	}
}

// reserveResult is the outcome of a ReserveAttempt call.
type reserveResult struct {
	attempt twofactor.Attempt
	err     error
}

// reserveInBackground calls ReserveAttempt on the challenge at base in a
// new goroutine and sends its outcome to the returned channel.
func reserveInBackground(ctx context.Context, s *postgresstore.Store, challengeID string, limit int) <-chan reserveResult {
	done := make(chan reserveResult, 1)
	go func() {
		a, err := s.ReserveAttempt(ctx, challengeID, limit, base, twofactor.Verdict{})
		done <- reserveResult{a, err}
	}()
	return done
}

// waitForBlockedBackend returns once some backend waits for a lock that
// the backend holder holds. It fails the test when returned reports that
// the call expected to wait has returned instead, or when the test's
// context ends first.
func waitForBlockedBackend(t *testing.T, pool *pgxpool.Pool, holder uint32, returned func() bool) {
	t.Helper()
	for {
		if returned() {
			t.Fatal("the call returned before it waited for the row lock")
		}
		var blocked bool
		err := pool.QueryRow(t.Context(), `SELECT EXISTS (SELECT FROM pg_stat_activity
			WHERE $1 = ANY (pg_blocking_pids(pid)))`, int32(holder)).Scan(&blocked)
		must(t, "reading the blocked backends", err)
		if blocked {
			return
		}
	}
}

func TestListEnrollmentsByteOrder(t *testing.T) {
	pool := newPool(t)
	schema := newSchema(t, pool)
	s := postgresstore.New(pool, postgresstore.WithSchema(schema))
	ctx := t.Context()
	must(t, "Migrate", s.Migrate(ctx))

	// A server whose default collation is C or C.UTF-8 sorts byte-wise
	// anyway, so check that the column names its collation.
	var collation string
	err := pool.QueryRow(ctx, `SELECT collation_name FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = 'enrollments' AND column_name = 'user_id'`, schema).Scan(&collation)
	must(t, "reading the collation of enrollments.user_id", err)
	if collation != "C" {
		t.Errorf("enrollments.user_id collation = %q, want %q", collation, "C")
	}

	// A linguistic collation would sort these case-insensitively or by
	// accent; byte order puts "B" < "a" < "b" < "é".
	ids := []string{"é", "b", "a", "B"}
	for _, id := range ids {
		enroll(t, s, id)
	}

	list, err := s.ListEnrollments(ctx, "", 10)
	must(t, "ListEnrollments", err)
	var got []string
	for _, e := range list {
		got = append(got, e.UserID)
	}
	if want := "B a b é"; strings.Join(got, " ") != want {
		t.Errorf("ListEnrollments order = %q, want %q", strings.Join(got, " "), want)
	}

	list, err = s.ListEnrollments(ctx, "a", 0)
	must(t, "ListEnrollments(limit 0)", err)
	if len(list) != 0 {
		t.Errorf("ListEnrollments(limit 0) returned %d enrollments, want 0", len(list))
	}
}

func TestConfirmSetupConcurrent(t *testing.T) {
	s := newStore(t, newPool(t))
	ctx := t.Context()
	must(t, "PutSetup", s.PutSetup(ctx, twofactor.Setup{ID: "s1", UserID: "u1", Secret: []byte("x"), ExpiresAt: base.Add(time.Hour)}))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		wins  int
		start = make(chan struct{})
	)
	for i := range 50 {
		wg.Go(func() {
			<-start
			_, err := s.ConfirmSetup(ctx, "u1", "s1", int64(i), base)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, twofactor.ErrNotFound):
				t.Errorf("ConfirmSetup: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent confirmations of one set-up succeeded, want 1", wins)
	}
}

func TestClosedPoolFails(t *testing.T) {
	schema := newSchema(t, newPool(t))
	pool := newPool(t)
	s := postgresstore.New(pool, postgresstore.WithSchema(schema))
	must(t, "Migrate", s.Migrate(t.Context()))
	pool.Close()
	ctx := t.Context()
	// The challenge ID is a bearer value, so no error may show it.
	const challengeID = "challenge-id-0123456789abcdef"
	challengeCalls := []struct {
		name string
		err  error
	}{
		{"ReserveAttempt", errOf(s.ReserveAttempt(ctx, challengeID, 5, base, twofactor.Verdict{}))},
		{"AcceptStep", s.AcceptStep(ctx, challengeID, "u1", 1)},
		{"ConsumeBackupCode", errOf(s.ConsumeBackupCode(ctx, challengeID, "u1", []byte("h"), base))},
		{"CreateChallenge", s.CreateChallenge(ctx, twofactor.Challenge{ID: challengeID, UserID: "u1"})},
		{"GetChallenge", errOf(s.GetChallenge(ctx, challengeID))},
		{"UpdateChallenge", s.UpdateChallenge(ctx, challengeID, twofactor.StateCodePending, twofactor.StateLocked)},
	}
	for _, call := range challengeCalls {
		if call.err == nil || errors.Is(call.err, twofactor.ErrNotFound) {
			t.Errorf("%s on a closed pool error = %v, want a store failure", call.name, call.err)
			continue
		}
		if strings.Contains(call.err.Error(), challengeID) {
			t.Errorf("%s error %q contains the challenge ID", call.name, call.err)
		}
	}
	_, err := s.GetEnrollment(ctx, "u1")
	if err == nil || errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("GetEnrollment on a closed pool error = %v, want a store failure", err)
	}
	if !strings.HasPrefix(err.Error(), "twofactor/postgresstore: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
}

func TestCanceledContext(t *testing.T) {
	pool := newPool(t)
	s := newStore(t, pool)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.GetAccount(ctx, "u1"); !errors.Is(err, context.Canceled) {
		t.Errorf("GetAccount with a canceled context error = %v, want context.Canceled", err)
	}
	if _, err := s.ListEnrollments(ctx, "", 0); !errors.Is(err, context.Canceled) {
		t.Errorf("ListEnrollments(limit 0) with a canceled context error = %v, want context.Canceled", err)
	}
}

// base is the fixed instant the tests start from.
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// enroll confirms a set-up for the user at step 1.
func enroll(t *testing.T, s *postgresstore.Store, userID string) {
	t.Helper()
	ctx := t.Context()
	must(t, "PutSetup", s.PutSetup(ctx, twofactor.Setup{ID: "s-" + userID, UserID: userID, Secret: []byte("x"), Digits: 6, Period: 30, ExpiresAt: base.Add(time.Hour)}))
	_, err := s.ConfirmSetup(ctx, userID, "s-"+userID, 1, base)
	must(t, "ConfirmSetup", err)
}

// startChallenge stores a code-pending challenge of the user with the ID,
// begun at the account generation, whose deadline is 10 minutes and whose
// expiry is 70 minutes after base.
func startChallenge(t testing.TB, s *postgresstore.Store, id, userID string, generation int64) twofactor.Challenge {
	t.Helper()
	c := twofactor.Challenge{
		ID:         id,
		UserID:     userID,
		Role:       twofactor.RoleAgent,
		State:      twofactor.StateCodePending,
		Generation: generation,
		CreatedAt:  base,
		Deadline:   base.Add(10 * time.Minute),
		ExpiresAt:  base.Add(70 * time.Minute),
	}
	must(t, "CreateChallenge", s.CreateChallenge(t.Context(), c))
	return c
}

// reserve reserves one attempt on the challenge at base, and fails the
// test unless the call reserves one.
func reserve(t testing.TB, s *postgresstore.Store, challengeID string, limit int) twofactor.Attempt {
	t.Helper()
	a, err := s.ReserveAttempt(t.Context(), challengeID, limit, base, twofactor.Verdict{})
	must(t, "ReserveAttempt", err)
	if !a.Reserved {
		t.Fatalf("ReserveAttempt(%q, limit %d) reserved nothing: %+v", challengeID, limit, a)
	}
	return a
}

// must fails the test when err is not nil.
func must(t testing.TB, operation string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", operation, err)
	}
}
