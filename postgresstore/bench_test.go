package postgresstore_test

import (
	"context"
	"encoding/base32"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/internal/otpcode"
	"github.com/twofactor-go/twofactor/postgresstore"
)

// The benchmarks run Manager.Submit and Manager.Begin on a Store in a fresh
// schema, and compare Submit with a naive baseline in a second schema.
const (
	// benchClients is the number of goroutines of BenchmarkSubmitParallel,
	// and the size of its pool, so that no client waits for a connection.
	benchClients = 16

	// benchUsers is the number of users of BenchmarkSubmitParallel.
	benchUsers = 1000

	// benchPeriod is the code period in seconds, the library's default.
	benchPeriod = 30
)

var (
	// benchEpoch is the clock's time when the users enroll.
	benchEpoch = time.Date(2026, time.March, 2, 9, 0, 15, 0, time.UTC)

	// benchDeadline is the deadline and expiry of every prepared
	// challenge, later than any clock time that a run reaches.
	benchDeadline = benchEpoch.AddDate(1, 0, 0)

	benchKey   = twofactor.EncryptionKey{ID: "bench", Secret: []byte("postgres benchmark key, 32 bytes")}
	benchAdmin = twofactor.Actor{ID: "bench-admin", Role: twofactor.RoleAdministrator}

	base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)
)

// roundTripCounter is a pgx tracer that counts the statements and batches
// sent to the server. pgx calls TraceQueryStart once for every Exec, Query
// and QueryRow, including the BEGIN and COMMIT of a transaction, and
// TraceBatchStart once per batch. It does not count the extra round trip
// in which pgx prepares a statement the first time a connection runs it.
type roundTripCounter struct {
	statements atomic.Int64
	batches    atomic.Int64
}

func (c *roundTripCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.statements.Add(1)
	return ctx
}

func (c *roundTripCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *roundTripCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.batches.Add(1)
	return ctx
}

