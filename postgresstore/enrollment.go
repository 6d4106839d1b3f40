package postgresstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twofactor-go/twofactor"
)

const enrollmentColumns = `user_id, secret, algorithm, digits, period, last_step, confirmed_at`

// enrollmentFields returns the scan destinations of enrollmentColumns.
func enrollmentFields(e *twofactor.Enrollment) []any {
	return []any{&e.UserID, &e.Secret, &e.Algorithm, &e.Digits, &e.Period, &e.LastStep, &e.ConfirmedAt}
}

func scanEnrollment(row pgx.Row) (twofactor.Enrollment, error) {
	var e twofactor.Enrollment
	err := row.Scan(enrollmentFields(&e)...)
	e.ConfirmedAt = e.ConfirmedAt.UTC()
	return e, err
}

// GetEnrollment implements [twofactor.EnrollmentStore].
func (s *Store) GetEnrollment(ctx context.Context, userID string) (twofactor.Enrollment, error) {
	row := s.pool.QueryRow(ctx, s.sql(`SELECT `+enrollmentColumns+` FROM {schema}.enrollments WHERE user_id = $1`), userID)
	e, err := scanEnrollment(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return twofactor.Enrollment{}, twofactor.ErrNotFound
	}
	if err != nil {
		return twofactor.Enrollment{}, failed(err, "reading the enrollment of user %q", userID)
	}
	return e, nil
}

// PutSetup implements [twofactor.EnrollmentStore].
func (s *Store) PutSetup(ctx context.Context, setup twofactor.Setup) error {
	_, err := s.pool.Exec(ctx, s.sql(`
		INSERT INTO {schema}.setups (user_id, id, secret, algorithm, digits, period, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (user_id) DO UPDATE SET
			id = EXCLUDED.id, secret = EXCLUDED.secret, algorithm = EXCLUDED.algorithm,
			digits = EXCLUDED.digits, period = EXCLUDED.period, expires_at = EXCLUDED.expires_at`),
		setup.UserID, setup.ID, bytea(setup.Secret), setup.Algorithm, setup.Digits, setup.Period, setup.ExpiresAt)
	if err != nil {
		return failed(err, "storing the set-up of user %q", setup.UserID)
	}
	return nil
}

// GetSetup implements [twofactor.EnrollmentStore].
func (s *Store) GetSetup(ctx context.Context, userID string, now time.Time) (twofactor.Setup, error) {
	row := s.pool.QueryRow(ctx, s.sql(`
		SELECT user_id, id, secret, algorithm, digits, period, expires_at
		FROM {schema}.setups WHERE user_id = $1 AND expires_at > $2`), userID, now)
	var st twofactor.Setup
	err := row.Scan(&st.UserID, &st.ID, &st.Secret, &st.Algorithm, &st.Digits, &st.Period, &st.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return twofactor.Setup{}, twofactor.ErrNotFound
	}
	if err != nil {
		return twofactor.Setup{}, failed(err, "reading the set-up of user %q", userID)
	}
	st.ExpiresAt = st.ExpiresAt.UTC()
	return st, nil
}

// ConfirmSetup implements [twofactor.EnrollmentStore]. One statement
// deletes the set-up and writes the enrollment from the deleted row, so a
// set-up is confirmed at most once however many calls race.
func (s *Store) ConfirmSetup(ctx context.Context, userID, setupID string, step int64, now time.Time) (twofactor.Enrollment, error) {
	row := s.pool.QueryRow(ctx, s.sql(`
		WITH setup AS (
			DELETE FROM {schema}.setups
			WHERE user_id = $1 AND id = $2 AND expires_at > $4
			RETURNING user_id, secret, algorithm, digits, period
		)
		INSERT INTO {schema}.enrollments AS e (`+enrollmentColumns+`)
		SELECT user_id, secret, algorithm, digits, period, $3, $4 FROM setup
		ON CONFLICT (user_id) DO UPDATE SET
			secret = EXCLUDED.secret, algorithm = EXCLUDED.algorithm, digits = EXCLUDED.digits,
			period = EXCLUDED.period, last_step = EXCLUDED.last_step, confirmed_at = EXCLUDED.confirmed_at
		RETURNING `+enrollmentColumns), userID, setupID, step, now)
	e, err := scanEnrollment(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return twofactor.Enrollment{}, twofactor.ErrNotFound
	}
	if err != nil {
		return twofactor.Enrollment{}, failed(err, "confirming the set-up of user %q", userID)
	}
	return e, nil
}

// DeleteEnrollment implements [twofactor.EnrollmentStore]. It runs two
// statements in one transaction, set-up first, so that it takes its locks
// in the order ConfirmSetup takes them, and so that the second statement's
// snapshot includes an enrollment that a ConfirmSetup waiting on the set-up
// row committed meanwhile.
func (s *Store) DeleteEnrollment(ctx context.Context, userID string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, s.sql(`DELETE FROM {schema}.setups WHERE user_id = $1`), userID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, s.sql(`DELETE FROM {schema}.enrollments WHERE user_id = $1`), userID)
		return err
	})
	if err != nil {
		return failed(err, "deleting the enrollment of user %q", userID)
	}
	return nil
}

