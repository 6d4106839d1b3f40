package memstore_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	mathrand "math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/internal/otpcode"
	"github.com/twofactor-go/twofactor/internal/seal"
	"github.com/twofactor-go/twofactor/memstore"
)

// The submission benchmarks share one store of enrolled users, built once
// per test binary. BENCHMARKS.md in the module root explains the choice of
// population size.
const (
	// usersEnv overrides the population size.
	usersEnv = "TWOFACTOR_BENCH_USERS"

	// defaultUsers is the population when the benchmarks are run by hand.
	defaultUsers = 1_000_000

	// smokeUsers is the population under -benchtime=1x, where CI only
	// checks that each benchmark still runs.
	smokeUsers = 10_000

	benchPeriod = 30 // seconds
)

var (
	// benchEpoch is the clock's time before the first pass over the users.
	benchEpoch = time.Date(2026, time.March, 2, 9, 0, 15, 0, time.UTC)

	// benchSecret is every user's TOTP secret. The users share it so that
	// one code per time step serves them all. Each user's ciphertext is
	// still sealed separately and bound to the user ID.
	benchSecret = []byte("benchmark secret 20b")

	benchKey = twofactor.EncryptionKey{ID: "bench", Secret: []byte("memstore benchmark key, 32 bytes")}
)

// benchUsers returns the population size: TWOFACTOR_BENCH_USERS when set,
// smokeUsers under -benchtime=1x, and defaultUsers otherwise.
func benchUsers(b *testing.B) int {
	if s := os.Getenv(usersEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 {
			b.Fatalf("%s=%q is invalid; set a whole number of at least 2", usersEnv, s)
		}
		return n
	}
	if f := flag.Lookup("test.benchtime"); f != nil && f.Value.String() == "1x" {
		return smokeUsers
	}
	return defaultUsers
}

func userID(i int) string {
	return fmt.Sprintf("user-%07d", i)
}

// fixture is a memstore full of enrolled users and a Manager on it whose
// clock the benchmarks move.
type fixture struct {
	store   *memstore.Store
	manager *twofactor.Manager
	users   int

	// bytesPerUser is the growth of the live heap while the users were
	// enrolled, divided by their number.
	bytesPerUser float64
	fillTime     time.Duration

	baseStep int64
	clock    atomic.Int64 // Unix nanoseconds that the Manager reads

	// next is the number of the first submission of the next benchmark
	// run. Submissions are numbered across runs so that each right code
	// belongs to a time step that the user has not used yet.
	next atomic.Int64

	// challenges numbers the challenges that createChallenges makes.
	challenges atomic.Int64
}

var (
	fixtureOnce sync.Once
	shared      *fixture
	fixtureErr  error
)

// sharedFixture builds the fixture on first use.
func sharedFixture(b *testing.B) *fixture {
	b.Helper()
	users := benchUsers(b)
	fixtureOnce.Do(func() { shared, fixtureErr = newFixture(users) })
	if fixtureErr != nil {
		b.Fatal(fixtureErr)
	}
	return shared
}

