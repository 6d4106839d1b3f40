package twofactor_test

// Attacks on the library through its public API. Each test asserts the
// behaviour that the package documentation and the product rules promise.
// A test that shows a known bug skips unless TWOFACTOR_SHOW_BUGS is set:
//
//	TWOFACTOR_SHOW_BUGS=1 go test -race -run 'Attack' .

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/memstore"
	"github.com/twofactor-go/twofactor/twofactortest"
)

// attackKey is the encryption key of the attack tests, known so that
// values derived from it can be searched for in output.
var attackKey = twofactor.EncryptionKey{ID: "attack", Secret: []byte("attack-tests-key-not-a-secret!!!")}

// attackKit returns a kit whose Manager encrypts with attackKey.
func attackKit(t *testing.T, cfg twofactor.Config) *twofactortest.Kit {
	t.Helper()
	cfg.Keys = []twofactor.EncryptionKey{attackKey}
	return twofactortest.New(t, cfg)
}

// eventCounter counts the audit events of several Managers by kind. It is
// safe for concurrent use.
type eventCounter struct {
	mu     sync.Mutex
	counts map[twofactor.EventKind]int
}

func (c *eventCounter) record(_ context.Context, e twofactor.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = make(map[twofactor.EventKind]int)
	}
	c.counts[e.Kind]++
}

func (c *eventCounter) count(kind twofactor.EventKind) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[kind]
}

