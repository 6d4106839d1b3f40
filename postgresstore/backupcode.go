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

// ConsumeBackupCode implements [twofactor.BackupCodeStore]. The DELETE
// takes the row lock, so of concurrent calls only the first finds the row.
// The accounts UPDATE of the same statement runs only when the DELETE
// returned a row, and sets the user's failure count to zero.
//
// The server compares the hashes with a plain bytea equality, which is not
// constant-time. The hash is an HMAC under a key that the store never
// receives, so a caller cannot choose inputs whose hashes probe the stored one.
func (s *Store) ConsumeBackupCode(ctx context.Context, userID string, hash []byte, now time.Time) (twofactor.BackupCode, error) {
	c := twofactor.BackupCode{UserID: userID}
	err := s.pool.QueryRow(ctx, s.sql(`
		WITH consumed AS (
			DELETE FROM {schema}.backup_codes
			WHERE user_id = $1 AND hash = $2 AND expires_at > $3
			RETURNING hash, issued_by, created_at, expires_at
		), cleared AS (
			UPDATE {schema}.accounts SET failures = 0
			WHERE user_id = $1 AND failures <> 0 AND EXISTS (SELECT FROM consumed)
		)
		SELECT hash, issued_by, created_at, expires_at FROM consumed`), userID, bytea(hash), now).
		Scan(&c.Hash, &c.IssuedBy, &c.CreatedAt, &c.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return twofactor.BackupCode{}, twofactor.ErrNotFound
	}
	if err != nil {
		return twofactor.BackupCode{}, failed(err, "consuming the backup code of user %q", userID)
	}
	c.CreatedAt = c.CreatedAt.UTC()
	c.ExpiresAt = c.ExpiresAt.UTC()
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
