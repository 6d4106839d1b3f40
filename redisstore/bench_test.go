package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/internal/otpcode"
	"github.com/twofactor-go/twofactor/redisstore"
)

// The benchmarks run Manager.Submit and Manager.Begin on a Store under a
// random key prefix, and compare Submit with a naive baseline under the
// same prefix.
const (
	// benchClients is the number of goroutines of BenchmarkSubmitParallel,
	// and the size of the client's pool, so that no client waits for a
	// connection.
	benchClients = 16

	// benchUsers is the number of users of BenchmarkSubmitParallel.
	benchUsers = 1000

	// benchPeriod is the code period in seconds, the library's default.
	benchPeriod = 30

	// naiveRetries bounds the optimistic transactions of one baseline
	// submission.
	naiveRetries = 10
)

var (
	// benchEpoch is the clock's time when the users enroll.
	benchEpoch = time.Date(2026, time.March, 2, 9, 0, 15, 0, time.UTC)

	// benchDeadline is the deadline and expiry of every prepared
	// challenge, later than any clock time that a run reaches.
	benchDeadline = benchEpoch.AddDate(1, 0, 0)

	benchKey   = twofactor.EncryptionKey{ID: "bench", Secret: []byte("redis benchmark key of 32 bytes!")}
	benchAdmin = twofactor.Actor{ID: "bench-admin", Role: twofactor.RoleAdministrator}

	base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)
)

// roundTripHook is a go-redis hook that counts the commands and pipelines
// sent to the server. A script run costs one EVALSHA, and an EVAL after it
// when the server has not cached the script. A MULTI ... EXEC transaction
// is one pipeline.
type roundTripHook struct {
	commands  atomic.Int64
	pipelines atomic.Int64
}

func (h *roundTripHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *roundTripHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.commands.Add(1)
		return next(ctx, cmd)
	}
}

func (h *roundTripHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.pipelines.Add(1)
		return next(ctx, cmds)
	}
}

// load returns the number of round trips counted so far.
func (h *roundTripHook) load() int64 {
	return h.commands.Load() + h.pipelines.Load()
}

// newBenchClient returns a client with a pool of poolSize connections and
// the hook, on the server that TWOFACTOR_REDIS_ADDR names, and skips the
// benchmark when it is unset.
func newBenchClient(b *testing.B, poolSize int, hook redis.Hook) *redis.Client {
	b.Helper()
	addr := os.Getenv(addrEnv)
	if addr == "" {
		b.Skipf("set %s to run the Redis benchmarks, for example %s=127.0.0.1:6379", addrEnv, addrEnv)
	}
	client := redis.NewClient(&redis.Options{Addr: addr, PoolSize: poolSize})
	b.Cleanup(func() { client.Close() })
	client.AddHook(hook)
	if err := client.Ping(context.Background()).Err(); err != nil {
		b.Fatalf("connecting to Redis at %s (from %s): %v", addr, addrEnv, err)
	}
	return client
}

// newBenchPrefix returns a random key prefix and deletes every key under
// it when b ends. Register it after the client, so that it runs before
// the client is closed.
func newBenchPrefix(b *testing.B, client *redis.Client) string {
	b.Helper()
	buf := make([]byte, 8)
	rand.Read(buf)
	prefix := "twofactor-bench-" + hex.EncodeToString(buf)
	b.Cleanup(func() {
		if err := unlinkKeys(client, prefix); err != nil {
			b.Errorf("deleting the benchmark keys under %q: %v", prefix, err)
		}
	})
	return prefix
}