// twoInstances returns a kit and a second Manager on the kit's store and
// clock, as a second instance of the host would have, with the audit events
// of both counted together.
func twoInstances(t *testing.T) (*twofactortest.Kit, []*twofactor.Manager, *eventCounter) {
	t.Helper()
	events := &eventCounter{}
	kit := attackKit(t, twofactor.Config{Audit: events.record})
	m, err := twofactor.New(twofactor.Config{
		Store:  kit.Store,
		Issuer: "Test",
		Keys:   []twofactor.EncryptionKey{attackKey},
		Now:    kit.Clock.Now,
		Audit:  events.record,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return kit, []*twofactor.Manager{kit.Manager, m}, events
}

// runConcurrently calls f(i) for i in [0, n) from n goroutines that start
// together, and waits for all of them.
func runConcurrently(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}

// lockAccount makes five wrong submissions on a new challenge of userID.
func lockAccount(t *testing.T, kit *twofactortest.Kit, userID string, key *twofactor.SetupKey) {
	t.Helper()
	id := beginChallenge(t, kit, userID)
	wrong := wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
	for range twofactor.DefaultMaxAttempts {
		submit(t, kit, id, wrong)
	}
	if locked, err := kit.Manager.Locked(t.Context(), userID); !locked || err != nil {
		t.Fatalf("Locked(%q) = %v, %v after five wrong codes, want true", userID, locked, err)
	}
}

func TestAttackConcurrentWrongCodes(t *testing.T) {
	kit, managers, events := twoInstances(t)
	key := kit.Enroll(t, "u1")
	wrong := wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
	inputs := []string{wrong, "ABCD-EFGH-JKMN", "not a code", ""}
	challenges := make([]string, 8)
	for i := range challenges {
		challenges[i] = beginChallenge(t, kit, "u1")
	}

	const n = 64
	results := make([]twofactor.Result, n)
	runConcurrently(n, func(i int) {
		m := managers[i%len(managers)]
		res, err := m.Submit(context.Background(), challenges[i%len(challenges)], inputs[i%len(inputs)])
		if err != nil && !errors.Is(err, twofactor.ErrChallengeClosed) {
			t.Errorf("Submit %d: %v", i, err)
		}
		results[i] = res
	})

	if got := events.count(twofactor.EventCodeRejected); got != twofactor.DefaultMaxAttempts {
		t.Errorf("%d codes checked and rejected, want %d", got, twofactor.DefaultMaxAttempts)
	}
	pending := 0
	for i, res := range results {
		switch res.State {
		case twofactor.StateCodePending:
			pending++
		case twofactor.StateLocked:
		default:
			t.Errorf("result %d state = %v, want code-pending or locked", i, res.State)
		}
	}
	if pending != twofactor.DefaultMaxAttempts-1 {
		t.Errorf("%d code-pending results, want %d", pending, twofactor.DefaultMaxAttempts-1)
	}
	acct, err := kit.Store.GetAccount(t.Context(), "u1")
	if err != nil || acct.Failures != twofactor.DefaultMaxAttempts {
		t.Errorf("account = %+v, %v, want %d failures", acct, err, twofactor.DefaultMaxAttempts)
	}
}

func TestAttackConcurrentReplay(t *testing.T) {
	kit, managers, _ := twoInstances(t)
	key := kit.Enroll(t, "u1")
	code := twofactortest.Code(t, key, kit.Clock.Now())
	const n = 16
	challenges := make([]string, n)
	for i := range challenges {
		challenges[i] = beginChallenge(t, kit, "u1")
	}

	if successes := submitEverywhere(t, managers, challenges, code); successes != 1 {
		t.Errorf("one code submitted %d times concurrently signed in %d times, want 1", n, successes)
	}
}

// submitEverywhere submits input to every challenge at once, through the
// managers in turn, and returns how many submissions signed in.
func submitEverywhere(t *testing.T, managers []*twofactor.Manager, challenges []string, input string) int {
	t.Helper()
	var mu sync.Mutex
	successes := 0
	runConcurrently(len(challenges), func(i int) {
		res, err := managers[i%len(managers)].Submit(context.Background(), challenges[i], input)
		if err != nil {
			t.Errorf("Submit %d: %v", i, err)
		}
		if res.Succeeded() {
			mu.Lock()
			successes++
			mu.Unlock()
		}
	})
	return successes
}

func TestAttackConcurrentBackupCode(t *testing.T) {
	kit, managers, events := twoInstances(t)
	kit.Enroll(t, "u1")
	code := issue(t, kit, "u1")
	const n = 16
	challenges := make([]string, n)
	for i := range challenges {
		challenges[i] = beginChallenge(t, kit, "u1")
	}

	// The backup-code hash key comes from the first encryption key, so both
	// managers accept the code.
	if successes := submitEverywhere(t, managers, challenges, code); successes != 1 {
		t.Errorf("one backup code submitted %d times concurrently signed in %d times, want 1", n, successes)
	}
	if got := events.count(twofactor.EventBackupCodeUsed); got != 1 {
		t.Errorf("%d backup-code-used events, want 1", got)
	}
}

func TestAttackConcurrentConfirmSetup(t *testing.T) {
	kit := attackKit(t, twofactor.Config{})
	key, err := kit.Manager.StartSetup(t.Context(), "u1", "a")
	if err != nil {
		t.Fatal(err)
	}
	code := twofactortest.Code(t, key, kit.Clock.Now())
	const n = 16
	var mu sync.Mutex
	confirmed := 0
	runConcurrently(n, func(i int) {
		err := kit.Manager.ConfirmSetup(context.Background(), "u1", code)
		switch {
		case err == nil:
			mu.Lock()
			confirmed++
			mu.Unlock()
		case !errors.Is(err, twofactor.ErrNoSetup):
			t.Errorf("ConfirmSetup %d error = %v, want nil or ErrNoSetup", i, err)
		}
	})
	if confirmed != 1 {
		t.Errorf("%d concurrent confirmations succeeded, want 1", confirmed)
	}
	if got := kit.Events.Count(twofactor.EventEnrolled); got != 1 {
		t.Errorf("%d enrolled events, want 1", got)
	}
}

// TestAttackConcurrentMixedOperations runs every kind of call at once for
// two users, so that the race detector checks the shared state of a Manager
// and the store. Only wrong codes are typed, so none may be accepted.
func TestAttackConcurrentMixedOperations(t *testing.T) {
	kit := attackKit(t, twofactor.Config{})
	keys := map[string]*twofactor.SetupKey{"u1": kit.Enroll(t, "u1"), "u2": kit.Enroll(t, "u2")}
	users := []string{"u1", "u2"}
	wrong := map[string]string{}
	for user, key := range keys {
		wrong[user] = wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
	}
	ctx := context.Background()
	const n = 40
	runConcurrently(n, func(i int) {
		user := users[i%2]
		switch i % 8 {
		case 0, 1:
			d, err := kit.Manager.Begin(ctx, twofactor.Login{UserID: user, Role: twofactor.RoleAgent})
			if err != nil || d.Challenge == nil {
				return
			}
			res, err := kit.Manager.Submit(ctx, d.Challenge.ID, wrong[user])
			if err == nil && res.Succeeded() {
				t.Errorf("wrong code signed %s in", user)
			}
		case 2:
			if _, _, err := kit.Manager.IssueBackupCode(ctx, admin, user); err != nil {
				t.Errorf("IssueBackupCode: %v", err)
			}
		case 3:
			if err := kit.Manager.UnlockByAdmin(ctx, user, "admin"); err != nil {
				t.Errorf("UnlockByAdmin: %v", err)
			}
		case 4:
			if _, err := kit.Manager.RotateKeys(ctx); err != nil {
				t.Errorf("RotateKeys: %v", err)
			}
		case 5:
			if _, err := kit.Manager.StartSetup(ctx, user, "a"); err != nil {
				t.Errorf("StartSetup: %v", err)
			}
		case 6:
			if _, err := kit.Manager.Devices(ctx, user); err != nil {
				t.Errorf("Devices: %v", err)
			}
		case 7:
			if _, err := kit.Manager.Locked(ctx, user); err != nil {
				t.Errorf("Locked: %v", err)
			}
		}
	})
	if got := kit.Events.Count(twofactor.EventCodeAccepted); got != 0 {
		t.Errorf("%d codes accepted, want 0: only wrong codes were typed", got)
	}
}

func TestAttackOddCodeInput(t *testing.T) {
	tests := []struct {
		name string
		form func(code string) string
		want bool
	}{
		{"padded with 64 KiB of spaces", func(c string) string { return strings.Repeat(" ", 1<<15) + c + strings.Repeat("-", 1<<15) }, true},
		{"1 MiB of digits", func(string) string { return strings.Repeat("7", 1<<20) }, false},
		{"code twice", func(c string) string { return c + c }, false},
		{"trailing newline", func(c string) string { return c + "\n" }, false},
		{"trailing CRLF", func(c string) string { return c + "\r\n" }, false},
		{"NUL inside", func(c string) string { return c[:3] + "\x00" + c[3:] }, false},
		{"invalid UTF-8", func(c string) string { return "\xff" + c }, false},
		{"non-breaking space", func(c string) string { return c[:3] + "\u00a0" + c[3:] }, false},
		{"Unicode hyphen", func(c string) string { return c[:3] + "\u2010" + c[3:] }, false},
		{"Arabic-Indic digits", func(c string) string { return strings.Map(func(r rune) rune { return r - '0' + '٠' }, c) }, false},
		{"plus sign", func(c string) string { return "+" + c }, false},
		{"right-to-left override", func(c string) string { return "\u202e" + c }, false},
		{"only dashes", func(string) string { return "------" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kit := attackKit(t, twofactor.Config{})
			key := kit.Enroll(t, "u1")
			input := tt.form(twofactortest.Code(t, key, kit.Clock.Now()))
			res := submit(t, kit, beginChallenge(t, kit, "u1"), input)
			if res.Succeeded() != tt.want {
				t.Errorf("success = %v, want %v", res.Succeeded(), tt.want)
			}
			if !tt.want && (res.Message != incorrect || res.AttemptsLeft != 4) {
				t.Errorf("result = %q with %d left, want %q with 4 left", res.Message, res.AttemptsLeft, incorrect)
			}
		})
	}
}

func TestAttackOddChallengeID(t *testing.T) {
	kit := attackKit(t, twofactor.Config{})
	kit.Enroll(t, "u1")
	valid := beginChallenge(t, kit, "u1")
	ids := []string{"", strings.Repeat("a", 1<<20), "\xff\xfe", "\x00", valid + " ", strings.ToUpper(valid), valid[:len(valid)-1]}
	for _, id := range ids {
		res, err := kit.Manager.Submit(t.Context(), id, "123456")
		if !errors.Is(err, twofactor.ErrChallengeNotFound) || res.Succeeded() {
			t.Errorf("Submit to challenge %.20q = %+v, %v, want ErrChallengeNotFound", id, res, err)
		}
	}
	acct, _ := kit.Store.GetAccount(t.Context(), "u1")
	if acct.Failures != 0 {
		t.Errorf("unknown challenges counted %d failures, want 0", acct.Failures)
	}
}

func TestAttackOddUserID(t *testing.T) {
	kit := attackKit(t, twofactor.Config{})
	kit.Enroll(t, "u1")
	ctx := t.Context()
	ids := []string{"", strings.Repeat("u", 257), "\xff", "u\x00", "u\n1", "u\x7f"}
	for _, id := range ids {
		if _, err := kit.Manager.Begin(ctx, twofactor.Login{UserID: id, Role: twofactor.RoleAgent}); err == nil {
			t.Errorf("Begin for user %.20q error = nil, want invalid user ID", id)
		}
		if _, err := kit.Manager.StartSetup(ctx, id, "a"); err == nil {
			t.Errorf("StartSetup for user %.20q error = nil, want invalid user ID", id)
		}
		if _, _, err := kit.Manager.IssueBackupCode(ctx, admin, id); err == nil {
			t.Errorf("IssueBackupCode for user %.20q error = nil, want invalid user ID", id)
		}
		if err := kit.Manager.UnlockByAdmin(ctx, id, "admin"); err == nil {
			t.Errorf("UnlockByAdmin for user %.20q error = nil, want invalid user ID", id)
		}
	}
}

func TestAttackOddConfig(t *testing.T) {
	key := []twofactor.EncryptionKey{attackKey}
	tests := []struct {
		name string
		cfg  twofactor.Config
	}{
		{"negative digits", twofactor.Config{Digits: -6}},
		{"five digits", twofactor.Config{Digits: 5}},
		{"eleven digits", twofactor.Config{Digits: 11}},
		{"negative period", twofactor.Config{Period: -30 * time.Second}},
		{"fractional period", twofactor.Config{Period: 1500 * time.Millisecond}},
		{"nanosecond period", twofactor.Config{Period: time.Nanosecond}},
		{"unknown algorithm", twofactor.Config{Algorithm: 3}},
		{"negative attempts", twofactor.Config{MaxAttempts: -1}},
		{"negative challenge timeout", twofactor.Config{ChallengeTimeout: -time.Minute}},
		{"sub-second challenge timeout", twofactor.Config{ChallengeTimeout: time.Millisecond}},
		{"negative set-up timeout", twofactor.Config{SetupTimeout: -time.Minute}},
		{"negative backup code TTL", twofactor.Config{BackupCodeTTL: -time.Minute}},
		{"negative trust period", twofactor.Config{Policy: twofactor.Policy{TrustFor: -time.Hour}}},
		{"zero role", twofactor.Config{Policy: twofactor.Policy{TrustRoles: []twofactor.Role{0}}}},
		{"unknown role", twofactor.Config{Policy: twofactor.Policy{TrustRoles: []twofactor.Role{9}}}},
		{"issuer with colon", twofactor.Config{Issuer: "a:b"}},
		{"issuer invalid UTF-8", twofactor.Config{Issuer: "\xff"}},
		{"issuer with newline", twofactor.Config{Issuer: "a\nb"}},
		{"short key", twofactor.Config{Keys: []twofactor.EncryptionKey{{ID: "k", Secret: make([]byte, 31)}}}},
		{"long key", twofactor.Config{Keys: []twofactor.EncryptionKey{{ID: "k", Secret: make([]byte, 33)}}}},
		{"empty key ID", twofactor.Config{Keys: []twofactor.EncryptionKey{{Secret: make([]byte, 32)}}}},
		{"duplicate key ID", twofactor.Config{Keys: []twofactor.EncryptionKey{attackKey, attackKey}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Store = memstore.New()
			if cfg.Issuer == "" {
				cfg.Issuer = "Test"
			}
			if cfg.Keys == nil {
				cfg.Keys = key
			}
			m, err := twofactor.New(cfg)
			if err == nil || m != nil {
				t.Errorf("New = %v, %v, want an error", m, err)
			}
		})
	}
}

func TestAttackSkewBeyondMax(t *testing.T) {
	clock := twofactortest.NewClock(twofactortest.Epoch)
	m, err := twofactor.New(twofactor.Config{
		Store:  memstore.New(),
		Issuer: "Test",
		Keys:   []twofactor.EncryptionKey{attackKey},
		Now:    clock.Now,
		Skew:   11,
	})
	if err != nil {
		return // Rejecting the configuration is correct.
	}
	key, err := m.StartSetup(t.Context(), "u1", "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ConfirmSetup(t.Context(), "u1", twofactortest.Code(t, key, clock.Now())); err != nil {
		t.Errorf("ConfirmSetup with the current code under Skew 11 = %v, want nil (or New to reject Skew 11)", err)
	}
}

func TestAttackStepBoundaries(t *testing.T) {
	period := int64(twofactor.DefaultPeriod / time.Second)
	// base is the start of a time step some minutes after the kit's enrollment.
	base := time.Unix((twofactortest.Epoch.Unix()/period+20)*period, 0)
	stepTime := func(step int64) time.Time { return time.Unix(step*period, 0) }
	tests := []struct {
		name  string
		now   time.Time
		delta int64 // the code's step minus now's step
		want  bool
	}{
		{"first ns, two back", base, -2, false},
		{"first ns, one back", base, -1, true},
		{"first ns, one ahead", base, 1, true},
		{"first ns, two ahead", base, 2, false},
		{"last ns, two back", base.Add(29*time.Second + 999999999), -2, false},
		{"last ns, one back", base.Add(29*time.Second + 999999999), -1, true},
		{"last ns, one ahead", base.Add(29*time.Second + 999999999), 1, true},
		{"last ns, two ahead", base.Add(29*time.Second + 999999999), 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kit := attackKit(t, twofactor.Config{})
			key := kit.Enroll(t, "u1")
			kit.Clock.Set(tt.now)
			code := twofactortest.Code(t, key, stepTime(tt.now.Unix()/period+tt.delta))
			res := submit(t, kit, beginChallenge(t, kit, "u1"), code)
			if res.Succeeded() != tt.want {
				t.Errorf("code of step %+d at %v: success %v, want %v", tt.delta, tt.now.Format(time.RFC3339Nano), res.Succeeded(), tt.want)
			}
		})
	}
}

func TestAttackNegativeSkew(t *testing.T) {
	tests := []struct {
		name   string
		offset time.Duration
		want   bool
	}{
		{"previous step", -30 * time.Second, false},
		{"current step", 0, true},
		{"next step", 30 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kit := attackKit(t, twofactor.Config{Skew: -1})
			key := kit.Enroll(t, "u1")
			kit.Clock.Advance(time.Minute)
			code := twofactortest.Code(t, key, kit.Clock.Now().Add(tt.offset))
			res := submit(t, kit, beginChallenge(t, kit, "u1"), code)
			if res.Succeeded() != tt.want {
				t.Errorf("code at %v with Skew -1: success %v, want %v", tt.offset, res.Succeeded(), tt.want)
			}
		})
	}
}