func (c *roundTripCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (c *roundTripCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// load returns the number of round trips counted so far.
func (c *roundTripCounter) load() int64 {
	return c.statements.Load() + c.batches.Load()
}

// benchClock is a clock that only the benchmarks move. It is safe for
// concurrent use.
type benchClock struct {
	unixNano atomic.Int64
}

func newBenchClock(t time.Time) *benchClock {
	c := &benchClock{}
	c.unixNano.Store(t.UnixNano())
	return c
}

// Now returns the clock's time. The Manager reads it as Config.Now.
func (c *benchClock) Now() time.Time {
	return time.Unix(0, c.unixNano.Load()).UTC()
}

// advance moves the clock forward by d.
func (c *benchClock) advance(d time.Duration) {
	c.unixNano.Add(int64(d))
}

// advanceTo moves the clock to t unless it already shows a later time.
func (c *benchClock) advanceTo(t time.Time) {
	want := t.UnixNano()
	for {
		now := c.unixNano.Load()
		if now >= want || c.unixNano.CompareAndSwap(now, want) {
			return
		}
	}
}

// stepOf returns the time step of t.
func stepOf(t time.Time) int64 {
	return t.Unix() / benchPeriod
}

// middleOf returns the middle of the time step.
func middleOf(step int64) time.Time {
	return time.Unix(step*benchPeriod+benchPeriod/2, 0).UTC()
}

// benchUser is an enrolled user and the secret that the user's app holds.
type benchUser struct {
	id     string
	secret []byte
}

// code returns the user's code for the time step.
func (u benchUser) code(step int64) string {
	return otpcode.Generate(u.secret, otpcode.SHA1, 6, step)
}

// wrongCode returns a code that matches no step from step-1 to step+2,
// which covers the skew window of a clock in step or in the step after.
func (u benchUser) wrongCode(step int64) string {
	window := []string{u.code(step - 1), u.code(step), u.code(step + 1), u.code(step + 2)}
	for i := 0; ; i++ {
		candidate := fmt.Sprintf("%06d", i*7919%1_000_000)
		if !slices.Contains(window, candidate) {
			return candidate
		}
	}
}

// benchFixture is a migrated Store with enrolled users, a Manager on it,
// and the naive baseline with the same users and secrets. The Manager and
// the baseline read one clock.
type benchFixture struct {
	counter *roundTripCounter
	store   *postgresstore.Store
	manager *twofactor.Manager

	// other is a second Manager on the Store, as on another instance. A
	// challenge that one begins is not remembered by the other.
	other *twofactor.Manager
	naive *naiveStore
	clock *benchClock
	users []benchUser

	// firstStep is the first time step after the one that confirmed the
	// enrollments.
	firstStep int64

	// next numbers the submissions across the runs of a benchmark, so
	// that each run's right codes belong to time steps not used before.
	next atomic.Int64
}

// newBenchFixture enrolls users through a Manager on a pool of maxConns
// connections, in fresh schemas that are dropped when b ends.
func newBenchFixture(b *testing.B, users, maxConns int) *benchFixture {
	b.Helper()
	counter := &roundTripCounter{}
	cfg := poolConfig(b)
	cfg.MaxConns = int32(maxConns)
	cfg.ConnConfig.Tracer = counter
	pool := openPool(b, cfg)

	fx := &benchFixture{
		counter:   counter,
		store:     newStore(b, pool),
		clock:     newBenchClock(benchEpoch),
		firstStep: stepOf(benchEpoch) + 1,
	}
	for _, m := range []**twofactor.Manager{&fx.manager, &fx.other} {
		var err error
		*m, err = twofactor.New(benchConfig(fx.store, fx.clock))
		must(b, "twofactor.New", err)
	}
	fx.users = make([]benchUser, users)
	must(b, "enrolling the users", runClients(users, maxConns, func(i int) error {
		u, err := fx.enroll(fmt.Sprintf("user-%04d", i))
		fx.users[i] = u
		return err
	}))
	fx.naive = newNaiveStore(b, pool, fx.users, stepOf(benchEpoch))
	return fx
}

// benchConfig is the configuration of the fixture's Managers. The
// challenges they begin last a day, so that no run reaches a deadline.
func benchConfig(store twofactor.Store, clock *benchClock) twofactor.Config {
	return twofactor.Config{
		Store:            store,
		Issuer:           "Bench",
		Keys:             []twofactor.EncryptionKey{benchKey},
		Now:              clock.Now,
		ChallengeTimeout: 24 * time.Hour,
	}
}

// enroll sets up 2FA for the user and confirms it with the current code,
// as the user's app would.
func (fx *benchFixture) enroll(userID string) (benchUser, error) {
	ctx := context.Background()
	key, err := fx.manager.StartSetup(ctx, userID, userID+"@example.com")
	if err != nil {
		return benchUser{}, err
	}
	secret, err := base32NoPad.DecodeString(key.Secret)
	if err != nil {
		return benchUser{}, err
	}
	u := benchUser{id: userID, secret: secret}
	return u, fx.manager.ConfirmSetup(ctx, userID, u.code(stepOf(benchEpoch)))
}

// runClients calls f for every index below n from the given number of
// goroutines, and returns the first error.
func runClients(n, clients int, f func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := f(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// checkState returns an error when the state after a submission is not
// the one that its code must give.
func checkState(s *submission, got twofactor.State) error {
	want := twofactor.StateCodePending
	if s.right {
		want = twofactor.StateSucceeded
	}
	if got != want {
		return fmt.Errorf("submission of user index %d (right code: %t) left the challenge %v, want %v", s.user, s.right, got, want)
	}
	return nil
}

// BenchmarkRoundTrips reports, as roundtrips/op, the statements that one
// call sends to PostgreSQL. The calls are Submit with the right code, the
// right code to a challenge that another Manager began, a wrong code and a
// backup code, Begin when a code is required, and the naive baseline with
// the right and a wrong code. Each iteration prepares
// its challenge with the timer stopped, so ns/op is the latency of the
// call alone, from one client on one connection.
func BenchmarkRoundTrips(b *testing.B) {
	fx := newBenchFixture(b, 1, 1)
	cases := []struct {
		name    string
		prepare func(b *testing.B) func() error
	}{
		{"SubmitRight", fx.prepareRight},
		{"SubmitRightOtherInstance", fx.prepareRightOtherInstance},
		{"SubmitWrong", fx.prepareWrong},
		{"SubmitBackupCode", fx.prepareBackupCode},
		{"Begin", fx.prepareBegin},
		{"NaiveRight", fx.prepareNaiveRight},
		{"NaiveWrong", fx.prepareNaiveWrong},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			countRoundTrips(b, fx.counter, c.prepare)
		})
	}
}

// countRoundTrips runs prepare with the timer stopped and the call that it
// returns with the timer running, b.N times, and reports the mean round
// trips of the call. One call before the timed ones prepares the
// statements on the connection.
func countRoundTrips(b *testing.B, counter *roundTripCounter, prepare func(b *testing.B) func() error) {
	if err := prepare(b)(); err != nil {
		b.Fatal(err)
	}
	var total int64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		call := prepare(b)
		b.StartTimer()
		before := counter.load()
		if err := call(); err != nil {
			b.Fatal(err)
		}
		total += counter.load() - before
	}
	b.StopTimer()
	b.ReportMetric(float64(total)/float64(b.N), "roundtrips/op")
}

// begin starts a challenge for the fixture's first user.
func (fx *benchFixture) begin(b *testing.B) string {
	b.Helper()
	d, err := fx.manager.Begin(context.Background(), twofactor.Login{UserID: fx.users[0].id, Role: twofactor.RoleAgent})
	must(b, "Begin", err)
	if d.Challenge == nil {
		b.Fatalf("Begin(%q) = %+v, want a challenge", fx.users[0].id, d)
	}
	return d.Challenge.ID
}

// expectState returns a call of Submit that fails unless it leaves the
// challenge in the state want.
func (fx *benchFixture) expectState(id, input string, want twofactor.State) func() error {
	return func() error {
		res, err := fx.manager.Submit(context.Background(), id, input)
		if err != nil {
			return err
		}
		if res.State != want {
			return fmt.Errorf("Submit left the challenge %v, want %v", res.State, want)
		}
		return nil
	}
}

// prepareRight moves the clock two steps on, so that both the current
// step and the one before are unused, and starts a challenge.
func (fx *benchFixture) prepareRight(b *testing.B) func() error {
	fx.clock.advance(2 * benchPeriod * time.Second)
	id := fx.begin(b)
	return fx.expectState(id, fx.users[0].code(stepOf(fx.clock.Now())), twofactor.StateSucceeded)
}

// prepareRightOtherInstance is prepareRight with the challenge begun by
// the other Manager, so that the Manager that takes the code has not
// remembered it.
func (fx *benchFixture) prepareRightOtherInstance(b *testing.B) func() error {
	fx.clock.advance(2 * benchPeriod * time.Second)
	d, err := fx.other.Begin(context.Background(), twofactor.Login{UserID: fx.users[0].id, Role: twofactor.RoleAgent})
	must(b, "Begin", err)
	if d.Challenge == nil {
		b.Fatalf("Begin(%q) = %+v, want a challenge", fx.users[0].id, d)
	}
	return fx.expectState(d.Challenge.ID, fx.users[0].code(stepOf(fx.clock.Now())), twofactor.StateSucceeded)
}

// prepareWrong releases the failure that the previous wrong code counted,
// so that the count before each call is zero and the account never locks,
// and starts a challenge.
func (fx *benchFixture) prepareWrong(b *testing.B) func() error {
	must(b, "ReleaseAttempt", fx.store.ReleaseAttempt(context.Background(), fx.users[0].id))
	id := fx.begin(b)
	return fx.expectState(id, fx.users[0].wrongCode(stepOf(fx.clock.Now())), twofactor.StateCodePending)
}

// prepareBackupCode starts a challenge and issues a backup code.
func (fx *benchFixture) prepareBackupCode(b *testing.B) func() error {
	id := fx.begin(b)
	code, _, err := fx.manager.IssueBackupCode(context.Background(), benchAdmin, fx.users[0].id)
	must(b, "IssueBackupCode", err)
	return fx.expectState(id, code, twofactor.StateSucceeded)
}

// prepareBegin returns a call of Begin that must start a challenge.
func (fx *benchFixture) prepareBegin(*testing.B) func() error {
	login := twofactor.Login{UserID: fx.users[0].id, Role: twofactor.RoleAgent}
	return func() error {
		d, err := fx.manager.Begin(context.Background(), login)
		if err != nil {
			return err
		}
		if d.Challenge == nil {
			return fmt.Errorf("Begin(%q) = %+v, want a challenge", login.UserID, d)
		}
		return nil
	}
}

// prepareNaiveRight is prepareRight for the baseline.
func (fx *benchFixture) prepareNaiveRight(b *testing.B) func() error {
	fx.clock.advance(2 * benchPeriod * time.Second)
	s := fx.naiveSubmission(b, true)
	return func() error { return fx.submitNaive(context.Background(), s) }
}

// prepareNaiveWrong is prepareWrong for the baseline.
func (fx *benchFixture) prepareNaiveWrong(b *testing.B) func() error {
	must(b, "clearing the baseline's failures", fx.naive.clearFailures(context.Background(), fx.users[0].id))
	s := fx.naiveSubmission(b, false)
	return func() error { return fx.submitNaive(context.Background(), s) }
}

// naiveSubmission stores a baseline challenge for the first user and
// returns its submission in the clock's current step.
func (fx *benchFixture) naiveSubmission(b *testing.B, right bool) *submission {
	b.Helper()
	step := stepOf(fx.clock.Now())
	s := &submission{challengeID: fmt.Sprintf("rt-%d", fx.next.Add(1)), step: step, right: right}
	s.input = fx.users[0].wrongCode(step)
	if right {
		s.input = fx.users[0].code(step)
	}
	fx.naive.createChallenges(b, []submission{*s}, fx.users)
	return s
}

// submission is one prepared submission of a code to a challenge.
type submission struct {
	challengeID string
	user        int // index in the fixture's users
	input       string
	step        int64 // the time step of the clock when it is submitted
	right       bool  // whether the code must sign the user in
}

// plan returns n submissions, numbered from the fixture's next one on.
// Submission j of a pass of 2*users goes to user j/2 with a wrong code
// when j is even, and to user (j/2 + users/2) mod users with the right
// code when j is odd. So each user gets one wrong and one right code per
// pass, the right code clears the failure that the wrong one counted, and
// the submissions that run at once go to different users. Pass p runs
// with the clock in time step firstStep+p, which no earlier right code of
// the user used.
func (fx *benchFixture) plan(n int) []submission {
	users := int64(len(fx.users))
	first := fx.next.Add(int64(n)) - int64(n)
	subs := make([]submission, n)
	for k := range subs {
		j := first + int64(k)
		pass, r := j/(2*users), j%(2*users)
		s := submission{challengeID: fmt.Sprintf("%032x", j), user: int(r / 2), step: fx.firstStep + pass, right: r%2 == 1}
		if s.right {
			s.user = (s.user + len(fx.users)/2) % len(fx.users)
		}
		u := fx.users[s.user]
		// When the code of the step equals the code of the step before,
		// Verify matches the earlier, used step while the clock is in
		// the step, and the later one once the clock moved on. A wrong
		// code keeps the expected result independent of that timing.
		if s.right && u.code(s.step) == u.code(s.step-1) {
			s.right = false
		}
		s.input = u.wrongCode(s.step)
		if s.right {
			s.input = u.code(s.step)
		}
		subs[k] = s
	}
	return subs
}

// createChallenges stores a code-pending challenge for each submission
// through the Store, from benchClients goroutines.
func (fx *benchFixture) createChallenges(b *testing.B, subs []submission) {
	b.Helper()
	ctx := context.Background()
	must(b, "CreateChallenge", runClients(len(subs), benchClients, func(i int) error {
		return fx.store.CreateChallenge(ctx, twofactor.Challenge{
			ID:        subs[i].challengeID,
			UserID:    fx.users[subs[i].user].id,
			Role:      twofactor.RoleAgent,
			State:     twofactor.StateCodePending,
			CreatedAt: benchEpoch,
			Deadline:  benchDeadline,
			ExpiresAt: benchDeadline,
		})
	}))
}

// beginChallenges begins a challenge for each submission through the
// Manager that then takes the codes, from benchClients goroutines, with the
// clock at the first submission's time step.
func (fx *benchFixture) beginChallenges(b *testing.B, subs []submission) {
	b.Helper()
	if len(subs) == 0 {
		return
	}
	fx.clock.advanceTo(middleOf(subs[0].step))
	ctx := context.Background()
	must(b, "Begin", runClients(len(subs), benchClients, func(i int) error {
		d, err := fx.manager.Begin(ctx, twofactor.Login{UserID: fx.users[subs[i].user].id, Role: twofactor.RoleAgent})
		if err != nil {
			return err
		}
		if d.Challenge == nil {
			return fmt.Errorf("Begin(%q) = %+v, want a challenge", fx.users[subs[i].user].id, d)
		}
		subs[i].challengeID = d.Challenge.ID
		return nil
	}))
}

// submit runs one prepared submission through the Manager.
func (fx *benchFixture) submit(ctx context.Context, s *submission) error {
	fx.clock.advanceTo(middleOf(s.step))
	res, err := fx.manager.Submit(ctx, s.challengeID, s.input)
	if err != nil {
		return err
	}
	return checkState(s, res.State)
}

// submitNaive runs one prepared submission through the baseline.
func (fx *benchFixture) submitNaive(ctx context.Context, s *submission) error {
	fx.clock.advanceTo(middleOf(s.step))
	state, err := fx.naive.submit(ctx, s.challengeID, s.input, fx.clock.Now())
	if err != nil {
		return err
	}
	return checkState(s, state)
}

// BenchmarkSubmitParallel measures Submit from benchClients goroutines,
// each with a connection of its own, on benchUsers enrolled users, and the
// naive baseline under the same load. Half of the submissions carry a
// wrong code and half the right code for an unused time step, as plan
// describes. In Store the Manager that takes the codes began the
// challenges, and in StoreOtherInstance they were stored directly, as by
// another instance, so that a right code takes the second store call. The
// challenges are made with the timer stopped. ns/op is
// wall time divided by submissions, and submissions/s is its inverse.
func BenchmarkSubmitParallel(b *testing.B) {
	fx := newBenchFixture(b, benchUsers, benchClients)
	b.Run("Store", func(b *testing.B) {
		subs := fx.plan(b.N)
		fx.beginChallenges(b, subs)
		fx.measure(b, subs, fx.submit)
		_, err := fx.store.DeleteExpired(context.Background(), benchDeadline)
		must(b, "DeleteExpired", err)
	})
	b.Run("StoreOtherInstance", func(b *testing.B) {
		subs := fx.plan(b.N)
		fx.createChallenges(b, subs)
		fx.measure(b, subs, fx.submit)
		_, err := fx.store.DeleteExpired(context.Background(), benchDeadline)
		must(b, "DeleteExpired", err)
	})
	b.Run("Naive", func(b *testing.B) {
		subs := fx.plan(b.N)
		fx.naive.createChallenges(b, subs, fx.users)
		fx.measure(b, subs, fx.submitNaive)
		must(b, "deleting the baseline's challenges", fx.naive.deleteChallenges(context.Background()))
	})
}

// measure runs the submissions from benchClients goroutines with the
// timer running, and reports the throughput and the mean round trips.
func (fx *benchFixture) measure(b *testing.B, subs []submission, submit func(context.Context, *submission) error) {
	ctx := context.Background()
	before := fx.counter.load()
	b.ResetTimer()
	err := runClients(len(subs), benchClients, func(i int) error {
		return submit(ctx, &subs[i])
	})
	b.StopTimer()
	must(b, "submitting", err)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submissions/s")
	b.ReportMetric(float64(fx.counter.load()-before)/float64(b.N), "roundtrips/op")
}

// naiveStore is the baseline: the submission flow written the naive way,
// as one transaction. It locks the challenge, the account and the
// enrollment with SELECT ... FOR UPDATE and checks the code in Go. Then it
// writes the failure count, the last time step and the state, and
// commits. Its tables keep the secret in clear as base32 text.
type naiveStore struct {
	pool   *pgxpool.Pool
	schema string // the schema name, unquoted
	sql    naiveSQL
}

// naiveSQL is the text of the baseline's statements, with the schema in
// them.
type naiveSQL struct {
	selectChallenge, selectAccount, selectEnrollment   string
	updateState, updateStep, clearFailures, addFailure string
	createTables, deleteChallenges                     string
}

// newNaiveSQL returns the baseline's statements on the quoted schema.
func newNaiveSQL(schema string) naiveSQL {
	q := func(query string) string {
		return strings.ReplaceAll(query, "{schema}", schema)
	}
	return naiveSQL{
		createTables: q(`CREATE SCHEMA {schema};
			CREATE TABLE {schema}.enrollments (user_id text PRIMARY KEY, secret text NOT NULL, last_step bigint NOT NULL);
			CREATE TABLE {schema}.accounts (user_id text PRIMARY KEY, failures integer NOT NULL);
			CREATE TABLE {schema}.challenges (id text PRIMARY KEY, user_id text NOT NULL, state smallint NOT NULL, deadline timestamptz NOT NULL)`),
		selectChallenge:  q(`SELECT user_id, state, deadline FROM {schema}.challenges WHERE id = $1 FOR UPDATE`),
		selectAccount:    q(`SELECT failures FROM {schema}.accounts WHERE user_id = $1 FOR UPDATE`),
		selectEnrollment: q(`SELECT secret, last_step FROM {schema}.enrollments WHERE user_id = $1 FOR UPDATE`),
		updateState:      q(`UPDATE {schema}.challenges SET state = $2 WHERE id = $1`),
		updateStep:       q(`UPDATE {schema}.enrollments SET last_step = $2 WHERE user_id = $1`),
		clearFailures:    q(`UPDATE {schema}.accounts SET failures = 0 WHERE user_id = $1`),
		addFailure:       q(`UPDATE {schema}.accounts SET failures = failures + 1 WHERE user_id = $1`),
		deleteChallenges: q(`TRUNCATE {schema}.challenges`),
	}
}

// newNaiveStore creates the baseline's tables in a fresh schema and copies
// in the users with lastStep as their last accepted time step.
func newNaiveStore(b *testing.B, pool *pgxpool.Pool, users []benchUser, lastStep int64) *naiveStore {
	b.Helper()
	ctx := context.Background()
	schema := newPrefixedSchema(b, pool, "tf_bench_naive_")
	n := &naiveStore{pool: pool, schema: schema, sql: newNaiveSQL(pgx.Identifier{schema}.Sanitize())}
	// Without arguments pgx sends the statements in one simple query.
	_, err := pool.Exec(ctx, n.sql.createTables)
	must(b, "creating the baseline's tables", err)
	enrollments := make([][]any, len(users))
	accounts := make([][]any, len(users))
	for i, u := range users {
		enrollments[i] = []any{u.id, base32NoPad.EncodeToString(u.secret), lastStep}
		accounts[i] = []any{u.id, 0}
	}
	n.copyRows(b, "enrollments", []string{"user_id", "secret", "last_step"}, enrollments)
	n.copyRows(b, "accounts", []string{"user_id", "failures"}, accounts)
	return n
}

// copyRows copies rows into one of the baseline's tables.
func (n *naiveStore) copyRows(b *testing.B, table string, columns []string, rows [][]any) {
	b.Helper()
	name := pgx.Identifier{n.schema, table}
	_, err := n.pool.CopyFrom(context.Background(), name, columns, pgx.CopyFromRows(rows))
	must(b, "copying into the baseline's "+table, err)
}

// createChallenges copies a code-pending challenge for each submission
// into the baseline's table.
func (n *naiveStore) createChallenges(b *testing.B, subs []submission, users []benchUser) {
	b.Helper()
	rows := make([][]any, len(subs))
	for i, s := range subs {
		rows[i] = []any{s.challengeID, users[s.user].id, int16(twofactor.StateCodePending), benchDeadline}
	}
	n.copyRows(b, "challenges", []string{"id", "user_id", "state", "deadline"}, rows)
}

func (n *naiveStore) deleteChallenges(ctx context.Context) error {
	_, err := n.pool.Exec(ctx, n.sql.deleteChallenges)
	return err
}

func (n *naiveStore) clearFailures(ctx context.Context, userID string) error {
	_, err := n.pool.Exec(ctx, n.sql.clearFailures, userID)
	return err
}

// submit checks input against the challenge in one transaction and
// returns the challenge's state after it.
func (n *naiveStore) submit(ctx context.Context, challengeID, input string, now time.Time) (twofactor.State, error) {
	tx, err := n.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx) // a no-op after Commit
	state, err := n.decide(ctx, tx, challengeID, input, now)
	if err != nil {
		return 0, err
	}
	return state, tx.Commit(ctx)
}