// unlinkKeys unlinks every key under prefix, a page of SCAN at a time.
// deleteKeys unlinks one key per round trip, which takes seconds for the
// challenges of a benchmark.
func unlinkKeys(client *redis.Client, prefix string) error {
	// b's context is already canceled when cleanups run.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var cursor uint64
	for {
		keys, next, err := client.Scan(ctx, cursor, prefix+":*", 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := client.Unlink(ctx, keys...).Err(); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
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

// benchFixture is a Store with enrolled users, a Manager on it, and the
// naive baseline with the same users and secrets. The Manager and the
// baseline read one clock.
type benchFixture struct {
	client  *redis.Client
	hook    *roundTripHook
	store   *redisstore.Store
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

// newBenchFixture enrolls users through a Manager on a client with a pool
// of poolSize connections, under a prefix whose keys are deleted when b
// ends.
func newBenchFixture(b *testing.B, users, poolSize int) *benchFixture {
	b.Helper()
	hook := &roundTripHook{}
	client := newBenchClient(b, poolSize, hook)
	prefix := newBenchPrefix(b, client)
	store, err := redisstore.New(client, redisstore.WithPrefix(prefix))
	if err != nil {
		b.Fatalf("redisstore.New: %v", err)
	}

	fx := &benchFixture{
		client:    client,
		hook:      hook,
		store:     store,
		clock:     newBenchClock(benchEpoch),
		firstStep: stepOf(benchEpoch) + 1,
	}
	for _, m := range []**twofactor.Manager{&fx.manager, &fx.other} {
		*m, err = twofactor.New(benchConfig(store, fx.clock))
		benchMust(b, "twofactor.New", err)
	}

	fx.users = make([]benchUser, users)
	err = runClients(users, poolSize, func(i int) error {
		u, err := fx.enroll(fmt.Sprintf("user-%04d", i))
		fx.users[i] = u
		return err
	})
	if err != nil {
		b.Fatalf("enrolling the users: %v", err)
	}
	fx.naive = newNaiveStore(b, client, prefix+":naive", fx.users, stepOf(benchEpoch))
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

// BenchmarkRoundTrips reports, as roundtrips/op, the commands and
// pipelines that one call sends to Redis. The calls are Submit with the
// right code, the right code to a challenge that another Manager began, a
// wrong code and a backup code, Begin when a code is required, and the
// naive baseline with the right and a wrong code. Each iteration prepares
// its challenge with the timer stopped, so ns/op is the latency of the
// call alone, from one client.
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
			countRoundTrips(b, fx.hook, c.prepare)
		})
	}
}

// countRoundTrips runs prepare with the timer stopped and the call that it
// returns with the timer running, b.N times, and reports the mean round
// trips of the call. One call before the timed ones loads the scripts
// that the call runs.
func countRoundTrips(b *testing.B, hook *roundTripHook, prepare func(b *testing.B) func() error) {
	if err := prepare(b)(); err != nil {
		b.Fatal(err)
	}
	var total int64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		call := prepare(b)
		b.StartTimer()
		before := hook.load()
		if err := call(); err != nil {
			b.Fatal(err)
		}
		total += hook.load() - before
	}
	b.StopTimer()
	b.ReportMetric(float64(total)/float64(b.N), "roundtrips/op")
}

// benchMust fails b when err is not nil.
func benchMust(b *testing.B, operation string, err error) {
	b.Helper()
	if err != nil {
		b.Fatalf("%s: %v", operation, err)
	}
}

// begin starts a challenge for the fixture's first user.
func (fx *benchFixture) begin(b *testing.B) string {
	b.Helper()
	d, err := fx.manager.Begin(context.Background(), twofactor.Login{UserID: fx.users[0].id, Role: twofactor.RoleAgent})
	benchMust(b, "Begin", err)
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
	benchMust(b, "Begin", err)
	if d.Challenge == nil {
		b.Fatalf("Begin(%q) = %+v, want a challenge", fx.users[0].id, d)
	}
	return fx.expectState(d.Challenge.ID, fx.users[0].code(stepOf(fx.clock.Now())), twofactor.StateSucceeded)
}