// TestAttackClosedChallengeChecksNothing submits right codes to a timed-out
// challenge and to a locked account, and then shows that neither code was
// spent: both still work on a fresh challenge.
func TestAttackClosedChallengeChecksNothing(t *testing.T) {
	t.Run("timed out", func(t *testing.T) {
		kit := attackKit(t, twofactor.Config{})
		key := kit.Enroll(t, "u1")
		backup := issue(t, kit, "u1")
		stale := beginChallenge(t, kit, "u1")
		kit.Clock.Advance(twofactor.DefaultChallengeTimeout)
		code := twofactortest.Code(t, key, kit.Clock.Now())
		for _, input := range []string{code, backup} {
			if res := submit(t, kit, stale, input); res.State != twofactor.StateTimedOut {
				t.Errorf("right code on a timed-out challenge = %v, want timed-out", res.State)
			}
		}
		if res := submit(t, kit, beginChallenge(t, kit, "u1"), code); !res.Succeeded() {
			t.Errorf("app code after a timed-out submission = %+v, want success because a timed-out submission spends nothing", res)
		}
		if res := submit(t, kit, beginChallenge(t, kit, "u1"), backup); !res.Succeeded() {
			t.Errorf("backup code after a timed-out submission = %+v, want success because a timed-out submission spends nothing", res)
		}
	})
	t.Run("locked", func(t *testing.T) {
		kit := attackKit(t, twofactor.Config{})
		key := kit.Enroll(t, "u1")
		backup := issue(t, kit, "u1")
		open := beginChallenge(t, kit, "u1")
		lockAccount(t, kit, "u1", key)
		code := twofactortest.Code(t, key, kit.Clock.Now())
		for _, input := range []string{code, backup} {
			if res := submit(t, kit, open, input); res.State != twofactor.StateLocked {
				t.Errorf("right code on a locked account = %v, want locked", res.State)
			}
		}
		if err := kit.Manager.UnlockAfterPasswordReset(t.Context(), "u1"); err != nil {
			t.Fatal(err)
		}
		if res := submit(t, kit, beginChallenge(t, kit, "u1"), backup); !res.Succeeded() {
			t.Errorf("backup code after a locked submission = %+v, want success because a locked submission spends nothing", res)
		}
		if res := submit(t, kit, beginChallenge(t, kit, "u1"), code); !res.Succeeded() {
			t.Errorf("app code after a locked submission = %+v, want success because a locked submission spends nothing", res)
		}
	})
}

