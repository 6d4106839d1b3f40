package postgresstore

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twofactor-go/twofactor"
)

// challengeColumns are the columns of a challenge, in the order of
// challengeFields.
const challengeColumns = `id, user_id, role, state, trust_allowed, generation, created_at, deadline, expires_at`

// challengeFields returns the scan destinations of challengeColumns.
func challengeFields(c *twofactor.Challenge) []any {
	return []any{&c.ID, &c.UserID, &c.Role, &c.State, &c.TrustAllowed, &c.Generation, &c.CreatedAt, &c.Deadline, &c.ExpiresAt}
}

// utcChallenge returns c with its times in UTC.
func utcChallenge(c twofactor.Challenge) twofactor.Challenge {
	c.CreatedAt = c.CreatedAt.UTC()
	c.Deadline = c.Deadline.UTC()
	c.ExpiresAt = c.ExpiresAt.UTC()
	return c
}

// reserveAttemptSQL locks the unexpired challenge $1 and its user's
// enrollment, and the backup code when $6 is not NULL, and judges the
// verdict: $6 is a backup code's hash, or else $7 is the sealed secret
// that an app code was checked against, $8 whether it matched and $9 the
// step it matched. $2 is the limit, $3 now, $4 the code-pending state and
// $5 the succeeded state.
//
// The attempt is taken only when the challenge is code-pending before its
// deadline, the user is enrolled and the limit is positive, and then only
// while the account's count is below the limit and its generation is the
// challenge's. Taken, it adds one to the count, or, for a verdict judged
// right, sets the count to zero, records the step or deletes the backup
// code, and moves the challenge to succeeded. The result has one row when
// the challenge exists and none otherwise. Its columns are the challenge,
// whether the attempt was taken, judged and accepted, the account and the
// enrollment, whose columns are NULL when there is none.
//
// The row locks come in the order challenge, enrollment, backup code,
// account, as in acceptStepSQL, so that no two calls wait on each other in
// a cycle. FOR NO KEY UPDATE also reads each row's latest version, and the
// verdict is judged on those versions.
//
// The account is written by INSERT ... ON CONFLICT DO UPDATE. It waits for
// the account's row lock and checks its WHERE on the row's latest version.
// So concurrent calls add one at a time and never count past the limit,
// and an Unlock committed meanwhile stops the count. A concurrent first insert makes the other inserts wait
// and take the update path, which reads from EXCLUDED whether the verdict
// was judged right. An account without a row has generation 0, so the
// insert is tried only for a challenge of generation 0 or an account that
// has a row. The other writes run only when the account write returned a
// row and the verdict was judged right.
const reserveAttemptSQL = `
	WITH ch AS (
		SELECT ` + challengeColumns + `
		FROM {schema}.challenges WHERE id = $1 AND expires_at > $3
		FOR NO KEY UPDATE
	), enrollment AS (
		SELECT e.user_id, e.secret, e.algorithm, e.digits, e.period, e.last_step, e.confirmed_at
		FROM {schema}.enrollments e JOIN ch ON e.user_id = ch.user_id
		FOR NO KEY UPDATE OF e
	), backup AS (
		SELECT b.hash = $6 AND b.expires_at > $3 AS matched
		FROM {schema}.backup_codes b JOIN ch ON b.user_id = ch.user_id
		WHERE $6::bytea IS NOT NULL
		FOR NO KEY UPDATE OF b
	), verdict AS (
		SELECT $6::bytea IS NOT NULL OR e.secret = $7::bytea AS judged,
		       CASE WHEN $6::bytea IS NOT NULL THEN COALESCE((SELECT matched FROM backup), false)
		            ELSE e.secret = $7::bytea AND $8::boolean AND $9::bigint > e.last_step
		       END AS accepted
		FROM enrollment e
	), reserved AS (
		INSERT INTO {schema}.accounts AS a (user_id, failures, generation)
		SELECT ch.user_id, CASE WHEN v.accepted THEN 0 ELSE 1 END, ch.generation
		FROM ch, verdict v
		WHERE $2 > 0 AND ch.state = $4 AND ch.deadline > $3
		  AND (ch.generation = 0 OR EXISTS (SELECT FROM {schema}.accounts WHERE user_id = ch.user_id))
		ON CONFLICT (user_id) DO UPDATE
		SET failures = CASE WHEN EXCLUDED.failures = 0 THEN 0 ELSE a.failures + 1 END
		WHERE a.failures < $2 AND a.generation = EXCLUDED.generation
		RETURNING failures, generation, unlocked_at, reset_required
	), accepted AS (
		SELECT ch.user_id FROM ch, verdict v
		WHERE v.accepted AND EXISTS (SELECT FROM reserved)
	), stepped AS (
		UPDATE {schema}.enrollments SET last_step = $9
		WHERE $6::bytea IS NULL AND user_id = (SELECT user_id FROM accepted)
	), consumed AS (
		DELETE FROM {schema}.backup_codes
		WHERE $6::bytea IS NOT NULL AND user_id = (SELECT user_id FROM accepted)
	), closed AS (
		UPDATE {schema}.challenges SET state = $5
		WHERE id = $1 AND EXISTS (SELECT FROM accepted)
	)
	SELECT ch.id, ch.user_id, ch.role, ch.state, ch.trust_allowed, ch.generation,
	       ch.created_at, ch.deadline, ch.expires_at,
	       r.failures IS NOT NULL,
	       r.failures IS NOT NULL AND COALESCE(v.judged, false),
	       r.failures IS NOT NULL AND COALESCE(v.accepted, false),
	       COALESCE(r.failures, c.failures, 0),
	       COALESCE(r.generation, c.generation, 0),
	       CASE WHEN r.failures IS NULL THEN c.unlocked_at ELSE r.unlocked_at END,
	       COALESCE(r.reset_required, c.reset_required, false),
	       COALESCE(e.user_id, ''), COALESCE(e.secret, ''::bytea), COALESCE(e.algorithm, 0),
	       COALESCE(e.digits, 0), COALESCE(e.period, 0), COALESCE(e.last_step, 0), e.confirmed_at
	FROM ch
	LEFT JOIN enrollment e ON true
	LEFT JOIN verdict v ON true
	LEFT JOIN reserved r ON true
	LEFT JOIN {schema}.accounts c ON c.user_id = ch.user_id`