func newFixture(users int) (*fixture, error) {
	fx := &fixture{store: memstore.New(), users: users}
	step, err := otpcode.Step(benchEpoch, benchPeriod)
	if err != nil {
		return nil, err
	}
	fx.baseStep = step
	fx.clock.Store(benchEpoch.UnixNano())
	fx.manager, err = twofactor.New(twofactor.Config{
		Store:  fx.store,
		Issuer: "Bench",
		Keys:   []twofactor.EncryptionKey{benchKey},
		Now:    func() time.Time { return time.Unix(0, fx.clock.Load()) },
	})
	if err != nil {
		return nil, err
	}
	ring, err := seal.NewRing(seal.Key{ID: benchKey.ID, Secret: benchKey.Secret})
	if err != nil {
		return nil, err
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	if err := fx.enroll(ring); err != nil {
		return nil, err
	}
	fx.fillTime = time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	fx.bytesPerUser = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(users)

	return fx, fx.checkSealing()
}

// enroll enrolls every user through PutSetup and ConfirmSetup, as
// Manager.ConfirmSetup does, with a secret sealed the way secret.go seals
// it. It splits the users between GOMAXPROCS goroutines.
func (fx *fixture) enroll(ring *seal.Ring) error {
	workers := runtime.GOMAXPROCS(0)
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			nonces := mathrand.NewChaCha8([32]byte{byte(w)})
			var err error
			for i := w; i < fx.users && err == nil; i += workers {
				err = fx.enrollOne(ring, nonces, userID(i))
			}
			errs <- err
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

func (fx *fixture) enrollOne(ring *seal.Ring, nonces *mathrand.ChaCha8, user string) error {
	ctx := context.Background()
	// The additional data copies secret.go's additionalData; checkSealing
	// fails the benchmarks if the two drift apart.
	sealed, err := ring.Seal(nonces, benchSecret, []byte("twofactor totp secret\x00"+user))
	if err != nil {
		return err
	}
	err = fx.store.PutSetup(ctx, twofactor.Setup{
		ID:        "setup",
		UserID:    user,
		Secret:    sealed,
		Algorithm: twofactor.SHA1,
		Digits:    6,
		Period:    benchPeriod,
		ExpiresAt: benchEpoch.Add(time.Hour),
	})
	if err != nil {
		return err
	}
	_, err = fx.store.ConfirmSetup(ctx, user, "setup", fx.baseStep-1, benchEpoch)
	return err
}

// checkSealing submits a wrong code for the first user, which opens the
// secret, and reports an error if it cannot be decrypted.
func (fx *fixture) checkSealing() error {
	ctx := context.Background()
	d, err := fx.manager.Begin(ctx, twofactor.Login{UserID: userID(0), Role: twofactor.RoleAgent})
	if err != nil {
		return err
	}
	if d.Challenge == nil {
		return fmt.Errorf("Begin(%q) = %+v, want a challenge", userID(0), d)
	}
	if _, err := fx.manager.Submit(ctx, d.Challenge.ID, "12345"); err != nil {
		return fmt.Errorf("submitting to the fixture failed; did the sealing in secret.go change? %w", err)
	}
	return fx.store.ReleaseAttempt(ctx, userID(0))
}

// submission is one call of Submit prepared ahead of the timed loop.
type submission struct {
	user        string
	challengeID string // set by createChallenges or begin
	input       string
	pass        int64
	right       bool
}

// plan returns the next n submissions of the fixture, without their
// challenges. A pass over the users has 2*users submissions. Submission j
// of a pass goes to user j/2 with a wrong code when j is even, and to user
// (j/2 + users/2) mod users with the right code when j is odd. So every
// user gets one wrong and one right code per pass, and neighbouring
// submissions touch different users. Pass p runs with the clock in time
// step baseStep+p.
func (fx *fixture) plan(tb testing.TB, n int) []submission {
	tb.Helper()
	first := fx.next.Add(int64(n)) - int64(n)
	perPass := int64(2 * fx.users)
	codes := make(map[int64][2]string)
	subs := make([]submission, n)
	for k := range subs {
		j := first + int64(k)
		pass, r := j/perPass, j%perPass
		user := int(r / 2)
		right := r%2 == 1
		if right {
			user = (user + fx.users/2) % fx.users
		}
		c, ok := codes[pass]
		if !ok {
			c = fx.passCodes(tb, pass)
			codes[pass] = c
		}
		subs[k] = submission{user: userID(user), pass: pass, right: right, input: c[0]}
		if right {
			subs[k].input = c[1]
		}
	}
	return subs
}

// createChallenges stores a code-pending challenge for each submission
// through the store, with an ID from the store's NewChallengeID as Begin
// would, without touching the user's records. The Manager does not
// remember these challenges, so a right code takes the second store call.
func (fx *fixture) createChallenges(tb testing.TB, subs []submission) {
	tb.Helper()
	ctx := context.Background()
	var random [16]byte
	for i := range subs {
		binary.BigEndian.PutUint64(random[8:], uint64(fx.challenges.Add(1)))
		id := fx.store.NewChallengeID(subs[i].user, random[:])
		err := fx.store.CreateChallenge(ctx, twofactor.Challenge{
			ID:        id,
			UserID:    subs[i].user,
			Role:      twofactor.RoleAgent,
			State:     twofactor.StateCodePending,
			CreatedAt: benchEpoch,
			Deadline:  benchEpoch.AddDate(100, 0, 0),
			ExpiresAt: benchEpoch.AddDate(100, 0, 0),
		})
		if err != nil {
			tb.Fatal(err)
		}
		subs[i].challengeID = id
	}
}

// begin starts a challenge for each submission with Manager.Begin.
func (fx *fixture) begin(tb testing.TB, subs []submission) {
	tb.Helper()
	ctx := context.Background()
	for i := range subs {
		d, err := fx.manager.Begin(ctx, twofactor.Login{UserID: subs[i].user, Role: twofactor.RoleAgent})
		if err != nil {
			tb.Fatal(err)
		}
		if d.Challenge == nil {
			tb.Fatalf("Begin(%q) = %+v, want a challenge", subs[i].user, d)
		}
		subs[i].challengeID = d.Challenge.ID
	}
}

// passCodes returns a wrong and the right code for the time step of pass.
// The wrong code matches no step in the skew window, and the right code
// matches no earlier step in it, which would make Verify return a step
// that the user already used.
func (fx *fixture) passCodes(tb testing.TB, pass int64) [2]string {
	step := fx.baseStep + pass
	var window [3]string
	for i := range window {
		window[i] = otpcode.Generate(benchSecret, otpcode.SHA1, 6, step-1+int64(i))
	}
	if window[1] == window[0] {
		tb.Fatalf("the code of step %d equals the code of the step before; choose another benchSecret", step)
	}
	for w := 0; ; w++ {
		wrong := fmt.Sprintf("%06d", w*7919%1_000_000)
		if wrong != window[0] && wrong != window[1] && wrong != window[2] {
			return [2]string{wrong, window[1]}
		}
	}
}

// advance moves the clock to the middle of pass's time step, unless it is
// already later.
func (fx *fixture) advance(pass int64) {
	t := benchEpoch.Add(time.Duration(pass*benchPeriod) * time.Second).UnixNano()
	for {
		now := fx.clock.Load()
		if now >= t || fx.clock.CompareAndSwap(now, t) {
			return
		}
	}
}

// submit runs one prepared submission and checks its result.
func (fx *fixture) submit(ctx context.Context, s *submission) error {
	fx.advance(s.pass)
	res, err := fx.manager.Submit(ctx, s.challengeID, s.input)
	if err != nil {
		return err
	}
	want := twofactor.StateCodePending
	if s.right {
		want = twofactor.StateSucceeded
	}
	if res.State != want {
		return fmt.Errorf("Submit(right code = %t) state = %v, want %v", s.right, res.State, want)
	}
	return nil
}

// cleanUp deletes the run's challenges, which expire after every other
// record that the fixture holds.
func (fx *fixture) cleanUp(b *testing.B) {
	b.StopTimer()
	fx.store.DeleteExpired(benchEpoch.AddDate(100, 0, 0))
}

// BenchmarkSubmit measures Manager.Submit on a memstore of enrolled users:
// challenge lookup, lock check, decryption of the secret, the code check,
// the attempt count and, for the right code, the replay check and closing
// the challenge. Half of the submissions carry a wrong code and half the
// right code for a time step that the user has not used. There is no audit
// callback.
//
// Each challenge is started with Manager.Begin beginAhead submissions
// before its own, with the timer stopped. BenchmarkSubmitCold shows the
// case in which no record of the login is cached any more.
//
// The x-codecheck metric divides the time per submission by the time of
// the bare code check, measured right after the loop, so that both see
// the same load on a shared machine.
func BenchmarkSubmit(b *testing.B) {
	fx := sharedFixture(b)
	subs := fx.plan(b, b.N)
	ctx := context.Background()
	b.ReportAllocs()
	runtime.GC() // collect the garbage of plan before the timer starts
	b.ResetTimer()
	for start := 0; start < len(subs); start += beginAhead {
		chunk := subs[start:min(start+beginAhead, len(subs))]
		b.StopTimer()
		fx.begin(b, chunk)
		b.StartTimer()
		for i := range chunk {
			if err := fx.submit(ctx, &chunk[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	perSubmit := nsPerOp(b.Elapsed(), b.N)
	fx.cleanUp(b)
	b.ReportMetric(perSubmit/nsPerCodeCheck(b, min(b.N, maxPaired)), "x-codecheck")
}

// beginAhead is the number of logins that BenchmarkSubmit begins before
// their submissions: half a minute of logins at about 30 a second, an
// estimate for a service of a million users. Records that Begin touched
// for so few logins may still be in the CPU caches at the submission.
const beginAhead = 1000

// BenchmarkSubmitCold is BenchmarkSubmit with every challenge created in
// the store before the timed loop, and none by Begin, so that the records
// of a login are most likely out of the CPU caches at its submission.
func BenchmarkSubmitCold(b *testing.B) {
	fx := sharedFixture(b)
	subs := fx.plan(b, b.N)
	fx.createChallenges(b, subs)
	ctx := context.Background()
	b.ReportAllocs()
	runtime.GC()
	b.ResetTimer()
	for i := range subs {
		if err := fx.submit(ctx, &subs[i]); err != nil {
			b.Fatal(err)
		}
	}
	perSubmit := nsPerOp(b.Elapsed(), b.N)
	fx.cleanUp(b)
	b.ReportMetric(perSubmit/nsPerCodeCheck(b, min(b.N, maxPaired)), "x-codecheck")
}

// BenchmarkSubmitParallel runs the submissions of BenchmarkSubmitCold from
// GOMAXPROCS goroutines. Its ns/op is wall time divided by submissions.
// The speedup metric divides the time of a submission from one goroutine,
// measured in the same way right after the loop, by that ns/op.
//
// A run may cover at most one pass over the users. In a longer run a
// goroutine that falls a pass behind would submit a user's code after the
// user's code of the next time step, which Submit rightly rejects.
func BenchmarkSubmitParallel(b *testing.B) {
	fx := sharedFixture(b)
	if b.N > 2*fx.users {
		b.Fatalf("%d submissions need at least %d users; set %s or use a smaller -benchtime", b.N, (b.N+1)/2, usersEnv)
	}
	subs := fx.plan(b, b.N)
	fx.createChallenges(b, subs)
	ctx := context.Background()
	var next atomic.Int64
	var failure firstError
	b.ReportAllocs()
	runtime.GC()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			if err := fx.submit(ctx, &subs[i]); err != nil {
				failure.set(err)
			}
		}
	})
	perSubmit := nsPerOp(b.Elapsed(), b.N)
	fx.cleanUp(b)
	if failure.err != nil {
		b.Fatal(failure.err)
	}
	b.ReportMetric(fx.nsPerColdSubmit(b, min(b.N, maxPaired))/perSubmit, "speedup")
}

// maxPaired bounds the repetitions of the measurements that the benchmarks
// make after their loops for their ratio metrics.
const maxPaired = 100_000

func nsPerOp(d time.Duration, n int) float64 {
	return float64(d.Nanoseconds()) / float64(n)
}

// nsPerCodeCheck returns the time of one bare code check, averaged over n.
func nsPerCodeCheck(b *testing.B, n int) float64 {
	wrong := wrongCode(b)
	start := time.Now()
	for range n {
		if err := checkCode(wrong); err != nil {
			b.Fatal(err)
		}
	}
	return nsPerOp(time.Since(start), n)
}

// nsPerColdSubmit returns the time of one submission from one goroutine,
// as BenchmarkSubmitCold makes it, averaged over n new submissions.
func (fx *fixture) nsPerColdSubmit(b *testing.B, n int) float64 {
	subs := fx.plan(b, n)
	fx.createChallenges(b, subs)
	ctx := context.Background()
	runtime.GC()
	start := time.Now()
	for i := range subs {
		if err := fx.submit(ctx, &subs[i]); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	fx.cleanUp(b)
	return nsPerOp(elapsed, n)
}

// firstError keeps the first error that goroutines report.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

// BenchmarkCodeCheck measures what the twofactor package does to check a
// code, and nothing else: the time step, normalising the input and
// verifying a wrong code with skew 1. It is the baseline of
// BenchmarkSubmit in the same binary.
func BenchmarkCodeCheck(b *testing.B) {
	wrong := wrongCode(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := checkCode(wrong); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCodeCheckParallel runs BenchmarkCodeCheck from GOMAXPROCS
// goroutines. The goroutines share nothing but pools, so its speedup
// metric, measured as in BenchmarkSubmitParallel, shows how many cores the
// machine had to spare during the run. That bounds the speedup of
// BenchmarkSubmitParallel.
func BenchmarkCodeCheckParallel(b *testing.B) {
	wrong := wrongCode(b)
	var failure firstError
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := checkCode(wrong); err != nil {
				failure.set(err)
			}
		}
	})
	perCheck := nsPerOp(b.Elapsed(), b.N)
	b.StopTimer()
	if failure.err != nil {
		b.Fatal(failure.err)
	}
	b.ReportMetric(nsPerCodeCheck(b, min(b.N, maxPaired))/perCheck, "speedup")
}

// wrongCode returns a code that matches no step in the skew window of
// benchEpoch.
func wrongCode(tb testing.TB) string {
	step, err := otpcode.Step(benchEpoch, benchPeriod)
	if err != nil {
		tb.Fatal(err)
	}
	const wrong = "000000"
	for i := int64(-1); i <= 1; i++ {
		if otpcode.Generate(benchSecret, otpcode.SHA1, 6, step+i) == wrong {
			tb.Fatal("the wrong code matches; choose another")
		}
	}
	return wrong
}

// checkCode does what codeParams.check in the twofactor package does.
func checkCode(input string) error {
	step, err := otpcode.Step(benchEpoch, benchPeriod)
	if err != nil {
		return err
	}
	var buf [otpcode.MaxDigits]byte
	n, ok := otpcode.Normalize(&buf, input, 6)
	if !ok {
		return errors.New("Normalize rejected the code")
	}
	if _, ok := otpcode.Verify(benchSecret, otpcode.SHA1, 6, step, 1, buf[:n]); ok {
		return errors.New("Verify accepted the wrong code")
	}
	return nil
}

// BenchmarkGetEnrollment measures GetEnrollment on the shared population
// and reports the heap that enrolling the population took, per user.
func BenchmarkGetEnrollment(b *testing.B) {
	fx := sharedFixture(b)
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = userID(i * 7919 % fx.users)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := fx.store.GetEnrollment(ctx, ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(fx.bytesPerUser, "bytes/user")
	b.ReportMetric(fx.fillTime.Seconds(), "fill-s")
	b.ReportMetric(float64(fx.users), "users")
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// TestSubmitAllocs checks that a submission of a wrong or a right code
// does not allocate once the pools are warm.
func TestSubmitAllocs(t *testing.T) {
	if raceEnabled() {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	fx, err := newFixture(64)
	if err != nil {
		t.Fatal(err)
	}
	const runs = 1000
	subs := fx.plan(t, runs+1)
	fx.begin(t, subs)
	ctx := context.Background()
	next := 0
	allocs := testing.AllocsPerRun(runs, func() {
		if err := fx.submit(ctx, &subs[next]); err != nil {
			t.Fatal(err)
		}
		next++
	})
	if allocs != 0 {
		t.Errorf("Submit allocs = %v, want 0", allocs)
	}
}

func TestRecordTimes(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		now  time.Time
	}{
		{"Unix epoch", time.Unix(0, 0)},
		{"before 1970", time.Date(1969, time.July, 20, 20, 17, 40, 5, time.UTC)},
		{"nanoseconds", time.Date(2026, time.March, 2, 9, 0, 0, 123456789, time.FixedZone("CET", 3600))},
		{"year 9999", time.Date(9999, time.December, 31, 23, 59, 59, 999999999, time.UTC)},
		{"just after the zero time", time.Time{}.Add(time.Nanosecond)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := memstore.New()
			setup := twofactor.Setup{ID: "s", UserID: "u", Secret: []byte("sealed"), Digits: 6, Period: 30, ExpiresAt: tc.now.Add(time.Hour)}
			if err := s.PutSetup(ctx, setup); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ConfirmSetup(ctx, "u", "s", 1, tc.now); err != nil {
				t.Fatal(err)
			}
			if err := s.Unlock(ctx, "u", tc.now, false); err != nil {
				t.Fatal(err)
			}
			e, err := s.GetEnrollment(ctx, "u")
			if err != nil {
				t.Fatal(err)
			}
			if !e.ConfirmedAt.Equal(tc.now) {
				t.Errorf("ConfirmedAt = %v, want %v", e.ConfirmedAt, tc.now)
			}
			a, err := s.GetAccount(ctx, "u")
			if err != nil {
				t.Fatal(err)
			}
			if !a.UnlockedAt.Equal(tc.now) {
				t.Errorf("UnlockedAt = %v, want %v", a.UnlockedAt, tc.now)
			}
		})
	}
}

func TestRecordNeverUnlocked(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	now := time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)
	if err := s.PutSetup(ctx, twofactor.Setup{ID: "s", UserID: "u", Secret: []byte("x"), ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConfirmSetup(ctx, "u", "s", 1, now); err != nil {
		t.Fatal(err)
	}
	reserveAttempt(t, s, "u", now)
	a, err := s.GetAccount(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	if a != (twofactor.Account{Failures: 1}) {
		t.Errorf("GetAccount = %+v, want only Failures 1", a)
	}
}

// reserveAttempt starts a code-pending challenge of the enrolled user at
// now and reserves one attempt on it.
func reserveAttempt(t *testing.T, s *memstore.Store, userID string, now time.Time) {
	t.Helper()
	c := twofactor.Challenge{
		ID:        "challenge-" + userID,
		UserID:    userID,
		State:     twofactor.StateCodePending,
		CreatedAt: now,
		Deadline:  now.Add(10 * time.Minute),
		ExpiresAt: now.Add(70 * time.Minute),
	}
	if err := s.CreateChallenge(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	a, err := s.ReserveAttempt(t.Context(), c.ID, 5, now, twofactor.Verdict{})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Reserved {
		t.Fatalf("ReserveAttempt = %+v, want an attempt reserved", a)
	}
}

// TestRecordSecretShared checks the contract that lets GetEnrollment skip
// the copy: a secret that GetEnrollment returned never changes, whatever
// the store does afterwards.
func TestRecordSecretShared(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)
	long := bytes.Repeat([]byte("L"), 200) // more than fits in a record
	tests := []struct {
		name          string
		first, second []byte
	}{
		{"short to short", []byte("first sealed secret"), []byte("second sealed secret")},
		{"short to long", []byte("first sealed secret"), long},
		{"long to short", long, []byte("second sealed secret")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := memstore.New()
			enroll := func(secret []byte) {
				t.Helper()
				setup := twofactor.Setup{ID: "s", UserID: "u", Secret: secret, ExpiresAt: now.Add(time.Hour)}
				if err := s.PutSetup(ctx, setup); err != nil {
					t.Fatal(err)
				}
				if _, err := s.ConfirmSetup(ctx, "u", "s", 1, now); err != nil {
					t.Fatal(err)
				}
			}
			enroll(tc.first)
			reserveAttempt(t, s, "u", now)
			before, err := s.GetEnrollment(ctx, "u")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.ReplaceSecret(ctx, "u", tc.first, tc.second); err != nil {
				t.Fatal(err)
			}
			after, err := s.GetEnrollment(ctx, "u")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(after.Secret, tc.second) {
				t.Errorf("Secret after ReplaceSecret = %q, want %q", after.Secret, tc.second)
			}
			enroll(tc.first)
			if err := s.DeleteEnrollment(ctx, "u"); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before.Secret, tc.first) {
				t.Errorf("Secret returned before the changes = %q, want %q", before.Secret, tc.first)
			}
			if !bytes.Equal(after.Secret, tc.second) {
				t.Errorf("Secret returned after ReplaceSecret = %q, want %q", after.Secret, tc.second)
			}
			a, err := s.GetAccount(ctx, "u")
			if err != nil {
				t.Fatal(err)
			}
			if a.Failures != 1 {
				t.Errorf("Failures after the secret changes = %d, want 1", a.Failures)
			}
		})
	}
}
