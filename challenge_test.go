package twofactor_test

import (
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/memstore"
	"github.com/twofactor-go/twofactor/twofactortest"
)

const (
	incorrect = "Incorrect code, please try again."
	twoLeft   = "You have 2 login attempt(s) before your account is locked"
	oneLeft   = "You have 1 login attempt(s) before your account is locked"
)

func TestWrongCodesWarnThenLock(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	key := kit.Enroll(t, "u1")
	id := beginChallenge(t, kit, "u1")
	wrong := wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
	steps := []struct {
		state   twofactor.State
		message string
		warning string
		left    int
	}{
		{twofactor.StateCodePending, incorrect, "", 4},
		{twofactor.StateCodePending, incorrect, "", 3},
		{twofactor.StateCodePending, incorrect, twoLeft, 2},
		{twofactor.StateCodePending, incorrect, oneLeft, 1},
		{twofactor.StateLocked, twofactor.EnglishMessages.Locked, "", 0},
	}
	for i, want := range steps {
		got := submit(t, kit, id, wrong)
		if got.State != want.state || got.Message != want.message || got.Warning != want.warning || got.AttemptsLeft != want.left {
			t.Errorf("wrong code %d = {%v %q %q %d}, want {%v %q %q %d}", i+1,
				got.State, got.Message, got.Warning, got.AttemptsLeft, want.state, want.message, want.warning, want.left)
		}
	}
	if n := kit.Events.Count(twofactor.EventLocked); n != 1 {
		t.Errorf("%d locked events, want 1", n)
	}
}

func TestLockedAccountRefusedWithoutCheck(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	key := kit.Enroll(t, "u1")
	id := beginChallenge(t, kit, "u1")
	wrong := wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
	for range 5 {
		submit(t, kit, id, wrong)
	}
	// The right code on the locked challenge changes nothing.
	res := submit(t, kit, id, twofactortest.Code(t, key, kit.Clock.Now()))
	if res.State != twofactor.StateLocked {
		t.Errorf("right code on a locked challenge = %v, want locked", res.State)
	}
	// A new sign-in is refused before a challenge exists.
	d, err := kit.Manager.Begin(t.Context(), twofactor.Login{UserID: "u1", Role: twofactor.RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Required || d.Reason != twofactor.ReasonLocked || d.Challenge != nil {
		t.Errorf("Begin on a locked account = %+v, want required, locked, no challenge", d)
	}
	if n := kit.Events.Count(twofactor.EventCodeRejected); n != 5 {
		t.Errorf("%d codes rejected, want 5: a locked account checks no code", n)
	}
}

func TestFailuresBelongToAccount(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	key := kit.Enroll(t, "u1")
	wrong := wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
	first := beginChallenge(t, kit, "u1")
	for range 3 {
		submit(t, kit, first, wrong)
	}
	// Signing in again gives no fresh attempts.
	second := beginChallenge(t, kit, "u1")
	res := submit(t, kit, second, wrong)
	if res.AttemptsLeft != 1 || res.Warning != oneLeft {
		t.Errorf("4th wrong code on a new challenge = %+v, want 1 left", res)
	}
	res = submit(t, kit, first, wrong)
	if res.State != twofactor.StateLocked {
		t.Errorf("5th wrong code on the first challenge = %v, want locked", res.State)
	}
	res = submit(t, kit, second, twofactortest.Code(t, key, kit.Clock.Now()))
	if res.State != twofactor.StateLocked {
		t.Errorf("right code on the other open challenge = %v, want locked", res.State)
	}
}

func TestRightCodeResetsFailures(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	key := kit.Enroll(t, "u1")
	wrong := wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
	id := beginChallenge(t, kit, "u1")
	for range 4 {
		submit(t, kit, id, wrong)
	}
	if res := submit(t, kit, id, twofactortest.Code(t, key, kit.Clock.Now())); !res.Succeeded() {
		t.Fatalf("right code after 4 wrong = %+v, want success", res)
	}
	kit.Clock.Advance(30 * time.Second)
	id = beginChallenge(t, kit, "u1")
	res := submit(t, kit, id, wrong)
	if res.AttemptsLeft != 4 || res.Warning != "" {
		t.Errorf("wrong code after a success = %+v, want 4 left and no warning", res)
	}
}

func TestChallengeTimeLimit(t *testing.T) {
	tests := []struct {
		name  string
		after time.Duration
		want  twofactor.State
	}{
		{"just before", 10*time.Minute - time.Nanosecond, twofactor.StateSucceeded},
		{"at the limit", 10 * time.Minute, twofactor.StateTimedOut},
		{"after", time.Hour, twofactor.StateTimedOut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kit := twofactortest.New(t, twofactor.Config{})
			key := kit.Enroll(t, "u1")
			id := beginChallenge(t, kit, "u1")
			kit.Clock.Advance(tt.after)
			res := submit(t, kit, id, twofactortest.Code(t, key, kit.Clock.Now()))
			if res.State != tt.want {
				t.Errorf("right code %v after the password = %v, want %v", tt.after, res.State, tt.want)
			}
			if tt.want == twofactor.StateTimedOut {
				if res.Message != "Sign In Attempt Timed Out" {
					t.Errorf("Message = %q, want the timed-out message", res.Message)
				}
				if n := kit.Events.Count(twofactor.EventCodeRejected) + kit.Events.Count(twofactor.EventCodeAccepted); n != 0 {
					t.Errorf("a timed-out challenge checked the code (%d events)", n)
				}
				again := submit(t, kit, id, twofactortest.Code(t, key, kit.Clock.Now()))
				if again.State != twofactor.StateTimedOut {
					t.Errorf("second submission = %v, want timed-out", again.State)
				}
			}
		})
	}
}

func TestCodeSkewAndReplay(t *testing.T) {
	tests := []struct {
		name   string
		offset time.Duration // of the code's time from now
		want   bool
	}{
		{"previous step", -30 * time.Second, true},
		{"current step", 0, true},
		{"next step", 30 * time.Second, true},
		{"two steps back", -60 * time.Second, false},
		{"two steps ahead", 60 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kit := twofactortest.New(t, twofactor.Config{})
			key := kit.Enroll(t, "u1")
			kit.Clock.Advance(5 * time.Minute)
			code := twofactortest.Code(t, key, kit.Clock.Now().Add(tt.offset))
			res := submit(t, kit, beginChallenge(t, kit, "u1"), code)
			if res.Succeeded() != tt.want {
				t.Fatalf("code at %v = %v, want success %v", tt.offset, res.State, tt.want)
			}
			if !tt.want {
				return
			}
			// The same code never works twice.
			res = submit(t, kit, beginChallenge(t, kit, "u1"), code)
			if res.Succeeded() || res.Message != incorrect {
				t.Errorf("replayed code = %+v, want rejected", res)
			}
		})
	}
}