// prepareWrong unlocks the account, which clears the failures that earlier
// iterations counted so that the account never locks, and starts a
// challenge under the new unlock generation.
func (fx *benchFixture) prepareWrong(b *testing.B) func() error {
	benchMust(b, "Unlock", fx.store.Unlock(context.Background(), fx.users[0].id, fx.clock.Now(), false))
	id := fx.begin(b)
	return fx.expectState(id, fx.users[0].wrongCode(stepOf(fx.clock.Now())), twofactor.StateCodePending)
}

// prepareBackupCode starts a challenge and issues a backup code.
func (fx *benchFixture) prepareBackupCode(b *testing.B) func() error {
	id := fx.begin(b)
	code, _, err := fx.manager.IssueBackupCode(context.Background(), benchAdmin, fx.users[0].id)
	benchMust(b, "IssueBackupCode", err)
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
	benchMust(b, "clearing the baseline's failures", fx.naive.clearFailures(context.Background(), fx.users[0].id))
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
	// challengeID is the ID of the baseline's challenge, 16 bytes in hex.
	challengeID string

	// storeID is the ID of the Store's challenge, which
	// Store.NewChallengeID forms from the same 16 bytes.
	storeID string

	user  int // index in the fixture's users
	input string
	step  int64 // the time step of the clock when it is submitted
	right bool  // whether the code must sign the user in
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
		var random [16]byte
		binary.BigEndian.PutUint64(random[8:], uint64(j))
		s := submission{challengeID: hex.EncodeToString(random[:]), user: int(r / 2), step: fx.firstStep + pass, right: r%2 == 1}
		if s.right {
			s.user = (s.user + len(fx.users)/2) % len(fx.users)
		}
		u := fx.users[s.user]
		s.storeID = fx.store.NewChallengeID(u.id, random[:])
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
	benchMust(b, "CreateChallenge", runClients(len(subs), benchClients, func(i int) error {
		return fx.store.CreateChallenge(ctx, twofactor.Challenge{
			ID:        subs[i].storeID,
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
	benchMust(b, "Begin", runClients(len(subs), benchClients, func(i int) error {
		d, err := fx.manager.Begin(ctx, twofactor.Login{UserID: fx.users[subs[i].user].id, Role: twofactor.RoleAgent})
		if err != nil {
			return err
		}
		if d.Challenge == nil {
			return fmt.Errorf("Begin(%q) = %+v, want a challenge", fx.users[subs[i].user].id, d)
		}
		subs[i].storeID = d.Challenge.ID
		return nil
	}))
}

// submit runs one prepared submission through the Manager.
func (fx *benchFixture) submit(ctx context.Context, s *submission) error {
	fx.clock.advanceTo(middleOf(s.step))
	res, err := fx.manager.Submit(ctx, s.storeID, s.input)
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

// BenchmarkSubmitParallel measures Submit from benchClients goroutines on
// benchUsers enrolled users, and the naive baseline under the same load.
// Half of the submissions carry a wrong code and half the right code for
// an unused time step, as plan describes. In Store the Manager that takes
// the codes began the challenges, and in StoreOtherInstance they were
// stored directly, as by another instance, so that a right code takes the
// second store call. The challenges are made with the timer stopped, and
// stay until the benchmark ends. ns/op is wall
// time divided by submissions, and submissions/s is its inverse.
// server-cpu-us/op is the CPU time of the Redis server per submission.
func BenchmarkSubmitParallel(b *testing.B) {
	fx := newBenchFixture(b, benchUsers, benchClients)
	b.Run("Store", func(b *testing.B) {
		subs := fx.plan(b.N)
		fx.beginChallenges(b, subs)
		fx.measure(b, subs, fx.submit)
	})
	b.Run("StoreOtherInstance", func(b *testing.B) {
		subs := fx.plan(b.N)
		fx.createChallenges(b, subs)
		fx.measure(b, subs, fx.submit)
	})
	b.Run("Naive", func(b *testing.B) {
		subs := fx.plan(b.N)
		fx.naive.createChallenges(b, subs, fx.users)
		fx.measure(b, subs, fx.submitNaive)
	})
}

// measure runs the submissions from benchClients goroutines with the
// timer running, and reports the throughput and the mean round trips.
// It also reports the CPU time that the server used per submission, which
// includes the work of any other client of the server at the time.
func (fx *benchFixture) measure(b *testing.B, subs []submission, submit func(context.Context, *submission) error) {
	ctx := context.Background()
	cpuBefore := serverCPU(b, fx.client)
	before := fx.hook.load()
	b.ResetTimer()
	err := runClients(len(subs), benchClients, func(i int) error {
		return submit(ctx, &subs[i])
	})
	b.StopTimer()
	benchMust(b, "submitting", err)
	roundTrips := fx.hook.load() - before
	cpu := serverCPU(b, fx.client) - cpuBefore

	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submissions/s")
	b.ReportMetric(float64(roundTrips)/float64(b.N), "roundtrips/op")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "server-cpu-us/op")
}

// serverCPU returns the user and system CPU time that the Redis server has
// used since it started, from INFO cpu.
func serverCPU(b *testing.B, client *redis.Client) time.Duration {
	b.Helper()
	info, err := client.Info(context.Background(), "cpu").Result()
	benchMust(b, "INFO cpu", err)
	var total time.Duration
	for _, line := range strings.Split(info, "\r\n") {
		name, value, _ := strings.Cut(line, ":")
		if name != "used_cpu_sys" && name != "used_cpu_user" {
			continue
		}
		seconds, err := strconv.ParseFloat(value, 64)
		benchMust(b, "parsing "+name, err)
		total += time.Duration(seconds * float64(time.Second))
	}
	return total
}

// naiveStore is the baseline: the submission flow written the naive way,
// as an optimistic transaction. It watches the challenge, the account and
// the enrollment, reads their hashes and checks the code in Go. Then it
// writes the failure count, the last time step and the state in
// MULTI ... EXEC, and starts again when a watched key changed. The
// enrollment keeps the secret in clear as base32 text.
type naiveStore struct {
	client *redis.Client
	prefix string
}

// newNaiveStore writes the enrollments and accounts of the users under
// prefix, with lastStep as their last accepted time step.
func newNaiveStore(b *testing.B, client *redis.Client, prefix string, users []benchUser, lastStep int64) *naiveStore {
	b.Helper()
	n := &naiveStore{client: client, prefix: prefix}
	_, err := client.Pipelined(context.Background(), func(p redis.Pipeliner) error {
		for _, u := range users {
			p.HSet(context.Background(), n.enrollmentKey(u.id), "secret", base32NoPad.EncodeToString(u.secret), "last_step", lastStep)
			p.HSet(context.Background(), n.accountKey(u.id), "failures", 0)
		}
		return nil
	})
	benchMust(b, "writing the baseline's users", err)
	return n
}

func (n *naiveStore) challengeKey(id string) string {
	return n.prefix + ":{c:" + id + "}:challenge"
}

func (n *naiveStore) accountKey(userID string) string {
	return n.prefix + ":{u:" + userID + "}:account"
}

func (n *naiveStore) enrollmentKey(userID string) string {
	return n.prefix + ":{u:" + userID + "}:enrollment"
}

// createChallenges writes a code-pending challenge for each submission,
// in one pipeline.
func (n *naiveStore) createChallenges(b *testing.B, subs []submission, users []benchUser) {
	b.Helper()
	ctx := context.Background()
	_, err := n.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, s := range subs {
			p.HSet(ctx, n.challengeKey(s.challengeID),
				"user", users[s.user].id,
				"state", uint8(twofactor.StateCodePending),
				"deadline", benchDeadline.UnixMicro())
		}
		return nil
	})
	benchMust(b, "writing the baseline's challenges", err)
}

func (n *naiveStore) clearFailures(ctx context.Context, userID string) error {
	return n.client.HSet(ctx, n.accountKey(userID), "failures", 0).Err()
}

// submit checks input against the challenge in an optimistic transaction
// and returns the challenge's state after it.
func (n *naiveStore) submit(ctx context.Context, challengeID, input string, now time.Time) (twofactor.State, error) {
	for range naiveRetries {
		var state twofactor.State
		err := n.client.Watch(ctx, func(tx *redis.Tx) error {
			var err error
			state, err = n.decide(ctx, tx, challengeID, input, now)
			return err
		}, n.challengeKey(challengeID))
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		return state, err
	}
	return 0, fmt.Errorf("submission of a code failed: a watched key changed in each of %d attempts", naiveRetries)
}

// decide reads the challenge and the account, and closes a challenge that
// timed out or belongs to a locked account.
func (n *naiveStore) decide(ctx context.Context, tx *redis.Tx, challengeID, input string, now time.Time) (twofactor.State, error) {
	c, err := tx.HGetAll(ctx, n.challengeKey(challengeID)).Result()
	if err != nil {
		return 0, err
	}
	state, err1 := strconv.ParseUint(c["state"], 10, 8)
	deadline, err2 := strconv.ParseInt(c["deadline"], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("decoding the baseline's challenge failed: %w", err)
	}
	if twofactor.State(state) != twofactor.StateCodePending {
		return twofactor.State(state), nil
	}
	if !now.Before(time.UnixMicro(deadline)) {
		return n.write(ctx, tx, challengeID, twofactor.StateTimedOut, nil)
	}
	userID := c["user"]
	accountKey, enrollmentKey := n.accountKey(userID), n.enrollmentKey(userID)
	if err := tx.Watch(ctx, accountKey, enrollmentKey).Err(); err != nil {
		return 0, err
	}
	failures, err := tx.HGet(ctx, accountKey, "failures").Int()
	if err != nil {
		return 0, err
	}
	if failures >= twofactor.DefaultMaxAttempts {
		return n.write(ctx, tx, challengeID, twofactor.StateLocked, nil)
	}
	return n.judge(ctx, tx, challengeID, userID, input, now, failures)
}

// judge reads the enrollment, checks the code and writes the outcome.
func (n *naiveStore) judge(ctx context.Context, tx *redis.Tx, challengeID, userID, input string, now time.Time, failures int) (twofactor.State, error) {
	accountKey, enrollmentKey := n.accountKey(userID), n.enrollmentKey(userID)
	e, err := tx.HGetAll(ctx, enrollmentKey).Result()
	if err != nil {
		return 0, err
	}
	lastStep, err := strconv.ParseInt(e["last_step"], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("decoding the baseline's enrollment of user %q failed: %w", userID, err)
	}
	if step, ok := naiveCheck(e["secret"], input, now); ok && step > lastStep {
		return n.write(ctx, tx, challengeID, twofactor.StateSucceeded, func(p redis.Pipeliner) {
			p.HSet(ctx, enrollmentKey, "last_step", step)
			p.HSet(ctx, accountKey, "failures", 0)
		})
	}
	state := twofactor.StateCodePending
	if failures+1 >= twofactor.DefaultMaxAttempts {
		state = twofactor.StateLocked
	}
	return n.write(ctx, tx, challengeID, state, func(p redis.Pipeliner) {
		p.HIncrBy(ctx, accountKey, "failures", 1)
	})
}

// write runs the commands that queue adds and sets the challenge's state
// in one MULTI ... EXEC, which fails with redis.TxFailedErr when a watched
// key changed. A nil queue only sets the state.
func (n *naiveStore) write(ctx context.Context, tx *redis.Tx, challengeID string, state twofactor.State, queue func(redis.Pipeliner)) (twofactor.State, error) {
	_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if queue != nil {
			queue(p)
		}
		if state != twofactor.StateCodePending {
			p.HSet(ctx, n.challengeKey(challengeID), "state", uint8(state))
		}
		return nil
	})
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
