package redisstore

import (
	"context"

	"github.com/twofactor-go/twofactor"
)

// CreateChallenge implements [twofactor.ChallengeStore]. It returns
// [twofactor.ErrConflict] when a challenge with the ID exists.
func (s *Store) CreateChallenge(ctx context.Context, c twofactor.Challenge) error {
	args := append([]any{"1", milliseconds(s.ttl(c.ExpiresAt))}, encodeChallenge(c)...)
	created, err := s.runStatus(ctx, putScript, []string{s.challengeKey(c.ID)}, args...)
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
	r, err := s.client.HGetAll(ctx, s.challengeKey(id)).Result()
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
	status, err := s.runStatus(ctx, updateChallengeScript, []string{s.challengeKey(id)}, uint8(from), uint8(to))
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
