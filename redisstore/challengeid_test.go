package redisstore_test

import (
	"encoding/hex"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/redisstore"
)

// The Store finds a challenge's key, and so its hash slot, from the user
// ID that the challenge ID carries. The tests in this file pass IDs that
// Store.NewChallengeID did not form for the user in question.

// challengeRandom is the random part of the challenges in this file. Its
// hex form is long enough that an error that contains it can only have
// copied it, and contains letters, so that its upper-case form differs.
var challengeRandom = []byte{0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18, 0x29, 0x3a, 0x4b, 0x5c, 0x6d, 0x7e, 0x8f, 0x90}

// foreignChallengeID is a challenge ID that Store.NewChallengeID did not
// form for user u1.
type foreignChallengeID struct {
	name string
	id   string
}

// foreignChallengeIDs returns IDs that are not s.NewChallengeID("u1",
// challengeRandom) but resemble it. Most keep the random part of that ID,
// so that a Store that parsed them loosely would reach u1's challenge.
func foreignChallengeIDs(s *redisstore.Store) []foreignChallengeID {
	random := hex.EncodeToString(challengeRandom)
	// base64url("u1") is "dTE". "dTF" decodes to "u1" too when the
	// decoder ignores the unused low bits of its last character.
	return []foreignChallengeID{
		{"another user's ID", s.NewChallengeID("u2", challengeRandom)},
		{"no dot", random},
		{"no user", random + "."},
		{"no random part", ".dTE"},
		{"only a dot", "."},
		{"empty", ""},
		{"user not base64url", random + ".d+E"},
		{"user padded", random + ".dTE="},
		{"user in non-canonical base64url", random + ".dTF"},
	}
}

// snapshotKeys returns the DUMP serialization of every key under prefix,
// so that two snapshots differ when a key's value changed or a key was
// added or deleted.
func snapshotKeys(t *testing.T, client *redis.Client, prefix string) map[string]string {
	t.Helper()
	snapshot := map[string]string{}
	for _, key := range scanKeys(t, client, prefix) {
		dump, err := client.Dump(t.Context(), key).Result()
		mustDo(t, "DUMP "+key, err)
		snapshot[key] = dump
	}
	return snapshot
}

// checkKeysUnchanged fails the test unless every key under prefix is as in
// before.
func checkKeysUnchanged(t *testing.T, client *redis.Client, prefix string, before map[string]string, after string) {
	t.Helper()
	now := snapshotKeys(t, client, prefix)
	if maps.Equal(now, before) {
		return
	}
	for key, dump := range now {
		if old, ok := before[key]; !ok {
			t.Errorf("%s added key %s", after, key)
		} else if old != dump {
			t.Errorf("%s changed key %s", after, key)
		}
	}
	for key := range before {
		if _, ok := now[key]; !ok {
			t.Errorf("%s deleted key %s", after, key)
		}
	}
}

// TestCreateChallengeRejectsForeignID stores challenges of u1 whose IDs
// Store.NewChallengeID did not form for u1. Each must fail with an error
// that is no sentinel and shows no part of the ID, and must write no key.
func TestCreateChallengeRejectsForeignID(t *testing.T) {
	client := newClient(t, redisAddr(t))
	prefix := newPrefix(t, client)
	s := newStore(t, client, prefix)
	fillUser(t, s, "u1")
	before := snapshotKeys(t, client, prefix)

	ids := append(foreignChallengeIDs(s),
		foreignChallengeID{"random part not hex", "zz.dTE"},
		foreignChallengeID{"random part in upper-case hex", strings.ToUpper(hex.EncodeToString(challengeRandom)) + ".dTE"},
	)
	for _, tt := range ids {
		t.Run(tt.name, func(t *testing.T) {
			c := newChallenge(s, "u1", challengeRandom)
			c.ID = tt.id
			err := s.CreateChallenge(t.Context(), c)
			if err == nil {
				t.Fatalf("CreateChallenge with the ID %q of user u1 returned no error", tt.id)
			}
			for _, sentinel := range []error{twofactor.ErrConflict, twofactor.ErrNotFound} {
				if errors.Is(err, sentinel) {
					t.Errorf("CreateChallenge error = %v, which is the sentinel %v", err, sentinel)
				}
			}
			if !strings.Contains(err.Error(), `"u1"`) {
				t.Errorf("CreateChallenge error %q does not name the user", err)
			}
			for part := range strings.SplitSeq(tt.id, ".") {
				if len(part) >= 3 && strings.Contains(err.Error(), part) {
					t.Errorf("CreateChallenge error %q contains %q from the ID %q", err, part, tt.id)
				}
			}
			checkKeysUnchanged(t, client, prefix, before, "CreateChallenge with the ID "+tt.id)
		})
	}
}

