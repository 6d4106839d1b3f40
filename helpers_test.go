package twofactor_test

import (
	"fmt"
	"testing"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/twofactortest"
)

// beginChallenge starts a password login of an agent and returns the
// challenge ID.
func beginChallenge(t *testing.T, kit *twofactortest.Kit, userID string) string {
	t.Helper()
	d, err := kit.Manager.Begin(t.Context(), twofactor.Login{UserID: userID, Role: twofactor.RoleAgent})
	if err != nil {
		t.Fatalf("Begin(%q): %v", userID, err)
	}
	if d.Challenge == nil {
		t.Fatalf("Begin(%q) = %+v, want a challenge", userID, d)
	}
	return d.Challenge.ID
}

// submit submits input and fails the test on an error.
func submit(t *testing.T, kit *twofactortest.Kit, id, input string, opts ...twofactor.SubmitOption) twofactor.Result {
	t.Helper()
	res, err := kit.Manager.Submit(t.Context(), id, input, opts...)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return res
}

// wrongCode returns a code that differs from the right one.
func wrongCode(right string) string {
	if right == "000000" {
		return "111111"
	}
	return "000000"
}

func sprintf(format string, v any) string { return fmt.Sprintf(format, v) }

// secondInstance returns a kit whose Manager is built from cfg on kit's
// store and clock, as a second instance of the host would be. cfg must
// carry the keys of kit's Manager. The second Manager does not remember the
// challenges that kit's Manager began, so it checks their codes after the
// store call and records a right one with a second call. It records its
// events in its own Events.
func secondInstance(t *testing.T, kit *twofactortest.Kit, cfg twofactor.Config) *twofactortest.Kit {
	t.Helper()
	cfg.Store = kit.Store
	cfg.Now = kit.Clock.Now
	other := twofactortest.New(t, cfg)
	other.Clock = kit.Clock
	return other
}
