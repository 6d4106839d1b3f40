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

// AcceptStep implements [twofactor.EnrollmentStore]. The conditional
// UPDATE takes the row lock, so of concurrent calls with one step only the
// first finds last_step smaller. The accounts UPDATE of the same statement
// runs only when the first one returned a row, and sets the user's
// failure count to zero. The statement also reads whether the user is
// enrolled, which distinguishes ErrStepUsed from ErrNotFound.
//
// NOTE: the reads see the database as of the statement's start. When the
// enrollment is deleted while the call waits for the row lock, the call
// returns ErrStepUsed rather than ErrNotFound. Either way it accepts no
// step and clears no failure.
func (s *Store) AcceptStep(ctx context.Context, userID string, step int64) error {
	var accepted, enrolled bool
	err := s.pool.QueryRow(ctx, s.sql(`
		WITH accepted AS (
			UPDATE {schema}.enrollments SET last_step = $2
			WHERE user_id = $1 AND last_step < $2
			RETURNING 1
		), cleared AS (
			UPDATE {schema}.accounts SET failures = 0
			WHERE user_id = $1 AND failures <> 0 AND EXISTS (SELECT FROM accepted)
		)
		SELECT EXISTS (SELECT FROM accepted),
		       EXISTS (SELECT FROM {schema}.enrollments WHERE user_id = $1)`),
		userID, step).Scan(&accepted, &enrolled)
	switch {
	case err != nil:
		return failed(err, "accepting a time step of user %q", userID)
	case accepted:
		return nil
	case enrolled:
		return twofactor.ErrStepUsed
	}
	return twofactor.ErrNotFound
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