// TestForeignChallengeIDNotFound calls every method that looks up a
// challenge by ID with the IDs of foreignChallengeIDs, while u1 has a
// code-pending challenge, a backup code and a counted failure. Each call
// must return ErrNotFound and leave every key as it was.
func TestForeignChallengeIDNotFound(t *testing.T) {
	client := newClient(t, redisAddr(t))
	prefix := newPrefix(t, client)
	s := newStore(t, client, prefix)
	fillUser(t, s, "u1")
	fillUser(t, s, "u2")
	ctx := t.Context()
	c := startChallenge(t, s, "u1", challengeRandom)
	before := snapshotKeys(t, client, prefix)

	calls := []struct {
		name string
		call func(id string) error
	}{
		{"GetChallenge", func(id string) error { _, err := s.GetChallenge(ctx, id); return err }},
		{"UpdateChallenge", func(id string) error {
			return s.UpdateChallenge(ctx, id, twofactor.StateCodePending, twofactor.StateLocked)
		}},
		{"ReserveAttempt", func(id string) error { _, err := s.ReserveAttempt(ctx, id, 10, base, twofactor.Verdict{}); return err }},
		{"AcceptStep", func(id string) error { return s.AcceptStep(ctx, id, "u1", 5) }},
		{"ConsumeBackupCode", func(id string) error {
			_, err := s.ConsumeBackupCode(ctx, id, "u1", []byte("h"), base)
			return err
		}},
	}
	for _, tt := range foreignChallengeIDs(s) {
		for _, call := range calls {
			if err := call.call(tt.id); !errors.Is(err, twofactor.ErrNotFound) {
				t.Errorf("%s with %s %q error = %v, want ErrNotFound", call.name, tt.name, tt.id, err)
			}
			checkKeysUnchanged(t, client, prefix, before, call.name+" with "+tt.name)
		}
	}

	// u1's own challenge still takes the code.
	mustDo(t, "AcceptStep on u1's challenge", s.AcceptStep(ctx, c.ID, "u1", 5))
}

// TestChallengeOfAnotherUser gives u1 and u2 challenges with the same
// random part and backup codes with the same hash. A sign-in of u2 on u1's
// challenge must return ErrNotFound and change nothing, and the challenge
// of u2 must still take u2's code.
func TestChallengeOfAnotherUser(t *testing.T) {
	client := newClient(t, redisAddr(t))
	prefix := newPrefix(t, client)
	s := newStore(t, client, prefix)
	ctx := t.Context()
	for _, u := range []string{"u1", "u2"} {
		fillUser(t, s, u)
	}
	challenge1 := startChallenge(t, s, "u1", challengeRandom)
	challenge2 := startChallenge(t, s, "u2", challengeRandom)
	if challenge1.ID == challenge2.ID {
		t.Fatalf("the challenges of u1 and u2 have the same ID %q", challenge1.ID)
	}
	before := snapshotKeys(t, client, prefix)

	if err := s.AcceptStep(ctx, challenge1.ID, "u2", 5); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("AcceptStep of u2 on the challenge of u1 error = %v, want ErrNotFound", err)
	}
	checkKeysUnchanged(t, client, prefix, before, "AcceptStep of u2 on the challenge of u1")
	if _, err := s.ConsumeBackupCode(ctx, challenge1.ID, "u2", []byte("h"), base); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("ConsumeBackupCode of u2 on the challenge of u1 error = %v, want ErrNotFound", err)
	}
	checkKeysUnchanged(t, client, prefix, before, "ConsumeBackupCode of u2 on the challenge of u1")

	mustDo(t, "AcceptStep of u2 on its own challenge", s.AcceptStep(ctx, challenge2.ID, "u2", 5))
	got, err := s.GetChallenge(ctx, challenge1.ID)
	mustDo(t, "GetChallenge", err)
	if got.UserID != "u1" || got.State != twofactor.StateCodePending {
		t.Errorf("challenge of u1 after u2 signed in = %v of %q, want code-pending of u1", got.State, got.UserID)
	}
	e, err := s.GetEnrollment(ctx, "u1")
	mustDo(t, "GetEnrollment", err)
	if e.LastStep != 1 {
		t.Errorf("LastStep of u1 after u2 signed in = %d, want 1", e.LastStep)
	}
}