func TestAttackTimedOutAndLocked(t *testing.T) {
	kit := attackKit(t, twofactor.Config{})
	key := kit.Enroll(t, "u1")
	open := beginChallenge(t, kit, "u1")
	lockAccount(t, kit, "u1", key)
	kit.Clock.Advance(twofactor.DefaultChallengeTimeout)
	res := submit(t, kit, open, twofactortest.Code(t, key, kit.Clock.Now()))
	if res.State != twofactor.StateTimedOut || res.Message != twofactor.EnglishMessages.TimedOut {
		t.Errorf("late submission to a locked account = %v %q, want timed-out first", res.State, res.Message)
	}
	if got := kit.Events.Count(twofactor.EventCodeRejected); got != twofactor.DefaultMaxAttempts {
		t.Errorf("%d codes rejected, want %d: no code is checked after the lock", got, twofactor.DefaultMaxAttempts)
	}
}

func TestAttackLockedBeforeEveryBypass(t *testing.T) {
	kit := attackKit(t, twofactor.Config{Policy: twofactor.Policy{ExemptChannels: []string{"plugin"}}})
	key := kit.Enroll(t, "u1")
	token := trust(t, kit, "u1", key)
	lockAccount(t, kit, "u1", key)
	logins := map[string]twofactor.Login{
		"exempt channel":   {UserID: "u1", Role: twofactor.RoleAgent, Channel: "plugin"},
		"trusted device":   {UserID: "u1", Role: twofactor.RoleAgent, DeviceToken: token},
		"SSO super-agent":  {UserID: "u1", Role: twofactor.RoleSuperAgent, Method: twofactor.MethodSSO},
		"SSO, device, all": {UserID: "u1", Role: twofactor.RoleAgent, Method: twofactor.MethodSSO, Channel: "plugin", DeviceToken: token},
	}
	for name, login := range logins {
		d, err := kit.Manager.Begin(t.Context(), login)
		if err != nil {
			t.Fatalf("Begin %s: %v", name, err)
		}
		if !d.Required || d.Reason != twofactor.ReasonLocked || d.Challenge != nil {
			t.Errorf("Begin %s on a locked account = %+v, want required, locked, no challenge", name, d)
		}
	}
}

