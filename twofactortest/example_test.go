package twofactortest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/memstore"
	"github.com/twofactor-go/twofactor/twofactortest"
)

// codePage stands for a host's handler of the code page: it submits the
// typed code and returns what the page would show.
func codePage(m *twofactor.Manager, challengeID, typed string) string {
	res, err := m.Submit(context.Background(), challengeID, typed)
	if err != nil {
		return "error: " + err.Error()
	}
	if res.Succeeded() {
		return "welcome"
	}
	if res.Warning != "" {
		return res.Message + " " + res.Warning
	}
	return res.Message
}

// passwordChecked stands for a host's handler after the password check.
func passwordChecked(m *twofactor.Manager, userID string) string {
	d, err := m.Begin(context.Background(), twofactor.Login{UserID: userID, Role: twofactor.RoleAgent})
	if err != nil {
		panic(err)
	}
	if d.Challenge == nil {
		return string(d.Reason)
	}
	return d.Challenge.ID
}

// A host's test signs a user in with the right code: Enroll plays the user
// with an authenticator app, and Code reads the app.
func Example_rightCode() {
	kit := twofactortest.New(nil, twofactor.Config{})
	key := kit.Enroll(nil, "alice")

	challenge := passwordChecked(kit.Manager, "alice")
	fmt.Println(codePage(kit.Manager, challenge, twofactortest.Code(nil, key, kit.Clock.Now())))
	// Output: welcome
}

// A wrong code keeps the user on the code page with the message.
func Example_wrongCode() {
	kit := twofactortest.New(nil, twofactor.Config{})
	key := kit.Enroll(nil, "alice")
	right := twofactortest.Code(nil, key, kit.Clock.Now())
	wrong := "000000"
	if right == wrong {
		wrong = "111111"
	}

	challenge := passwordChecked(kit.Manager, "alice")
	fmt.Println(codePage(kit.Manager, challenge, wrong))
	// Output: Incorrect code, please try again.
}

// The fifth wrong code locks the account, and the next sign-in is refused
// before a code page is shown.
func Example_lockout() {
	kit := twofactortest.New(nil, twofactor.Config{})
	kit.Enroll(nil, "alice")

	challenge := passwordChecked(kit.Manager, "alice")
	for range 5 {
		fmt.Println(codePage(kit.Manager, challenge, "12345x"))
	}
	fmt.Println(passwordChecked(kit.Manager, "alice"))
	fmt.Println(kit.Events.Count(twofactor.EventLocked), "lock event")
	// Output:
	// Incorrect code, please try again.
	// Incorrect code, please try again.
	// Incorrect code, please try again. You have 2 login attempt(s) before your account is locked
	// Incorrect code, please try again. You have 1 login attempt(s) before your account is locked
	// Your account is locked. Contact an administrator to unlock it.
	// locked
	// 1 lock event
}

// Moving the clock 10 minutes past the password check times the challenge
// out, whatever is typed.
func Example_timedOut() {
	kit := twofactortest.New(nil, twofactor.Config{})
	key := kit.Enroll(nil, "alice")

	challenge := passwordChecked(kit.Manager, "alice")
	kit.Clock.Advance(10 * time.Minute)
	fmt.Println(codePage(kit.Manager, challenge, twofactortest.Code(nil, key, kit.Clock.Now())))
	// Output: Sign In Attempt Timed Out
}

// A FailingStore makes the store fail where the test chooses, to check that
// the host's handler shows an error and does not sign the user in. Once
// the store is healed, the same code signs in.
func ExampleFailingStore() {
	store := twofactortest.NewFailingStore(memstore.New())
	kit := twofactortest.New(nil, twofactor.Config{Store: store})
	key := kit.Enroll(nil, "alice")
	code := twofactortest.Code(nil, key, kit.Clock.Now())

	challenge := passwordChecked(kit.Manager, "alice")
	store.Fail(nil, "ReserveAttempt")
	fmt.Println(codePage(kit.Manager, challenge, code))
	fmt.Println(store.Calls("ReserveAttempt"), "call")
	store.Heal()
	fmt.Println(codePage(kit.Manager, challenge, code))
	// Output:
	// error: twofactor: reserving an attempt on a challenge failed: twofactortest: injected store failure
	// 1 call
	// welcome
}
