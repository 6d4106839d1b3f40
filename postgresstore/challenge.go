package postgresstore

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/twofactor-go/twofactor"
)

// CreateChallenge implements [twofactor.ChallengeStore]. It returns
// ErrConflict when a challenge with the ID exists.
func (s *Store) CreateChallenge(ctx context.Context, c twofactor.Challenge) error {
	tag, err := s.pool.Exec(ctx, s.sql(`
		INSERT INTO {schema}.challenges (`+challengeColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (id) DO NOTHING`),
		c.ID, c.UserID, c.Role, c.State, c.TrustAllowed, c.Generation, c.CreatedAt, c.Deadline, c.ExpiresAt)
	if err != nil {
		return failed(err, "storing a challenge of user %q", c.UserID)
	}
	if tag.RowsAffected() == 0 {
		return twofactor.ErrConflict
	}
	return nil
}

// GetChallenge implements [twofactor.ChallengeStore].
func (s *Store) GetChallenge(ctx context.Context, id string) (twofactor.Challenge, error) {
	var c twofactor.Challenge
	err := s.pool.QueryRow(ctx, s.sql(`SELECT `+challengeColumns+` FROM {schema}.challenges WHERE id = $1`), id).
		Scan(challengeFields(&c)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return twofactor.Challenge{}, twofactor.ErrNotFound
	}
	if err != nil {
		// The ID is a bearer value of the login, so it stays out of the error.
		return twofactor.Challenge{}, failed(err, "reading a challenge")
	}
	return utcChallenge(c), nil
}

// UpdateChallenge implements [twofactor.ChallengeStore]. The conditional
// UPDATE takes the row lock and checks the state of the latest version, so
// of concurrent moves out of one state exactly one succeeds. The same
// statement reads whether the challenge exists, which distinguishes
// ErrConflict from ErrNotFound.
func (s *Store) UpdateChallenge(ctx context.Context, id string, from, to twofactor.State) error {
	var updated, exists bool
	err := s.pool.QueryRow(ctx, s.sql(`
		WITH updated AS (
			UPDATE {schema}.challenges SET state = $3
			WHERE id = $1 AND state = $2
			RETURNING 1
		)
		SELECT EXISTS (SELECT FROM updated),
		       EXISTS (SELECT FROM {schema}.challenges WHERE id = $1)`),
		id, from, to).Scan(&updated, &exists)
	switch {
	case err != nil:
		return failed(err, "moving a challenge from %s to %s", from, to)
	case updated:
		return nil
	case exists:
		return twofactor.ErrConflict
	}
	return twofactor.ErrNotFound
}
