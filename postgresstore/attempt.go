package postgresstore

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twofactor-go/twofactor"
)

// ReserveAttempt implements [twofactor.AttemptStore]. One statement either
// inserts the account with one failure or adds one to the count while it
// is below limit. ON CONFLICT DO UPDATE locks the row and checks its latest
// version, so concurrent calls never count past the limit.
//
// When the count is at the limit, the statement changes nothing and also
// returns the count as of its start, because RETURNING yields only updated
// rows. That count can be older than the version the update checked, so
// the reported count is the larger of it and limit: the update saw at
// least limit failures.
func (s *Store) ReserveAttempt(ctx context.Context, userID string, limit int) (int, error) {
	if limit <= 0 {
		acct, err := s.GetAccount(ctx, userID)
		if err != nil {
			return 0, err
		}
		return acct.Failures, twofactor.ErrAttemptLimit
	}
	// The failures column is an integer, and no count can pass it.
	limit = min(limit, math.MaxInt32)

	var reserved, current *int
	err := s.pool.QueryRow(ctx, s.sql(`
		WITH reserved AS (
			INSERT INTO {schema}.accounts AS a (user_id, failures) VALUES ($1, 1)
			ON CONFLICT (user_id) DO UPDATE SET failures = a.failures + 1
			WHERE a.failures < $2
			RETURNING a.failures
		)
		SELECT (SELECT failures FROM reserved),
		       (SELECT failures FROM {schema}.accounts WHERE user_id = $1)`),
		userID, limit).Scan(&reserved, &current)
	if err != nil {
		return 0, failed(err, "reserving an attempt of user %q", userID)
	}
	if reserved != nil {
		return *reserved, nil
	}
	count := limit
	if current != nil {
		count = max(*current, limit)
	}
	return count, twofactor.ErrAttemptLimit
}

// ReleaseAttempt implements [twofactor.AttemptStore].
func (s *Store) ReleaseAttempt(ctx context.Context, userID string) error {
	_, err := s.pool.Exec(ctx, s.sql(`
		UPDATE {schema}.accounts SET failures = failures - 1
		WHERE user_id = $1 AND failures > 0`), userID)
	if err != nil {
		return failed(err, "releasing an attempt of user %q", userID)
	}
	return nil
}

// ClearFailures implements [twofactor.AttemptStore].
func (s *Store) ClearFailures(ctx context.Context, userID string) error {
	_, err := s.pool.Exec(ctx, s.sql(`
		UPDATE {schema}.accounts SET failures = 0
		WHERE user_id = $1 AND failures <> 0`), userID)
	if err != nil {
		return failed(err, "clearing the failures of user %q", userID)
	}
	return nil
}

// GetAccount implements [twofactor.AttemptStore].
func (s *Store) GetAccount(ctx context.Context, userID string) (twofactor.Account, error) {
	var (
		a          twofactor.Account
		unlockedAt *time.Time
	)
	err := s.pool.QueryRow(ctx, s.sql(`
		SELECT failures, generation, unlocked_at, reset_required
		FROM {schema}.accounts WHERE user_id = $1`), userID).
		Scan(&a.Failures, &a.Generation, &unlockedAt, &a.ResetRequired)
	if errors.Is(err, pgx.ErrNoRows) {
		return twofactor.Account{}, nil
	}
	if err != nil {
		return twofactor.Account{}, failed(err, "reading the account of user %q", userID)
	}
	// A NULL unlocked_at, an account never unlocked, stays the zero time.
	if unlockedAt != nil {
		a.UnlockedAt = unlockedAt.UTC()
	}
	return a, nil
}

// Unlock implements [twofactor.AttemptStore].
func (s *Store) Unlock(ctx context.Context, userID string, now time.Time, resetRequired bool) error {
	_, err := s.pool.Exec(ctx, s.sql(`
		INSERT INTO {schema}.accounts AS a (user_id, failures, generation, unlocked_at, reset_required)
		VALUES ($1, 0, 1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET
			failures = 0, generation = a.generation + 1,
			unlocked_at = EXCLUDED.unlocked_at, reset_required = EXCLUDED.reset_required`),
		userID, now, resetRequired)
	if err != nil {
		return failed(err, "unlocking user %q", userID)
	}
	return nil
}

// ClearResetRequired implements [twofactor.AttemptStore].
func (s *Store) ClearResetRequired(ctx context.Context, userID string) error {
	_, err := s.pool.Exec(ctx, s.sql(`
		UPDATE {schema}.accounts SET reset_required = false
		WHERE user_id = $1 AND reset_required`), userID)
	if err != nil {
		return failed(err, "clearing the required reset of user %q", userID)
	}
	return nil
}