// ReserveAttempt implements [twofactor.AttemptStore] in one statement,
// reserveAttemptSQL, which returns the account after the change from the
// row that it wrote.
//
// When it reserves nothing, the account is the one as of the statement's
// start. The library then needs only the challenge, and whether the user
// is enrolled, to tell why.
func (s *Store) ReserveAttempt(ctx context.Context, challengeID string, limit int, now time.Time, v twofactor.Verdict) (twofactor.Attempt, error) {
	// The failures column is an integer, and no count can pass it.
	limit = min(limit, math.MaxInt32)

	var (
		a           twofactor.Attempt
		unlockedAt  *time.Time
		confirmedAt *time.Time
	)
	e := &a.Enrollment
	dest := append(challengeFields(&a.Challenge),
		&a.Reserved, &a.Judged, &a.Accepted,
		&a.Account.Failures, &a.Account.Generation, &unlockedAt, &a.Account.ResetRequired,
		&e.UserID, &e.Secret, &e.Algorithm, &e.Digits, &e.Period, &e.LastStep, &confirmedAt)
	err := s.pool.QueryRow(ctx, s.sql(reserveAttemptSQL), challengeID, limit, now,
		twofactor.StateCodePending, twofactor.StateSucceeded,
		v.BackupHash, v.Secret, v.Matched, v.Step).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return twofactor.Attempt{}, twofactor.ErrNotFound
	}
	if err != nil {
		// The challenge ID is a bearer value of the login, so it stays out
		// of the error.
		return twofactor.Attempt{}, failed(err, "reserving an attempt on a challenge")
	}
	a.Challenge = utcChallenge(a.Challenge)
	// A NULL unlocked_at, an account never unlocked, stays the zero time.
	if unlockedAt != nil {
		a.Account.UnlockedAt = unlockedAt.UTC()
	}
	if confirmedAt != nil {
		e.ConfirmedAt = confirmedAt.UTC()
	}
	return a, nil
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
