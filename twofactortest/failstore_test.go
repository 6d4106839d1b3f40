package twofactortest_test

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/memstore"
	"github.com/twofactor-go/twofactor/storetest"
	"github.com/twofactor-go/twofactor/twofactortest"
)

// TestFailingStoreConformance runs the conformance suite through a
// FailingStore that fails nothing, on a store without a ChallengeIDMaker
// and on ones with it, so that every method forwards its arguments and
// results unchanged.
func TestFailingStoreConformance(t *testing.T) {
	t.Run("memstore", func(t *testing.T) {
		storetest.Run(t, func(*testing.T) twofactor.Store {
			return twofactortest.NewFailingStore(memstore.New())
		})
	})
	t.Run("WithoutChallengeIDMaker", func(t *testing.T) {
		storetest.Run(t, func(*testing.T) twofactor.Store {
			return twofactortest.NewFailingStore(plainStore{memstore.New()})
		})
	})
	t.Run("ChallengeIDMaker", func(t *testing.T) {
		storetest.Run(t, func(*testing.T) twofactor.Store {
			return twofactortest.NewFailingStore(&taggedStore{Store: memstore.New()})
		})
	})
}

// taggedStore is a memstore that forms challenge IDs itself: the user ID
// in braces, then the random bytes in hex.
type taggedStore struct {
	*memstore.Store
}

func (s *taggedStore) NewChallengeID(userID string, random []byte) string {
	return "{" + userID + "}" + hex.EncodeToString(random)
}

// plainStore hides every method of a store but those of twofactor.Store,
// among them the NewChallengeID of memstore.
type plainStore struct {
	twofactor.Store
}

func TestFailingStoreNewChallengeID(t *testing.T) {
	random := []byte{0x00, 0x01, 0xab, 0xff, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0}
	plain := twofactortest.NewFailingStore(plainStore{memstore.New()})
	if got, want := plain.NewChallengeID("u1", random), hex.EncodeToString(random); got != want {
		t.Errorf("NewChallengeID around a store without a ChallengeIDMaker = %q, want %q", got, want)
	}
	tagged := twofactortest.NewFailingStore(&taggedStore{Store: memstore.New()})
	if got, want := tagged.NewChallengeID("u1", random), "{u1}"+hex.EncodeToString(random); got != want {
		t.Errorf("NewChallengeID around a ChallengeIDMaker = %q, want %q", got, want)
	}
}

// TestFailingStoreChallengeIDsThroughManager checks that a Manager on a
// FailingStore forms challenge IDs as it would on the wrapped store.
func TestFailingStoreChallengeIDsThroughManager(t *testing.T) {
	failing := twofactortest.NewFailingStore(&taggedStore{Store: memstore.New()})
	kit := twofactortest.New(t, twofactor.Config{Store: failing})
	key := kit.Enroll(t, "alice")
	d, err := kit.Manager.Begin(t.Context(), twofactor.Login{UserID: "alice", Role: twofactor.RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	if d.Challenge == nil {
		t.Fatalf("Begin = %+v, want a challenge", d)
	}
	id := d.Challenge.ID
	if len(id) != len("{alice}")+32 || id[:len("{alice}")] != "{alice}" {
		t.Errorf("challenge ID = %q, want {alice} and 32 hex digits", id)
	}
	res, err := kit.Manager.Submit(t.Context(), id, twofactortest.Code(t, key, kit.Clock.Now()))
	if err != nil || !res.Succeeded() {
		t.Errorf("Submit on the challenge = %+v, %v, want success", res, err)
	}
}

// TestFailingStoreFailsSubmissionCalls checks that the methods a
// submission calls fail when named, and that Calls counts them.
func TestFailingStoreFailsSubmissionCalls(t *testing.T) {
	ctx := t.Context()
	f := twofactortest.NewFailingStore(memstore.New())
	errDown := errors.New("store down")
	f.Fail(errDown, "ReserveAttempt", "AcceptStep", "ConsumeBackupCode")
	if _, err := f.ReserveAttempt(ctx, "c1", 5, twofactortest.Epoch, twofactor.Verdict{}); !errors.Is(err, errDown) {
		t.Errorf("ReserveAttempt error = %v, want the injected error", err)
	}
	if err := f.AcceptStep(ctx, "c1", "u1", 1); !errors.Is(err, errDown) {
		t.Errorf("AcceptStep error = %v, want the injected error", err)
	}
	if _, err := f.ConsumeBackupCode(ctx, "c1", "u1", []byte("h"), twofactortest.Epoch); !errors.Is(err, errDown) {
		t.Errorf("ConsumeBackupCode error = %v, want the injected error", err)
	}
	f.Heal()
	if _, err := f.ReserveAttempt(ctx, "c1", 5, twofactortest.Epoch, twofactor.Verdict{}); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("ReserveAttempt after Heal error = %v, want the store's ErrNotFound", err)
	}
	for method, want := range map[string]int{"ReserveAttempt": 2, "AcceptStep": 1, "ConsumeBackupCode": 1} {
		if got := f.Calls(method); got != want {
			t.Errorf("Calls(%q) = %d, want %d", method, got, want)
		}
	}
}
