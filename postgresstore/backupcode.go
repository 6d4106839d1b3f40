package postgresstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twofactor-go/twofactor"
)

// PutBackupCode implements [twofactor.BackupCodeStore].
func (s *Store) PutBackupCode(ctx context.Context, c twofactor.BackupCode) error {
	_, err := s.pool.Exec(ctx, s.sql(`
		INSERT INTO {schema}.backup_codes (user_id, hash, issued_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id) DO UPDATE SET
			hash = EXCLUDED.hash, issued_by = EXCLUDED.issued_by,
			created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at`),
		c.UserID, bytea(c.Hash), c.IssuedBy, c.CreatedAt, c.ExpiresAt)
	if err != nil {
		return failed(err, "storing the backup code of user %q", c.UserID)
	}
	return nil
}

// consumeBackupCodeSQL locks the challenge $1 of the user $2 and then the
// user's backup code. Only when the challenge is code-pending ($4), the
// code's hash is $3 and the code expires after $6 does it delete the code,
// clear the failure count and move the challenge to succeeded ($5). It returns
// no row when there is no such challenge, and otherwise the locked state,
// whether the code matched, and the code, which are NULL when the user has
// no backup code. The locks, and the upsert that clears the count, work as
// in acceptStepSQL. The code CTE takes its lock after the challenge's,
// because its WHERE reads the ch CTE.
const consumeBackupCodeSQL = `
	WITH ch AS (
		SELECT state FROM {schema}.challenges
		WHERE id = $1 AND user_id = $2
		FOR NO KEY UPDATE
	), code AS (
		SELECT hash = $3 AND expires_at > $6 AS matched, hash, issued_by, created_at, expires_at
		FROM {schema}.backup_codes
		WHERE user_id = $2 AND EXISTS (SELECT FROM ch)
		FOR NO KEY UPDATE
	), ok AS (
		SELECT FROM ch, code WHERE ch.state = $4 AND code.matched
	), consumed AS (
		DELETE FROM {schema}.backup_codes
		WHERE user_id = $2 AND EXISTS (SELECT FROM ok)
	), ` + signInSQL + `
	SELECT ch.state, c.matched, c.hash, c.issued_by, c.created_at, c.expires_at
	FROM ch LEFT JOIN code c ON true`

// ConsumeBackupCode implements [twofactor.BackupCodeStore] in one
// statement, consumeBackupCodeSQL.
//
// The server compares the hashes with a plain bytea equality, which is not
// constant-time. The hash is an HMAC under a key that the store never
// receives, so a caller cannot choose inputs whose hashes probe the stored one.
func (s *Store) ConsumeBackupCode(ctx context.Context, challengeID, userID string, hash []byte, now time.Time) (twofactor.BackupCode, error) {
	var (
		state     twofactor.State
		matched   *bool
		c         = twofactor.BackupCode{UserID: userID}
		issuedBy  *string
		createdAt *time.Time
		expiresAt *time.Time
	)
	err := s.pool.QueryRow(ctx, s.sql(consumeBackupCodeSQL), challengeID, userID, bytea(hash),
		twofactor.StateCodePending, twofactor.StateSucceeded, now).
		Scan(&state, &matched, &c.Hash, &issuedBy, &createdAt, &expiresAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return twofactor.BackupCode{}, twofactor.ErrNotFound
	case err != nil:
		return twofactor.BackupCode{}, failed(err, "consuming the backup code of user %q", userID)
	case state != twofactor.StateCodePending:
		return twofactor.BackupCode{}, twofactor.ErrConflict
	case matched == nil || !*matched:
		return twofactor.BackupCode{}, twofactor.ErrNotFound
	}
	c.IssuedBy = *issuedBy
	c.CreatedAt = createdAt.UTC()
	c.ExpiresAt = expiresAt.UTC()
	return c, nil
}

// DeleteBackupCode implements [twofactor.BackupCodeStore].
func (s *Store) DeleteBackupCode(ctx context.Context, userID string) error {
	_, err := s.pool.Exec(ctx, s.sql(`DELETE FROM {schema}.backup_codes WHERE user_id = $1`), userID)
	if err != nil {
		return failed(err, "deleting the backup code of user %q", userID)
	}
	return nil
}