func TestOlderStepRejected(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	key := kit.Enroll(t, "u1")
	now := kit.Clock.Now()
	if res := submit(t, kit, beginChallenge(t, kit, "u1"), twofactortest.Code(t, key, now.Add(30*time.Second))); !res.Succeeded() {
		t.Fatalf("next-step code = %v, want success", res.State)
	}
	res := submit(t, kit, beginChallenge(t, kit, "u1"), twofactortest.Code(t, key, now))
	if res.Succeeded() {
		t.Errorf("code of a step older than the last accepted one succeeded")
	}
}

func TestCodeInputForms(t *testing.T) {
	tests := []struct {
		name string
		form func(code string) string
		want bool
	}{
		{"space inside", func(c string) string { return c[:3] + " " + c[3:] }, true},
		{"dash inside", func(c string) string { return c[:3] + "-" + c[3:] }, true},
		{"spaces around", func(c string) string { return " " + c + " " }, true},
		{"tab inside", func(c string) string { return c[:3] + "\t" + c[3:] }, false},
		{"fullwidth digits", func(c string) string { return strings.Map(func(r rune) rune { return r - '0' + '０' }, c) }, false},
		{"too short", func(c string) string { return c[:5] }, false},
		{"too long", func(c string) string { return c + "0" }, false},
		{"empty", func(string) string { return "" }, false},
		{"letters", func(string) string { return "abcdef" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kit := twofactortest.New(t, twofactor.Config{})
			key := kit.Enroll(t, "u1")
			input := tt.form(twofactortest.Code(t, key, kit.Clock.Now()))
			res := submit(t, kit, beginChallenge(t, kit, "u1"), input)
			if res.Succeeded() != tt.want {
				t.Errorf("input %q: success %v, want %v", input, res.Succeeded(), tt.want)
			}
			if !tt.want && (res.Message != incorrect || res.AttemptsLeft != 4) {
				t.Errorf("input %q: %q with %d left, want %q with 4 left", input, res.Message, res.AttemptsLeft, incorrect)
			}
		})
	}
}

