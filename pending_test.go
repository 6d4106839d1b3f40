package twofactor_test

import (
	"context"
	"errors"
	"maps"
	"sync/atomic"
	"testing"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/memstore"
	"github.com/twofactor-go/twofactor/twofactortest"
)

// The Manager remembers the enrollment of each challenge it began, so that
// ReserveAttempt alone can judge a submission. These tests check that a
// submission to a challenge that closed, or that the Manager forgot, gets
// the result that the stored challenge calls for.

// failingKit returns a kit on a FailingStore that fails nothing yet.
func failingKit(t *testing.T) (*twofactortest.Kit, *twofactortest.FailingStore) {
	t.Helper()
	failing := twofactortest.NewFailingStore(memstore.New())
	return twofactortest.New(t, twofactor.Config{Store: failing}), failing
}

// callsDuring returns how many times each store method was called while f
// ran, leaving out the methods that were not called.
func callsDuring(failing *twofactortest.FailingStore, f func()) map[string]int {
	before := storeCalls(failing)
	f()
	calls := make(map[string]int)
	for method, n := range storeCalls(failing) {
		if n != before[method] {
			calls[method] = n - before[method]
		}
	}
	return calls
}

func TestSubmitAfterSuccess(t *testing.T) {
	kit, failing := failingKit(t)
	key := kit.Enroll(t, "u1")
	backup := issue(t, kit, "u1")
	id := beginChallenge(t, kit, "u1")
	if res := submit(t, kit, id, twofactortest.Code(t, key, kit.Clock.Now())); !res.Succeeded() {
		t.Fatalf("right code = %+v, want success", res)
	}

	kit.Clock.Advance(key.Period)
	next := twofactortest.Code(t, key, kit.Clock.Now())
	for _, input := range []string{next, backup} {
		var res twofactor.Result
		var err error
		calls := callsDuring(failing, func() {
			res, err = kit.Manager.Submit(t.Context(), id, input)
		})
		if !errors.Is(err, twofactor.ErrChallengeClosed) {
			t.Errorf("Submit on the succeeded challenge error = %v, want ErrChallengeClosed", err)
		}
		if res.Succeeded() {
			t.Errorf("Submit on the succeeded challenge = %+v, want no success", res)
		}
		if want := map[string]int{"ReserveAttempt": 1}; !maps.Equal(calls, want) {
			t.Errorf("store calls = %v, want %v", calls, want)
		}
	}

	// Neither the next code nor the backup code was spent.
	if res := submit(t, kit, beginChallenge(t, kit, "u1"), next); !res.Succeeded() {
		t.Errorf("next code on a new challenge = %+v, want success", res)
	}
	if res := submit(t, kit, beginChallenge(t, kit, "u1"), backup); !res.Succeeded() {
		t.Errorf("backup code on a new challenge = %+v, want success", res)
	}
}

func TestSubmitAfterLock(t *testing.T) {
	kit, _ := failingKit(t)
	key := kit.Enroll(t, "u1")
	id := beginChallenge(t, kit, "u1")
	wrong := wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
	for range twofactor.DefaultMaxAttempts {
		submit(t, kit, id, wrong)
	}
	right := twofactortest.Code(t, key, kit.Clock.Now())
	if res := submit(t, kit, id, right); res.State != twofactor.StateLocked {
		t.Errorf("right code on the locked challenge = %v, want locked", res.State)
	}

	if err := kit.Manager.UnlockByAdmin(t.Context(), "u1", "admin"); err != nil {
		t.Fatal(err)
	}
	rejected := kit.Events.Count(twofactor.EventCodeRejected)
	if res := submit(t, kit, id, right); res.State != twofactor.StateLocked {
		t.Errorf("right code on the locked challenge after an unlock = %v, want locked", res.State)
	}
	if n := kit.Events.Count(twofactor.EventCodeRejected) - rejected; n != 0 {
		t.Errorf("%d codes rejected on the locked challenge, want 0", n)
	}
	acct, err := kit.Store.GetAccount(t.Context(), "u1")
	if err != nil {
		t.Fatal(err)
	}
	if acct.Failures != 0 {
		t.Errorf("failures after the unlock = %d, want 0", acct.Failures)
	}
	if res := submit(t, kit, beginChallenge(t, kit, "u1"), right); !res.Succeeded() {
		t.Errorf("right code on a new challenge = %+v, want success", res)
	}
}

