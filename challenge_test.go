package twofactor_test

import (
	"errors"
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

func TestStoreFailureNotVerifiedNotCounted(t *testing.T) {
	methods := []string{"GetChallenge", "ReserveAttempt", "AcceptStep", "UpdateChallenge"}
	for _, method := range methods {
		t.Run(method, func(t *testing.T) {
			failing := twofactortest.NewFailingStore(memstore.New())
			kit := twofactortest.New(t, twofactor.Config{Store: failing})
			key := kit.Enroll(t, "u1")
			id := beginChallenge(t, kit, "u1")
			failing.Fail(nil, method)
			res, err := kit.Manager.Submit(t.Context(), id, twofactortest.Code(t, key, kit.Clock.Now()))
			if err == nil || res.Succeeded() {
				t.Errorf("Submit with %s failing = %+v, %v, want an error and no success", method, res, err)
			}
			if !errors.Is(err, twofactortest.ErrInjected) {
				t.Errorf("error %v does not wrap the store's error", err)
			}
			failing.Heal()
			acct, _ := kit.Store.GetAccount(t.Context(), "u1")
			if method != "UpdateChallenge" && acct.Failures != 0 {
				t.Errorf("a failed store call counted %d failures, want 0", acct.Failures)
			}
		})
	}
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
