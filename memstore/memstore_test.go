package memstore_test

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/memstore"
	"github.com/twofactor-go/twofactor/storetest"
)

var _ twofactor.Store = (*memstore.Store)(nil)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) twofactor.Store { return memstore.New() })
}

func TestDeleteExpired(t *testing.T) {
	s := memstore.New()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ctx := t.Context()
	if err := s.PutSetup(ctx, twofactor.Setup{ID: "s", UserID: "u1", ExpiresAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetup(ctx, twofactor.Setup{ID: "s", UserID: "u2", ExpiresAt: now.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutDevice(ctx, twofactor.Device{ID: "d", UserID: "u1", TokenHash: []byte("h"), ExpiresAt: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateChallenge(ctx, twofactor.Challenge{ID: "c", UserID: "u1", ExpiresAt: now}); err != nil {
		t.Fatal(err)
	}
	if got := s.DeleteExpired(now); got != 3 {
		t.Errorf("DeleteExpired = %d, want 3", got)
	}
	if _, err := s.GetChallenge(ctx, "c"); err != twofactor.ErrNotFound {
		t.Errorf("expired challenge still there: %v", err)
	}
	if _, err := s.GetSetup(ctx, "u2", now); err != nil {
		t.Errorf("unexpired set-up deleted: %v", err)
	}
}

func TestSeveralInstances(t *testing.T) {
	storetest.RunInstances(t, func(*testing.T) (twofactor.Store, twofactor.Store) {
		s := memstore.New()
		return s, s
	})
}

// TestConformanceWithChallengeIDMaker runs the suite on a memstore that
// forms its own challenge IDs, as a store that places records by a key tag
// would, to check that the suite runs on such a store.
func TestConformanceWithChallengeIDMaker(t *testing.T) {
	storetest.Run(t, func(*testing.T) twofactor.Store { return &taggedStore{Store: memstore.New()} })
}

// taggedStore is a memstore whose challenge IDs are the user ID in braces,
// then the random bytes in hex.
type taggedStore struct {
	*memstore.Store
}

func (s *taggedStore) NewChallengeID(userID string, random []byte) string {
	return "{" + userID + "}" + hex.EncodeToString(random)
}