func TestSubmitAfterTimeOut(t *testing.T) {
	kit, _ := failingKit(t)
	key := kit.Enroll(t, "u1")
	backup := issue(t, kit, "u1")
	id := beginChallenge(t, kit, "u1")
	kit.Clock.Advance(twofactor.DefaultChallengeTimeout)
	right := twofactortest.Code(t, key, kit.Clock.Now())
	for _, input := range []string{right, backup, right} {
		if res := submit(t, kit, id, input); res.State != twofactor.StateTimedOut {
			t.Errorf("Submit on the timed-out challenge = %v, want timed-out", res.State)
		}
	}
	if n := kit.Events.Count(twofactor.EventCodeRejected); n != 0 {
		t.Errorf("%d codes rejected on the timed-out challenge, want 0", n)
	}

	// Neither code was spent.
	if res := submit(t, kit, beginChallenge(t, kit, "u1"), right); !res.Succeeded() {
		t.Errorf("right code on a new challenge = %+v, want success", res)
	}
	if res := submit(t, kit, beginChallenge(t, kit, "u1"), backup); !res.Succeeded() {
		t.Errorf("backup code on a new challenge = %+v, want success", res)
	}
}

// TestSubmitAfterNotFound makes the store report a remembered challenge
// as not found, which makes the Manager forget it. When the store finds
// the challenge again, the Manager checks the code after the store call.
func TestSubmitAfterNotFound(t *testing.T) {
	kit, failing := failingKit(t)
	key := kit.Enroll(t, "u1")
	id := beginChallenge(t, kit, "u1")
	right := twofactortest.Code(t, key, kit.Clock.Now())

	failing.Fail(twofactor.ErrNotFound, "ReserveAttempt")
	_, err := kit.Manager.Submit(t.Context(), id, right)
	failing.Heal()
	if !errors.Is(err, twofactor.ErrChallengeNotFound) {
		t.Fatalf("Submit with the challenge not found error = %v, want ErrChallengeNotFound", err)
	}

	var res twofactor.Result
	calls := callsDuring(failing, func() {
		res = submit(t, kit, id, right)
	})
	if !res.Succeeded() {
		t.Errorf("right code once the store finds the challenge = %+v, want success", res)
	}
	if want := map[string]int{"ReserveAttempt": 1, "AcceptStep": 1}; !maps.Equal(calls, want) {
		t.Errorf("store calls = %v, want %v", calls, want)
	}
}

func TestSubmitAfterExpiry(t *testing.T) {
	kit, _ := failingKit(t)
	key := kit.Enroll(t, "u1")
	id := beginChallenge(t, kit, "u1")
	c, err := kit.Store.GetChallenge(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	kit.Clock.Set(c.ExpiresAt)
	for i := range 2 {
		_, err := kit.Manager.Submit(t.Context(), id, twofactortest.Code(t, key, kit.Clock.Now()))
		if !errors.Is(err, twofactor.ErrChallengeNotFound) {
			t.Errorf("submission %d at ExpiresAt error = %v, want ErrChallengeNotFound", i+1, err)
		}
	}
}

// TestSubmitRemembersAfterWrongCode checks that a wrong code and a store
// failure leave the challenge remembered, so that the right code still
// takes one store call.
func TestSubmitRemembersAfterWrongCode(t *testing.T) {
	kit, failing := failingKit(t)
	key := kit.Enroll(t, "u1")
	id := beginChallenge(t, kit, "u1")
	right := twofactortest.Code(t, key, kit.Clock.Now())
	submit(t, kit, id, wrongCode(right))

	failing.Fail(nil, "ReserveAttempt")
	_, err := kit.Manager.Submit(t.Context(), id, right)
	failing.Heal()
	if !errors.Is(err, twofactortest.ErrInjected) {
		t.Fatalf("Submit with ReserveAttempt failing error = %v, want the store's error", err)
	}

	var res twofactor.Result
	calls := callsDuring(failing, func() {
		res = submit(t, kit, id, right)
	})
	if !res.Succeeded() {
		t.Errorf("right code = %+v, want success", res)
	}
	if want := map[string]int{"ReserveAttempt": 1}; !maps.Equal(calls, want) {
		t.Errorf("store calls = %v, want %v", calls, want)
	}
}

// TestSubmitConcurrentRightCode submits the right code to one challenge
// from many goroutines of the Manager that began it. Exactly one signs in.
func TestSubmitConcurrentRightCode(t *testing.T) {
	kit, failing := failingKit(t)
	key := kit.Enroll(t, "u1")
	id := beginChallenge(t, kit, "u1")
	right := twofactortest.Code(t, key, kit.Clock.Now())

	const n = 16
	var successes atomic.Int32
	runConcurrently(n, func(i int) {
		res, err := kit.Manager.Submit(context.Background(), id, right)
		if err != nil && !errors.Is(err, twofactor.ErrChallengeClosed) {
			t.Errorf("Submit %d: %v", i, err)
		}
		if res.Succeeded() {
			successes.Add(1)
		}
	})
	if got := successes.Load(); got != 1 {
		t.Errorf("%d concurrent submissions of the right code signed in %d times, want 1", n, got)
	}
	if got := failing.Calls("AcceptStep"); got != 0 {
		t.Errorf("AcceptStep calls = %d, want 0", got)
	}
	if got := kit.Events.Count(twofactor.EventCodeRejected); got != 0 {
		t.Errorf("%d codes rejected, want 0", got)
	}
}