func TestAttackBackupCodeOfAnotherUser(t *testing.T) {
	kit := attackKit(t, twofactor.Config{})
	kit.Enroll(t, "u1")
	kit.Enroll(t, "u2")
	code := issue(t, kit, "u2")
	res := submit(t, kit, beginChallenge(t, kit, "u1"), code)
	if res.Succeeded() || res.AttemptsLeft != 4 {
		t.Errorf("u2's backup code on u1's challenge = %+v, want incorrect with 4 left", res)
	}
	if res := submit(t, kit, beginChallenge(t, kit, "u2"), code); !res.Succeeded() {
		t.Errorf("u2's backup code for u2 after misuse = %+v, want success", res)
	}
}

func TestAttackRevokeOtherUsersDevice(t *testing.T) {
	kit := attackKit(t, twofactor.Config{})
	token := trust(t, kit, "u1", kit.Enroll(t, "u1"))
	kit.Enroll(t, "u2")
	devices, err := kit.Manager.Devices(t.Context(), "u1")
	if err != nil || len(devices) != 1 {
		t.Fatalf("Devices(u1) = %v, %v, want one", devices, err)
	}
	if err := kit.Manager.RevokeDevice(t.Context(), "u2", devices[0].ID, "u2"); err != nil {
		t.Fatal(err)
	}
	d, err := kit.Manager.Begin(t.Context(), twofactor.Login{UserID: "u1", Role: twofactor.RoleAgent, DeviceToken: token})
	if err != nil {
		t.Fatal(err)
	}
	if d.Reason != twofactor.ReasonTrustedDevice {
		t.Errorf("u1's device after u2 revoked its ID = %q, want still trusted", d.Reason)
	}
	d, err = kit.Manager.Begin(t.Context(), twofactor.Login{UserID: "u2", Role: twofactor.RoleAgent, DeviceToken: token})
	if err != nil {
		t.Fatal(err)
	}
	if d.Reason == twofactor.ReasonTrustedDevice {
		t.Errorf("u1's device token skipped the code for u2")
	}
}

func TestAttackTurnedOffDuringChallenge(t *testing.T) {
	kit := attackKit(t, twofactor.Config{})
	key := kit.Enroll(t, "u1")
	id := beginChallenge(t, kit, "u1")
	if err := kit.Manager.TurnOff(t.Context(), "u1", "admin"); err != nil {
		t.Fatal(err)
	}
	res, err := kit.Manager.Submit(t.Context(), id, twofactortest.Code(t, key, kit.Clock.Now()))
	if !errors.Is(err, twofactor.ErrNotEnrolled) || res.Succeeded() {
		t.Errorf("Submit after turn-off = %+v, %v, want ErrNotEnrolled", res, err)
	}
}

// TestAttackBackupStoreFailure fails the store call that judges a backup
// code: ReserveAttempt on the Manager that began the challenge, and
// ConsumeBackupCode on a second instance. The failure must not sign in,
// show the code or count a failure, and the code must work once the store
// is back.
func TestAttackBackupStoreFailure(t *testing.T) {
	tests := []struct {
		method string
		other  bool // submit through a second instance
	}{
		{"ReserveAttempt", false},
		{"ConsumeBackupCode", true},
	}
	for _, tt := range tests {
		name := tt.method
		if tt.other {
			name += " on another instance"
		}
		t.Run(name, func(t *testing.T) {
			failing := twofactortest.NewFailingStore(memstore.New())
			kit := attackKit(t, twofactor.Config{Store: failing})
			kit.Enroll(t, "u1")
			code := issue(t, kit, "u1")
			id := beginChallenge(t, kit, "u1")
			submitter := kit
			if tt.other {
				submitter = secondInstance(t, kit, twofactor.Config{Keys: []twofactor.EncryptionKey{attackKey}})
			}
			failing.Fail(nil, tt.method)
			before := failing.Calls(tt.method)
			res, err := submitter.Manager.Submit(t.Context(), id, code)
			if n := failing.Calls(tt.method) - before; n != 1 {
				t.Fatalf("%s calls = %d, want 1", tt.method, n)
			}
			if err == nil || res.Succeeded() {
				t.Errorf("Submit with %s failing = %+v, %v, want an error and no success", tt.method, res, err)
			}
			if err != nil && strings.Contains(err.Error(), code) {
				t.Errorf("error %q shows the backup code", err)
			}
			failing.Heal()
			acct, _ := kit.Store.GetAccount(t.Context(), "u1")
			if acct.Failures != 0 {
				t.Errorf("a failed backup-code check counted %d failures, want 0", acct.Failures)
			}
			if res := submit(t, submitter, id, code); !res.Succeeded() {
				t.Errorf("backup code after the store recovered = %+v, want success", res)
			}
		})
	}
}