func TestSuccessFinishesOneLogin(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	key := kit.Enroll(t, "u1")
	id := beginChallenge(t, kit, "u1")
	if res := submit(t, kit, id, twofactortest.Code(t, key, kit.Clock.Now())); !res.Succeeded() {
		t.Fatalf("right code = %v, want success", res.State)
	}
	kit.Clock.Advance(30 * time.Second)
	res, err := kit.Manager.Submit(t.Context(), id, twofactortest.Code(t, key, kit.Clock.Now()))
	if !errors.Is(err, twofactor.ErrChallengeClosed) || res.Succeeded() {
		t.Errorf("second Submit on a succeeded challenge = %+v, %v, want ErrChallengeClosed", res, err)
	}
	if _, err := kit.Manager.Submit(t.Context(), "no-such-challenge", "123456"); !errors.Is(err, twofactor.ErrChallengeNotFound) {
		t.Errorf("Submit to an unknown challenge error = %v, want ErrChallengeNotFound", err)
	}
}

func TestClockBefore1970(t *testing.T) {
	for _, now := range []time.Time{{}, time.Unix(-1, 0)} {
		kit := twofactortest.New(t, twofactor.Config{})
		key := kit.Enroll(t, "u1")
		id := beginChallenge(t, kit, "u1")
		code := twofactortest.Code(t, key, kit.Clock.Now())
		kit.Clock.Set(now)
		res, err := kit.Manager.Submit(t.Context(), id, code)
		if !errors.Is(err, twofactor.ErrClock) || res.Succeeded() {
			t.Errorf("Submit at %v = %+v, %v, want ErrClock", now, res, err)
		}
		if locked, _ := kit.Manager.Locked(t.Context(), "u1"); locked {
			t.Errorf("clock error locked the account")
		}
		acct, _ := kit.Store.GetAccount(t.Context(), "u1")
		if acct.Failures != 0 {
			t.Errorf("clock error counted %d failures, want 0", acct.Failures)
		}
	}
}

func TestUnlockByAdmin(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	ctx := t.Context()
	key := kit.Enroll(t, "u1")
	wrong := wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
	stale := beginChallenge(t, kit, "u1")
	id := beginChallenge(t, kit, "u1")
	for range 5 {
		submit(t, kit, id, wrong)
	}
	if err := kit.Manager.UnlockByAdmin(ctx, "u1", "admin-7"); err != nil {
		t.Fatal(err)
	}
	var unlocked []twofactor.Event
	for _, e := range kit.Events.All() {
		if e.Kind == twofactor.EventUnlocked {
			unlocked = append(unlocked, e)
		}
	}
	if len(unlocked) != 1 || unlocked[0].Actor != "admin-7" {
		t.Errorf("unlock events = %+v, want one by admin-7", unlocked)
	}
	// A challenge from before the lock stays ended.
	res := submit(t, kit, stale, twofactortest.Code(t, key, kit.Clock.Now()))
	if res.State != twofactor.StateLocked {
		t.Errorf("challenge from before the unlock = %v, want locked", res.State)
	}
	res = submit(t, kit, beginChallenge(t, kit, "u1"), twofactortest.Code(t, key, kit.Clock.Now()))
	if !res.Succeeded() || !res.ResetRequired {
		t.Errorf("login after an administrator's unlock = %+v, want success with ResetRequired", res)
	}
	// Confirming a new set-up clears the requirement.
	newKey, err := kit.Manager.StartSetup(ctx, "u1", "a")
	if err != nil {
		t.Fatal(err)
	}
	kit.Clock.Advance(30 * time.Second)
	if err := kit.Manager.ConfirmSetup(ctx, "u1", twofactortest.Code(t, newKey, kit.Clock.Now())); err != nil {
		t.Fatal(err)
	}
	kit.Clock.Advance(30 * time.Second)
	res = submit(t, kit, beginChallenge(t, kit, "u1"), twofactortest.Code(t, newKey, kit.Clock.Now()))
	if !res.Succeeded() || res.ResetRequired {
		t.Errorf("login after the reset = %+v, want success without ResetRequired", res)
	}
}