// acceptStepSQL locks the challenge $1 of the user $2 and the user's
// enrollment together. Only when the challenge is code-pending ($4) and
// the stored last step is below $3 does it record $3, clear the failure
// count and move the challenge to succeeded ($5). It returns the locked
// state and last step, and no row when either record is missing.
//
// The row locks make the check and the writes one step: FOR NO KEY UPDATE
// waits for a concurrent writer and reads the rows' latest versions, and
// no other call changes them until the statement commits. The challenge
// is locked first, as in ReserveAttempt.
//
// signInSQL holds the two last CTEs of acceptStepSQL and
// consumeBackupCodeSQL. When the CTE ok has a row, they set the failure
// count of the user $2 to zero and move the challenge $1 to the succeeded
// state $5.
//
// The failure count is cleared with an upsert rather than an UPDATE,
// because the statement's snapshot can predate a ReserveAttempt that
// committed while this call waited for the challenge's lock. An UPDATE
// would skip the account row that such a call inserted, or one whose count
// was zero in the snapshot, and leave its failure counted after the
// sign-in. The upsert finds the committed row through the unique index and
// updates its latest version.
const signInSQL = `cleared AS (
		INSERT INTO {schema}.accounts AS a (user_id, failures)
		SELECT $2, 0 FROM ok
		ON CONFLICT (user_id) DO UPDATE SET failures = 0 WHERE a.failures <> 0
	), closed AS (
		UPDATE {schema}.challenges SET state = $5
		WHERE id = $1 AND EXISTS (SELECT FROM ok)
	)`

const acceptStepSQL = `
	WITH target AS (
		SELECT c.state, e.last_step
		FROM {schema}.challenges c JOIN {schema}.enrollments e ON e.user_id = c.user_id
		WHERE c.id = $1 AND c.user_id = $2
		FOR NO KEY UPDATE
	), ok AS (
		SELECT FROM target WHERE state = $4 AND last_step < $3
	), accepted AS (
		UPDATE {schema}.enrollments SET last_step = $3
		WHERE user_id = $2 AND EXISTS (SELECT FROM ok)
	), ` + signInSQL + `
	SELECT state, last_step FROM target`

// AcceptStep implements [twofactor.EnrollmentStore] in one statement,
// acceptStepSQL.
func (s *Store) AcceptStep(ctx context.Context, challengeID, userID string, step int64) error {
	var (
		state    twofactor.State
		lastStep int64
	)
	err := s.pool.QueryRow(ctx, s.sql(acceptStepSQL), challengeID, userID, step,
		twofactor.StateCodePending, twofactor.StateSucceeded).Scan(&state, &lastStep)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return twofactor.ErrNotFound
	case err != nil:
		return failed(err, "accepting a time step of user %q", userID)
	case state != twofactor.StateCodePending:
		return twofactor.ErrConflict
	case lastStep >= step:
		return twofactor.ErrStepUsed
	}
	return nil
}

// ListEnrollments implements [twofactor.EnrollmentStore]. The user_id
// column sorts with the "C" collation, which compares bytes as Go does.
func (s *Store) ListEnrollments(ctx context.Context, after string, limit int) ([]twofactor.Enrollment, error) {
	if limit <= 0 {
		return nil, ctx.Err()
	}
	rows, err := s.pool.Query(ctx, s.sql(`
		SELECT `+enrollmentColumns+` FROM {schema}.enrollments
		WHERE user_id > $1 ORDER BY user_id LIMIT $2`), after, limit)
	if err != nil {
		return nil, failed(err, "listing enrollments after user %q", after)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (twofactor.Enrollment, error) {
		return scanEnrollment(row)
	})
	if err != nil {
		return nil, failed(err, "listing enrollments after user %q", after)
	}
	return list, nil
}

// ReplaceSecret implements [twofactor.EnrollmentStore]. The secrets are
// ciphertext, which the server compares in the conditional UPDATE.
//
// NOTE: as in AcceptStep, an enrollment deleted while the call waits for
// the row lock gives ErrConflict rather than ErrNotFound.
func (s *Store) ReplaceSecret(ctx context.Context, userID string, oldSecret, newSecret []byte) error {
	var replaced, enrolled bool
	err := s.pool.QueryRow(ctx, s.sql(`
		WITH replaced AS (
			UPDATE {schema}.enrollments SET secret = $3
			WHERE user_id = $1 AND secret = $2
			RETURNING 1
		)
		SELECT EXISTS (SELECT FROM replaced),
		       EXISTS (SELECT FROM {schema}.enrollments WHERE user_id = $1)`),
		userID, bytea(oldSecret), bytea(newSecret)).Scan(&replaced, &enrolled)
	switch {
	case err != nil:
		return failed(err, "replacing the secret of user %q", userID)
	case replaced:
		return nil
	case enrolled:
		return twofactor.ErrConflict
	}
	return twofactor.ErrNotFound
}