// TestAttackBeginFailsClosed makes each store call of Begin fail and checks
// that the Decision returned with the error does not let the user in: a host
// that reads only Decision.Required must still ask for a code.
func TestAttackBeginFailsClosed(t *testing.T) {
	for _, method := range []string{"GetEnrollment", "GetAccount", "UseDevice", "CreateChallenge"} {
		t.Run(method, func(t *testing.T) {
			failing := twofactortest.NewFailingStore(memstore.New())
			kit := attackKit(t, twofactor.Config{Store: failing})
			token := trust(t, kit, "u1", kit.Enroll(t, "u1"))
			failing.Fail(nil, method)
			d, err := kit.Manager.Begin(t.Context(), twofactor.Login{UserID: "u1", Role: twofactor.RoleAdministrator, DeviceToken: token})
			if method == "UseDevice" {
				// An administrator's login never reads a device, so ask as
				// an agent to reach UseDevice.
				d, err = kit.Manager.Begin(t.Context(), twofactor.Login{UserID: "u1", Role: twofactor.RoleAgent, DeviceToken: token})
			}
			if err == nil {
				t.Fatalf("Begin with %s failing: error = nil", method)
			}
			if !d.Required {
				t.Errorf("Begin with %s failing = %+v, %v; want Required so that the code step is not skipped", method, d, err)
			}
		})
	}
	kit := attackKit(t, twofactor.Config{})
	kit.Enroll(t, "u1")
	d, err := kit.Manager.Begin(t.Context(), twofactor.Login{UserID: "u1"})
	if err == nil || !d.Required {
		t.Errorf("Begin without a role = %+v, %v; want an error and Required", d, err)
	}
}

// TestAttackStoreErrorAfterRightCode fails the store call that records a
// right code after four wrong ones: ReserveAttempt on the Manager that
// began the challenge, and AcceptStep on a second instance. The attempt
// must not stay counted, so that the account does not lock, and the
// challenge and the code stay usable.
func TestAttackStoreErrorAfterRightCode(t *testing.T) {
	tests := []struct {
		method string
		other  bool // submit the right code through a second instance
	}{
		{"ReserveAttempt", false},
		{"AcceptStep", true},
	}
	for _, tt := range tests {
		name := tt.method
		if tt.other {
			name += " on another instance"
		}
		t.Run(name, func(t *testing.T) {
			failing := twofactortest.NewFailingStore(memstore.New())
			kit := attackKit(t, twofactor.Config{Store: failing})
			key := kit.Enroll(t, "u1")
			id := beginChallenge(t, kit, "u1")
			wrong := wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
			for range 4 {
				submit(t, kit, id, wrong)
			}
			submitter := kit
			if tt.other {
				submitter = secondInstance(t, kit, twofactor.Config{Keys: []twofactor.EncryptionKey{attackKey}})
			}
			failing.Fail(nil, tt.method)
			before := failing.Calls(tt.method)
			right := twofactortest.Code(t, key, kit.Clock.Now())
			res, err := submitter.Manager.Submit(t.Context(), id, right)
			if n := failing.Calls(tt.method) - before; n != 1 {
				t.Fatalf("%s calls = %d, want 1", tt.method, n)
			}
			if err == nil || res.Succeeded() {
				t.Fatalf("Submit with %s failing = %+v, %v, want an error", tt.method, res, err)
			}
			failing.Heal()
			if locked, _ := kit.Manager.Locked(t.Context(), "u1"); locked {
				t.Errorf("the right code locked the account after a store failure")
			}
			if n := kit.Events.Count(twofactor.EventLocked) + submitter.Events.Count(twofactor.EventLocked); n != 0 {
				t.Errorf("%d lock events after a store failure on the right code, want 0", n)
			}
			acct, _ := kit.Store.GetAccount(t.Context(), "u1")
			if acct.Failures != 4 {
				t.Errorf("failures = %d after 4 wrong codes and a right one the store failed to record, want 4", acct.Failures)
			}
			c, err := kit.Store.GetChallenge(t.Context(), id)
			if err != nil || c.State != twofactor.StateCodePending {
				t.Errorf("challenge after the store failure = %v, %v, want code-pending", c.State, err)
			}
			if res := submit(t, submitter, id, right); !res.Succeeded() {
				t.Errorf("the right code after the store recovered = %+v, want success", res)
			}
		})
	}
}

func TestAttackDeviceStoreFailureResult(t *testing.T) {
	failing := twofactortest.NewFailingStore(memstore.New())
	kit := attackKit(t, twofactor.Config{Store: failing})
	key := kit.Enroll(t, "u1")
	id := beginChallenge(t, kit, "u1")
	failing.Fail(nil, "PutDevice")
	res, err := kit.Manager.Submit(t.Context(), id, twofactortest.Code(t, key, kit.Clock.Now()), twofactor.TrustDevice("Firefox"))
	if err != nil && res.Succeeded() {
		t.Errorf("Submit = %v with error %v; the documentation says an error is never a success", res.State, err)
	}
}