// decide reads the challenge and the account under row locks and closes a
// challenge that timed out or belongs to a locked account.
func (n *naiveStore) decide(ctx context.Context, tx pgx.Tx, challengeID, input string, now time.Time) (twofactor.State, error) {
	var (
		userID   string
		state    int16
		deadline time.Time
		failures int
	)
	err := tx.QueryRow(ctx, n.sql.selectChallenge, challengeID).Scan(&userID, &state, &deadline)
	if err != nil {
		return 0, err
	}
	if twofactor.State(state) != twofactor.StateCodePending {
		return twofactor.State(state), nil
	}
	if !now.Before(deadline) {
		return n.setState(ctx, tx, challengeID, twofactor.StateTimedOut)
	}
	if err := tx.QueryRow(ctx, n.sql.selectAccount, userID).Scan(&failures); err != nil {
		return 0, err
	}
	if failures >= twofactor.DefaultMaxAttempts {
		return n.setState(ctx, tx, challengeID, twofactor.StateLocked)
	}
	return n.judge(ctx, tx, challengeID, userID, input, now, failures)
}

// judge reads the enrollment under a row lock, checks the code and writes
// the outcome.
func (n *naiveStore) judge(ctx context.Context, tx pgx.Tx, challengeID, userID, input string, now time.Time, failures int) (twofactor.State, error) {
	var (
		secret   string
		lastStep int64
	)
	if err := tx.QueryRow(ctx, n.sql.selectEnrollment, userID).Scan(&secret, &lastStep); err != nil {
		return 0, err
	}
	if step, ok := naiveCheck(secret, input, now); ok && step > lastStep {
		if _, err := tx.Exec(ctx, n.sql.updateStep, userID, step); err != nil {
			return 0, err
		}
		if _, err := tx.Exec(ctx, n.sql.clearFailures, userID); err != nil {
			return 0, err
		}
		return n.setState(ctx, tx, challengeID, twofactor.StateSucceeded)
	}
	if _, err := tx.Exec(ctx, n.sql.addFailure, userID); err != nil {
		return 0, err
	}
	if failures+1 >= twofactor.DefaultMaxAttempts {
		return n.setState(ctx, tx, challengeID, twofactor.StateLocked)
	}
	return twofactor.StateCodePending, nil
}

func (n *naiveStore) setState(ctx context.Context, tx pgx.Tx, challengeID string, state twofactor.State) (twofactor.State, error) {
	_, err := tx.Exec(ctx, n.sql.updateState, challengeID, int16(state))
	return state, err
}

// naiveCheck decodes the base32 secret and reports whether input is its
// code for a step within one of now's, returning the earliest such step,
// as the library's check does.
//
// NOTE: totp.ValidateCustom of github.com/pquerna/otp is the usual choice
// here, but it does not return the step that matched, which the replay
// check needs, and this module does not require github.com/pquerna/otp.
func naiveCheck(secretBase32, input string, now time.Time) (int64, bool) {
	secret, err := base32NoPad.DecodeString(secretBase32)
	if err != nil {
		return 0, false
	}
	var code [otpcode.MaxDigits]byte
	n, ok := otpcode.Normalize(&code, input, 6)
	if !ok {
		return 0, false
	}
	return otpcode.Verify(secret, otpcode.SHA1, 6, stepOf(now), 1, code[:n])
}