func TestUnlockAfterPasswordReset(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	key := kit.Enroll(t, "u1")
	id := beginChallenge(t, kit, "u1")
	wrong := wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
	for range 5 {
		submit(t, kit, id, wrong)
	}
	if err := kit.Manager.UnlockAfterPasswordReset(t.Context(), "u1"); err != nil {
		t.Fatal(err)
	}
	res := submit(t, kit, beginChallenge(t, kit, "u1"), twofactortest.Code(t, key, kit.Clock.Now()))
	if !res.Succeeded() || res.ResetRequired {
		t.Errorf("login after a password reset = %+v, want success without ResetRequired", res)
	}
}

// TestStoreFailureNotVerifiedNotCounted fails each store call that comes
// before or carries the verdict on a right code. The Manager that began the
// challenge judges the code in its one store call, ReserveAttempt. A second
// instance checks the code after ReserveAttempt and records it with
// AcceptStep or ConsumeBackupCode. The submission must return the store's
// error, count no wrong code, leave the challenge open and the code
// unspent, so that the same code works once the store is back.
func TestStoreFailureNotVerifiedNotCounted(t *testing.T) {
	tests := []struct {
		method string
		backup bool // submit a backup code, not the app's code
		other  bool // submit through a second instance
	}{
		{"ReserveAttempt", false, false},
		{"ReserveAttempt", true, false},
		{"ReserveAttempt", false, true},
		{"ReserveAttempt", true, true},
		{"AcceptStep", false, true},
		{"ConsumeBackupCode", true, true},
	}
	for _, tt := range tests {
		name := tt.method + " app code"
		if tt.backup {
			name = tt.method + " backup code"
		}
		if tt.other {
			name += " on another instance"
		}
		t.Run(name, func(t *testing.T) {
			failing := twofactortest.NewFailingStore(memstore.New())
			kit := twofactortest.New(t, twofactor.Config{Store: failing})
			key := kit.Enroll(t, "u1")
			input := twofactortest.Code(t, key, kit.Clock.Now())
			if tt.backup {
				input = issue(t, kit, "u1")
			}
			id := beginChallenge(t, kit, "u1")
			submitter := kit
			if tt.other {
				submitter = secondInstance(t, kit, twofactor.Config{})
			}
			failing.Fail(nil, tt.method)
			before := failing.Calls(tt.method)
			res, err := submitter.Manager.Submit(t.Context(), id, input)
			if n := failing.Calls(tt.method) - before; n != 1 {
				t.Fatalf("%s calls = %d, want 1", tt.method, n)
			}
			if err == nil || res.Succeeded() {
				t.Errorf("Submit with %s failing = %+v, %v, want an error and no success", tt.method, res, err)
			}
			if !errors.Is(err, twofactortest.ErrInjected) {
				t.Errorf("error %v does not wrap the store's error", err)
			}
			if n := submitter.Events.Count(twofactor.EventCodeRejected); n != 0 {
				t.Errorf("%d codes rejected with %s failing, want 0", n, tt.method)
			}
			failing.Heal()
			acct, err := kit.Store.GetAccount(t.Context(), "u1")
			if err != nil {
				t.Fatal(err)
			}
			if acct.Failures != 0 {
				t.Errorf("a failed store call counted %d failures, want 0", acct.Failures)
			}
			c, err := kit.Store.GetChallenge(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if c.State != twofactor.StateCodePending {
				t.Errorf("challenge after %s failed = %v, want code-pending", tt.method, c.State)
			}
			if res := submit(t, submitter, id, input); !res.Succeeded() {
				t.Errorf("the same code after the store recovered = %+v, want success", res)
			}
		})
	}
}

// TestStoreFailureClosingChallenge fails UpdateChallenge when a
// submission closes the challenge: on the wrong code that reaches the
// limit, and after the deadline. The submission returns the store's error,
// and once the store is back the challenge closes as it should have.
func TestStoreFailureClosingChallenge(t *testing.T) {
	t.Run("lock", func(t *testing.T) {
		failing := twofactortest.NewFailingStore(memstore.New())
		kit := twofactortest.New(t, twofactor.Config{Store: failing})
		key := kit.Enroll(t, "u1")
		id := beginChallenge(t, kit, "u1")
		wrong := wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
		for range 4 {
			submit(t, kit, id, wrong)
		}
		failing.Fail(nil, "UpdateChallenge")
		res, err := kit.Manager.Submit(t.Context(), id, wrong)
		if !errors.Is(err, twofactortest.ErrInjected) || res.Succeeded() {
			t.Errorf("locking wrong code with UpdateChallenge failing = %+v, %v, want the store's error", res, err)
		}
		failing.Heal()
		// The wrong code was judged and counted, so the account is locked
		// although the challenge is still open.
		if locked, err := kit.Manager.Locked(t.Context(), "u1"); err != nil || !locked {
			t.Errorf("Locked = %v, %v, want true after the 5th wrong code", locked, err)
		}
		res = submit(t, kit, id, twofactortest.Code(t, key, kit.Clock.Now()))
		if res.State != twofactor.StateLocked {
			t.Errorf("right code on the open challenge of a locked account = %v, want locked", res.State)
		}
		if c, err := kit.Store.GetChallenge(t.Context(), id); err != nil || c.State != twofactor.StateLocked {
			t.Errorf("challenge after the store recovered = %v, %v, want locked", c.State, err)
		}
	})
	t.Run("time limit", func(t *testing.T) {
		failing := twofactortest.NewFailingStore(memstore.New())
		kit := twofactortest.New(t, twofactor.Config{Store: failing})
		key := kit.Enroll(t, "u1")
		id := beginChallenge(t, kit, "u1")
		kit.Clock.Advance(twofactor.DefaultChallengeTimeout)
		failing.Fail(nil, "UpdateChallenge")
		res, err := kit.Manager.Submit(t.Context(), id, twofactortest.Code(t, key, kit.Clock.Now()))
		if !errors.Is(err, twofactortest.ErrInjected) || res.Succeeded() {
			t.Errorf("submission after the deadline with UpdateChallenge failing = %+v, %v, want the store's error", res, err)
		}
		failing.Heal()
		res = submit(t, kit, id, twofactortest.Code(t, key, kit.Clock.Now()))
		if res.State != twofactor.StateTimedOut {
			t.Errorf("submission after the store recovered = %v, want timed-out", res.State)
		}
		if acct, _ := kit.Store.GetAccount(t.Context(), "u1"); acct.Failures != 0 {
			t.Errorf("submissions after the deadline counted %d failures, want 0", acct.Failures)
		}
	})
}

// TestSubmitStoreCalls counts the store calls of each kind of submission.
// Each call is a round trip to a networked store. The Manager that began
// the challenge judges the code in ReserveAttempt. A second instance, which
// does not remember the challenge, checks the code after ReserveAttempt and
// records a right app code with AcceptStep and any backup code with
// ConsumeBackupCode.
func TestSubmitStoreCalls(t *testing.T) {
	tests := []struct {
		name string
		// prepare brings the kit to the submission and returns the
		// challenge ID and the input.
		prepare func(t *testing.T, kit *twofactortest.Kit, key *twofactor.SetupKey) (id, input string)
		same    map[string]int // calls when the Manager that began the challenge submits
		other   map[string]int // calls when a second instance submits
		state   twofactor.State
	}{
		{
			name: "wrong code",
			prepare: func(t *testing.T, kit *twofactortest.Kit, key *twofactor.SetupKey) (string, string) {
				return beginChallenge(t, kit, "u1"), wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
			},
			same:  map[string]int{"ReserveAttempt": 1},
			other: map[string]int{"ReserveAttempt": 1},
			state: twofactor.StateCodePending,
		},
		{
			name: "right app code",
			prepare: func(t *testing.T, kit *twofactortest.Kit, key *twofactor.SetupKey) (string, string) {
				return beginChallenge(t, kit, "u1"), twofactortest.Code(t, key, kit.Clock.Now())
			},
			same:  map[string]int{"ReserveAttempt": 1},
			other: map[string]int{"ReserveAttempt": 1, "AcceptStep": 1},
			state: twofactor.StateSucceeded,
		},
		{
			name: "backup code",
			prepare: func(t *testing.T, kit *twofactortest.Kit, key *twofactor.SetupKey) (string, string) {
				code := issue(t, kit, "u1")
				return beginChallenge(t, kit, "u1"), code
			},
			same:  map[string]int{"ReserveAttempt": 1},
			other: map[string]int{"ReserveAttempt": 1, "ConsumeBackupCode": 1},
			state: twofactor.StateSucceeded,
		},
		{
			name: "wrong code that locks",
			prepare: func(t *testing.T, kit *twofactortest.Kit, key *twofactor.SetupKey) (string, string) {
				id := beginChallenge(t, kit, "u1")
				wrong := wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
				for range 4 {
					submit(t, kit, id, wrong)
				}
				return id, wrong
			},
			same:  map[string]int{"ReserveAttempt": 1, "UpdateChallenge": 1},
			other: map[string]int{"ReserveAttempt": 1, "UpdateChallenge": 1},
			state: twofactor.StateLocked,
		},
		{
			name: "wrong backup code",
			prepare: func(t *testing.T, kit *twofactortest.Kit, key *twofactor.SetupKey) (string, string) {
				issue(t, kit, "u1")
				return beginChallenge(t, kit, "u1"), "2222-3333-4444"
			},
			same:  map[string]int{"ReserveAttempt": 1},
			other: map[string]int{"ReserveAttempt": 1, "ConsumeBackupCode": 1},
			state: twofactor.StateCodePending,
		},
		{
			name: "replayed app code",
			prepare: func(t *testing.T, kit *twofactortest.Kit, key *twofactor.SetupKey) (string, string) {
				code := twofactortest.Code(t, key, kit.Clock.Now())
				submit(t, kit, beginChallenge(t, kit, "u1"), code)
				return beginChallenge(t, kit, "u1"), code
			},
			same:  map[string]int{"ReserveAttempt": 1},
			other: map[string]int{"ReserveAttempt": 1, "AcceptStep": 1},
			state: twofactor.StateCodePending,
		},
		{
			name: "after the deadline",
			prepare: func(t *testing.T, kit *twofactortest.Kit, key *twofactor.SetupKey) (string, string) {
				id := beginChallenge(t, kit, "u1")
				kit.Clock.Advance(twofactor.DefaultChallengeTimeout)
				return id, twofactortest.Code(t, key, kit.Clock.Now())
			},
			same:  map[string]int{"ReserveAttempt": 1, "UpdateChallenge": 1},
			other: map[string]int{"ReserveAttempt": 1, "UpdateChallenge": 1},
			state: twofactor.StateTimedOut,
		},
		{
			// The Manager that began the challenge remembers the old
			// secret, which the store no longer has, so it checks the code
			// against the new one after the store call.
			name: "new secret after a reset",
			prepare: func(t *testing.T, kit *twofactortest.Kit, key *twofactor.SetupKey) (string, string) {
				id := beginChallenge(t, kit, "u1")
				newKey := reenroll(t, kit, "u1")
				return id, twofactortest.Code(t, newKey, kit.Clock.Now())
			},
			same:  map[string]int{"ReserveAttempt": 1, "AcceptStep": 1},
			other: map[string]int{"ReserveAttempt": 1, "AcceptStep": 1},
			state: twofactor.StateSucceeded,
		},
		{
			name: "old secret after a reset",
			prepare: func(t *testing.T, kit *twofactortest.Kit, key *twofactor.SetupKey) (string, string) {
				id := beginChallenge(t, kit, "u1")
				newKey := reenroll(t, kit, "u1")
				code := twofactortest.Code(t, key, kit.Clock.Now())
				if code == twofactortest.Code(t, newKey, kit.Clock.Now()) {
					t.Skip("the old and the new secret show the same code")
				}
				return id, code
			},
			same:  map[string]int{"ReserveAttempt": 1},
			other: map[string]int{"ReserveAttempt": 1},
			state: twofactor.StateCodePending,
		},
	}
	for _, tt := range tests {
		for _, other := range []bool{false, true} {
			name, want := tt.name, tt.same
			if other {
				name, want = tt.name+" on another instance", tt.other
			}
			t.Run(name, func(t *testing.T) {
				failing := twofactortest.NewFailingStore(memstore.New())
				kit := twofactortest.New(t, twofactor.Config{Store: failing})
				key := kit.Enroll(t, "u1")
				submitter := kit
				if other {
					submitter = secondInstance(t, kit, twofactor.Config{})
				}
				id, input := tt.prepare(t, kit, key)
				before := storeCalls(failing)
				res := submit(t, submitter, id, input)
				after := storeCalls(failing)
				if res.State != tt.state {
					t.Fatalf("Submit = %+v, want state %v", res, tt.state)
				}
				for _, method := range storeMethods() {
					if got, want := after[method]-before[method], want[method]; got != want {
						t.Errorf("%s calls = %d, want %d", method, got, want)
					}
				}
			})
		}
	}
}

// reenroll resets the 2FA of userID to a new secret through the set-up
// flow, as the user would, and moves the clock past the confirming code's
// time step. It returns the new key.
func reenroll(t *testing.T, kit *twofactortest.Kit, userID string) *twofactor.SetupKey {
	t.Helper()
	key, err := kit.Manager.StartSetup(t.Context(), userID, userID+"@example.com")
	if err != nil {
		t.Fatalf("StartSetup(%q): %v", userID, err)
	}
	if err := kit.Manager.ConfirmSetup(t.Context(), userID, twofactortest.Code(t, key, kit.Clock.Now())); err != nil {
		t.Fatalf("ConfirmSetup(%q): %v", userID, err)
	}
	kit.Clock.Advance(key.Period)
	return key
}

// storeMethods returns the names of the methods of [twofactor.Store].
func storeMethods() []string {
	typ := reflect.TypeFor[twofactor.Store]()
	names := make([]string, typ.NumMethod())
	for i := range names {
		names[i] = typ.Method(i).Name
	}
	return names
}

// storeCalls returns how many times each method of the store was called.
func storeCalls(f *twofactortest.FailingStore) map[string]int {
	calls := make(map[string]int)
	for _, method := range storeMethods() {
		calls[method] = f.Calls(method)
	}
	return calls
}

// TestChallengeIDFromStore checks that the Manager lets a store that
// implements [twofactor.ChallengeIDMaker] form the IDs of new challenges,
// from 16 random bytes, and that submissions find challenges by those IDs.
func TestChallengeIDFromStore(t *testing.T) {
	store := &slotStore{Store: memstore.New()}
	kit := twofactortest.New(t, twofactor.Config{Store: store})
	key := kit.Enroll(t, "u1")
	ids := make(map[string]bool)
	for range 3 {
		id := beginChallenge(t, kit, "u1")
		random, ok := strings.CutPrefix(id, "{u1}")
		if !ok {
			t.Fatalf("challenge ID %q, want one from NewChallengeID with the prefix {u1}", id)
		}
		if len(random) != 32 {
			t.Errorf("challenge ID %q has %d hex digits after the prefix, want 32 for 16 random bytes", id, len(random))
		}
		ids[id] = true
	}
	if len(ids) != 3 {
		t.Errorf("3 challenges got %d distinct IDs", len(ids))
	}
	id := beginChallenge(t, kit, "u1")
	wrong := wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
	if res := submit(t, kit, id, wrong); res.State != twofactor.StateCodePending || res.AttemptsLeft != 4 {
		t.Errorf("wrong code on a challenge with a store-formed ID = %+v, want code-pending with 4 left", res)
	}
	if res := submit(t, kit, id, twofactortest.Code(t, key, kit.Clock.Now())); !res.Succeeded() {
		t.Errorf("right code on a challenge with a store-formed ID = %+v, want success", res)
	}
}

// slotStore is a memstore that forms challenge IDs as a store that places
// records by a key tag would: the user ID in braces, then the random bytes
// in hex.
type slotStore struct {
	*memstore.Store
}

func (s *slotStore) NewChallengeID(userID string, random []byte) string {
	return "{" + userID + "}" + hex.EncodeToString(random)
}

func TestMessagesReplaceable(t *testing.T) {
	fr := twofactor.Messages{
		IncorrectCode: "Code incorrect, veuillez réessayer.",
		AttemptsLeft:  "Il vous reste %d tentative(s)",
		Locked:        "Compte verrouillé",
		TimedOut:      "Délai de connexion dépassé",
	}
	kit := twofactortest.New(t, twofactor.Config{Messages: &fr})
	key := kit.Enroll(t, "u1")
	id := beginChallenge(t, kit, "u1")
	wrong := wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
	var last twofactor.Result
	for range 4 {
		last = submit(t, kit, id, wrong)
	}
	if last.Message != fr.IncorrectCode || last.Warning != "Il vous reste 1 tentative(s)" {
		t.Errorf("translated result = %q / %q", last.Message, last.Warning)
	}
	if res := submit(t, kit, id, wrong); res.Message != fr.Locked {
		t.Errorf("translated lock message = %q, want %q", res.Message, fr.Locked)
	}
}