// TestAttackRevocationSurvivesStoreFailure fails one store call during a
// reset or turn-off, lets the store recover, and checks that a trusted
// device of the old enrollment no longer skips the code once the change
// has taken effect.
// TestAttackRevocationSurvivesStoreFailure fails one store call of a reset
// or turn-off. Whatever part of the change took effect, a device trusted
// under the old enrollment must not skip the code under a new secret or a
// new enrollment.
func TestAttackRevocationSurvivesStoreFailure(t *testing.T) {
	tests := []struct {
		name   string
		method string
		change func(t *testing.T, kit *twofactortest.Kit) (changed bool, err error)
	}{
		{"reset, ClearResetRequired fails", "ClearResetRequired", resetSecret},
		{"reset, DeleteDevices fails", "DeleteDevices", resetSecret},
		{"reset, ConfirmSetup fails", "ConfirmSetup", resetSecret},
		{"turn off, DeleteBackupCode fails", "DeleteBackupCode", turnOffAndEnroll},
		{"turn off, DeleteDevices fails", "DeleteDevices", turnOffAndEnroll},
		{"turn off, DeleteEnrollment fails", "DeleteEnrollment", turnOffAndEnroll},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failing := twofactortest.NewFailingStore(memstore.New())
			kit := attackKit(t, twofactor.Config{Store: failing})
			token := trust(t, kit, "u1", kit.Enroll(t, "u1"))
			failing.Fail(nil, tt.method)
			changed, err := tt.change(t, kit)
			if err == nil {
				t.Fatalf("the change reported no error with %s failing", tt.method)
			}
			if !changed {
				// Nothing changed: the old enrollment and its devices
				// stand, and the host retries.
				return
			}
			d, err := kit.Manager.Begin(t.Context(), twofactor.Login{UserID: "u1", Role: twofactor.RoleAgent, DeviceToken: token})
			if err != nil {
				t.Fatal(err)
			}
			if d.Reason == twofactor.ReasonTrustedDevice {
				t.Errorf("device of the old enrollment still trusted after %s", tt.name)
			}
		})
	}
}

// resetSecret starts and confirms a new set-up for u1 with the store
// failing, heals the store, and reports whether the new secret signs in.
func resetSecret(t *testing.T, kit *twofactortest.Kit) (bool, error) {
	t.Helper()
	failing := kit.Store.(*twofactortest.FailingStore)
	key, err := kit.Manager.StartSetup(t.Context(), "u1", "a")
	if err != nil {
		t.Fatal(err)
	}
	err = kit.Manager.ConfirmSetup(t.Context(), "u1", twofactortest.Code(t, key, kit.Clock.Now()))
	failing.Heal()
	kit.Clock.Advance(key.Period)
	res := submit(t, kit, beginChallenge(t, kit, "u1"), twofactortest.Code(t, key, kit.Clock.Now()))
	kit.Clock.Advance(key.Period)
	return res.Succeeded(), err
}

// turnOffAndEnroll turns u1's 2FA off with the store failing, heals the
// store, and, when u1 is no longer enrolled, enrolls u1 again as a user
// whose 2FA shows as off would. It reports whether the turn-off took
// effect.
func turnOffAndEnroll(t *testing.T, kit *twofactortest.Kit) (bool, error) {
	t.Helper()
	failing := kit.Store.(*twofactortest.FailingStore)
	err := kit.Manager.TurnOff(t.Context(), "u1", "u1")
	failing.Heal()
	if enrolled, _ := kit.Manager.Enrolled(t.Context(), "u1"); enrolled {
		return false, err
	}
	kit.Enroll(t, "u1")
	return true, err
}

func TestAttackManagerFormatHidesBackupKey(t *testing.T) {
	kit := attackKit(t, twofactor.Config{})
	backupKey, err := hkdf.Key(sha256.New, attackKey.Secret, nil, "twofactor backup code hash", 32)
	if err != nil {
		t.Fatal(err)
	}
	forms := []string{fmt.Sprint(backupKey), fmt.Sprintf("%#v", backupKey), hex.EncodeToString(backupKey)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%x"} {
		out := fmt.Sprintf(verb, kit.Manager)
		for _, form := range forms {
			if strings.Contains(out, form) {
				t.Errorf("Sprintf(%q, manager) contains the backup-code hash key", verb)
			}
		}
	}
}

func TestAttackNilSubmitOption(t *testing.T) {
	kit := attackKit(t, twofactor.Config{})
	key := kit.Enroll(t, "u1")
	id := beginChallenge(t, kit, "u1")
	// A host that builds the option conditionally passes nil when the user
	// did not ask to remember the device.
	var remember twofactor.SubmitOption
	var res twofactor.Result
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("Submit with a nil option panicked: %v", r)
			}
		}()
		res = submit(t, kit, id, twofactortest.Code(t, key, kit.Clock.Now()), remember)
	}()
	if !res.Succeeded() {
		t.Errorf("Submit with a nil option = %+v, want success", res)
	}
	if _, err := kit.Manager.Submit(t.Context(), id, "000000"); !errors.Is(err, twofactor.ErrChallengeClosed) {
		t.Logf("challenge after the nil option: %v", err)
	}
}

func TestAttackPartialMessages(t *testing.T) {
	only := twofactor.Messages{IncorrectCode: "Code incorrect"}
	clock := twofactortest.NewClock(twofactortest.Epoch)
	m, err := twofactor.New(twofactor.Config{
		Store: memstore.New(), Issuer: "Test", Keys: []twofactor.EncryptionKey{attackKey},
		Now: clock.Now, Messages: &only,
	})
	if err != nil {
		return // Rejecting the incomplete messages is correct.
	}
	kit := &twofactortest.Kit{Manager: m, Clock: clock, Events: &twofactortest.Recorder{}}
	key := kit.Enroll(t, "u1")
	id := beginChallenge(t, kit, "u1")
	wrong := wrongCode(twofactortest.Code(t, key, clock.Now()))
	var res twofactor.Result
	for range 3 {
		res = submit(t, kit, id, wrong)
	}
	if res.Warning == "" || strings.Contains(res.Warning, "%!") {
		t.Errorf("warning after the 3rd wrong code = %q, want a readable warning", res.Warning)
	}
	submit(t, kit, id, wrong)
	res = submit(t, kit, id, wrong)
	if res.Message == "" {
		t.Errorf("lock message = %q, want a readable message", res.Message)
	}
}

