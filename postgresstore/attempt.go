package postgresstore

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twofactor-go/twofactor"
)

// reserveAttemptSQL reads the enrollment and, only when there is one and
// the limit $2 is positive, inserts the account with one failure or adds
// one to its count while the count is below $2. The result has one row
// when the user is enrolled and none otherwise. Its columns are whether
// an attempt was reserved, the account, and the enrollment.
//
// The reserved CTE is the only write. ON CONFLICT DO UPDATE waits for the
// row lock and checks its WHERE on the row's latest version, even one
// committed after the statement began, so concurrent calls add one at a
// time and never count past the limit. A concurrent first insert makes
// the other inserts wait and take the update path. Every other read uses
// the snapshot taken at the statement's start.
const reserveAttemptSQL = `
	WITH enrollment AS (
		SELECT ` + enrollmentColumns + `
		FROM {schema}.enrollments WHERE user_id = $1
	), reserved AS (
		INSERT INTO {schema}.accounts AS a (user_id, failures)
		SELECT user_id, 1 FROM enrollment WHERE $2 > 0
		ON CONFLICT (user_id) DO UPDATE SET failures = a.failures + 1
		WHERE a.failures < $2
		RETURNING failures, generation, unlocked_at, reset_required
	)
	SELECT r.failures IS NOT NULL,
	       COALESCE(r.failures, c.failures, 0),
	       COALESCE(r.generation, c.generation, 0),
	       CASE WHEN r.failures IS NULL THEN c.unlocked_at ELSE r.unlocked_at END,
	       COALESCE(r.reset_required, c.reset_required, false),
	       e.user_id, e.secret, e.algorithm, e.digits, e.period, e.last_step, e.confirmed_at
	FROM enrollment e
	LEFT JOIN reserved r ON true
	LEFT JOIN {schema}.accounts c ON c.user_id = $1`

// ReserveAttempt implements [twofactor.AttemptStore] in one statement,
// reserveAttemptSQL, which returns the account after the change from the
// row that it wrote.
//
// When the count is at the limit, nothing is written and the account is
// the one as of the statement's start. That version can be older than the
// one the update checked, so the reported count is the larger of its count
// and limit: the update saw at least limit failures.
//
// NOTE: the enrollment is also the one as of the statement's start. A
// concurrent AcceptStep can have raised LastStep since, and a concurrent
// DeleteEnrollment can have deleted it, after which the reserved attempt
// still counts. AcceptStep checks the stored row again, so neither a stale
// LastStep nor a deleted enrollment lets a code through.
func (s *Store) ReserveAttempt(ctx context.Context, userID string, limit int) (twofactor.Account, twofactor.Enrollment, error) {
	// The failures column is an integer, and no count can pass it.
	limit = min(limit, math.MaxInt32)

	var (
		reserved   bool
		a          twofactor.Account
		unlockedAt *time.Time
		e          twofactor.Enrollment
	)
	dest := append([]any{&reserved, &a.Failures, &a.Generation, &unlockedAt, &a.ResetRequired}, enrollmentFields(&e)...)
	err := s.pool.QueryRow(ctx, s.sql(reserveAttemptSQL), userID, limit).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return twofactor.Account{}, twofactor.Enrollment{}, twofactor.ErrNotFound
	}
	if err != nil {
		return twofactor.Account{}, twofactor.Enrollment{}, failed(err, "reserving an attempt of user %q", userID)
	}
	// A NULL unlocked_at, an account never unlocked, stays the zero time.
	if unlockedAt != nil {
		a.UnlockedAt = unlockedAt.UTC()
	}
	if !reserved {
		if limit > 0 {
			a.Failures = max(a.Failures, limit)
		}
		return a, twofactor.Enrollment{}, twofactor.ErrAttemptLimit
	}
	e.ConfirmedAt = e.ConfirmedAt.UTC()
	return a, e, nil
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
