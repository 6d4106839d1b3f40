package redisstore

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/twofactor-go/twofactor"
)

// CreateChallenge implements [twofactor.ChallengeStore]. It returns
// [twofactor.ErrConflict] when a challenge with the ID exists, and an
// error when [Store.NewChallengeID] did not form the ID for the
// challenge's user.
func (s *Store) CreateChallenge(ctx context.Context, c twofactor.Challenge) error {
	key, userID, ok := s.challengeKey(c.ID)
	random, err := hex.DecodeString(c.ID[:max(strings.LastIndexByte(c.ID, '.'), 0)])
	if !ok || userID != c.UserID || err != nil || s.NewChallengeID(userID, random) != c.ID {
		return fmt.Errorf("twofactor/redisstore: a challenge of user %q has an ID that Store.NewChallengeID did not form for that user; create challenges through a twofactor.Manager on this Store", c.UserID)
	}
	args := append([]any{"1", milliseconds(s.ttl(c.ExpiresAt))}, encodeChallenge(c)...)
	created, err := s.runStatus(ctx, putScript, []string{key}, args...)
	if err != nil {
		return failed("CreateChallenge", err)
	}
	if created == 0 {
		return twofactor.ErrConflict
	}
	return nil
}

// GetChallenge implements [twofactor.ChallengeStore].
func (s *Store) GetChallenge(ctx context.Context, id string) (twofactor.Challenge, error) {
	key, _, ok := s.challengeKey(id)
	if !ok {
		return twofactor.Challenge{}, twofactor.ErrNotFound
	}
	r, err := s.client.HGetAll(ctx, key).Result()
	if err != nil {
		return twofactor.Challenge{}, failed("GetChallenge", err)
	}
	if len(r) == 0 {
		return twofactor.Challenge{}, twofactor.ErrNotFound
	}
	c, err := decodeChallenge(id, r)
	if err != nil {
		return twofactor.Challenge{}, failed("GetChallenge", err)
	}
	return c, nil
}

// UpdateChallenge implements [twofactor.ChallengeStore].
func (s *Store) UpdateChallenge(ctx context.Context, id string, from, to twofactor.State) error {
	key, _, ok := s.challengeKey(id)
	if !ok {
		return twofactor.ErrNotFound
	}
	status, err := s.runStatus(ctx, updateChallengeScript, []string{key}, uint8(from), uint8(to))
	if err != nil {
		return failed("UpdateChallenge", err)
	}
	switch status {
	case -1:
		return twofactor.ErrNotFound
	case 0:
		return twofactor.ErrConflict
	}
	return nil
}