func TestAttackIssuerWithoutID(t *testing.T) {
	kit := attackKit(t, twofactor.Config{})
	kit.Enroll(t, "u1")
	code, _, err := kit.Manager.IssueBackupCode(t.Context(), twofactor.Actor{Role: twofactor.RoleAdministrator}, "u1")
	if err == nil || code != "" {
		t.Errorf("IssueBackupCode by an administrator without an ID = %q, %v, want an error", code, err)
	}
}

func TestAttackConfirmCodeNotReplayable(t *testing.T) {
	kit := attackKit(t, twofactor.Config{})
	ctx := t.Context()
	oldKey := kit.Enroll(t, "u1")
	// Sign in, then confirm a reset in the same time step. The code that
	// confirmed the reset must not sign in afterwards.
	if res := submit(t, kit, beginChallenge(t, kit, "u1"), twofactortest.Code(t, oldKey, kit.Clock.Now())); !res.Succeeded() {
		t.Fatalf("sign-in = %+v", res)
	}
	newKey, err := kit.Manager.StartSetup(ctx, "u1", "a")
	if err != nil {
		t.Fatal(err)
	}
	code := twofactortest.Code(t, newKey, kit.Clock.Now())
	if err := kit.Manager.ConfirmSetup(ctx, "u1", code); err != nil {
		t.Fatal(err)
	}
	if res := submit(t, kit, beginChallenge(t, kit, "u1"), code); res.Succeeded() {
		t.Errorf("the code that confirmed the reset signed in")
	}
	if res := submit(t, kit, beginChallenge(t, kit, "u1"), twofactortest.Code(t, oldKey, kit.Clock.Now().Add(30*time.Second))); res.Succeeded() {
		t.Errorf("the old secret signed in after the reset")
	}
}

// TestAttackErrorsHideInput fails each store call that a submission can
// make with the code in hand, and checks that the error shows neither the
// code nor a secret. The Manager that began the challenge judges the code
// in ReserveAttempt, and a second instance records it with AcceptStep or
// ConsumeBackupCode.
func TestAttackErrorsHideInput(t *testing.T) {
	failing := twofactortest.NewFailingStore(memstore.New())
	kit := attackKit(t, twofactor.Config{Store: failing})
	other := secondInstance(t, kit, twofactor.Config{Keys: []twofactor.EncryptionKey{attackKey}})
	key := kit.Enroll(t, "u1")
	tests := []struct {
		method string
		backup bool // submit a backup code, not the app's code
		late   bool // submit at the deadline, which closes the challenge
		other  bool // submit through the second instance
	}{
		{method: "ReserveAttempt"},
		{method: "ReserveAttempt", backup: true},
		{method: "ReserveAttempt", other: true},
		{method: "AcceptStep", other: true},
		{method: "ConsumeBackupCode", backup: true, other: true},
		{method: "UpdateChallenge", late: true},
	}
	for _, tt := range tests {
		// A fresh step each time keeps the cases independent of each
		// other.
		kit.Clock.Advance(key.Period)
		code := twofactortest.Code(t, key, kit.Clock.Now())
		if tt.backup {
			code = issue(t, kit, "u1")
		}
		id := beginChallenge(t, kit, "u1")
		if tt.late {
			kit.Clock.Advance(twofactor.DefaultChallengeTimeout)
		}
		submitter := kit
		if tt.other {
			submitter = other
		}
		failing.Fail(errors.New("store down"), tt.method)
		before := failing.Calls(tt.method)
		_, err := submitter.Manager.Submit(t.Context(), id, code)
		calls := failing.Calls(tt.method) - before
		failing.Heal()
		if calls != 1 {
			t.Errorf("%s calls = %d, want 1 (backup %v, other instance %v)", tt.method, calls, tt.backup, tt.other)
		}
		if err == nil {
			t.Errorf("Submit with %s failing (backup %v, other instance %v): error = nil", tt.method, tt.backup, tt.other)
			continue
		}
		for _, secret := range []string{code, strings.ReplaceAll(code, "-", ""), key.Secret, hex.EncodeToString(attackKey.Secret)} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("Submit error with %s failing shows a secret: %q", tt.method, err)
			}
		}
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%v %+v %#v %s", key, key, key, key)
	if strings.Contains(buf.String(), key.Secret) {
		t.Errorf("formatted SetupKey shows the secret")
	}
}

// FuzzAttackSubmitInput submits arbitrary input to a fresh challenge. It
// must succeed only when the input is the right code with spaces and dashes
// added, and otherwise count as exactly one wrong code.
func FuzzAttackSubmitInput(f *testing.F) {
	f.Add("123456")
	f.Add(" 12-34 56 ")
	f.Add("ABCD-EFGH-JKMN")
	f.Add("\xff\x00\n")
	f.Add(strings.Repeat("-", 100))
	f.Fuzz(func(t *testing.T, input string) {
		kit := attackKit(t, twofactor.Config{})
		key := kit.Enroll(t, "u1")
		right := twofactortest.Code(t, key, kit.Clock.Now())
		res := submit(t, kit, beginChallenge(t, kit, "u1"), input)
		stripped := strings.NewReplacer(" ", "", "-", "").Replace(input)
		if want := stripped == right; res.Succeeded() != want {
			t.Fatalf("Submit(%q) success = %v, want %v (right code %q)", input, res.Succeeded(), want, right)
		}
		if !res.Succeeded() && (res.AttemptsLeft != 4 || res.State != twofactor.StateCodePending) {
			t.Fatalf("Submit(%q) = %+v, want code-pending with 4 left", input, res)
		}
	})
}
