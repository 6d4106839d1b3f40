package postgresstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/twofactor-go/twofactor"
)

// uniqueViolation is the SQLSTATE of a unique constraint violation.
const uniqueViolation = "23505"

const deviceColumns = `user_id, token_hash, id, label, created_at, last_used, expires_at`

func scanDevice(row pgx.Row) (twofactor.Device, error) {
	var d twofactor.Device
	err := row.Scan(&d.UserID, &d.TokenHash, &d.ID, &d.Label, &d.CreatedAt, &d.LastUsed, &d.ExpiresAt)
	d.CreatedAt = d.CreatedAt.UTC()
	d.LastUsed = d.LastUsed.UTC()
	d.ExpiresAt = d.ExpiresAt.UTC()
	return d, err
}

// PutDevice implements [twofactor.DeviceStore]. A device with the same
// user and token hash is replaced. A device ID that another device of the
// user has is an error that wraps ErrConflict.
func (s *Store) PutDevice(ctx context.Context, d twofactor.Device) error {
	_, err := s.pool.Exec(ctx, s.sql(`
		INSERT INTO {schema}.devices (`+deviceColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (user_id, token_hash) DO UPDATE SET
			id = EXCLUDED.id, label = EXCLUDED.label, created_at = EXCLUDED.created_at,
			last_used = EXCLUDED.last_used, expires_at = EXCLUDED.expires_at`),
		d.UserID, bytea(d.TokenHash), d.ID, d.Label, d.CreatedAt, d.LastUsed, d.ExpiresAt)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == uniqueViolation && pgErr.ConstraintName == "devices_user_id_id_key" {
		return fmt.Errorf("twofactor/postgresstore: user %q already has a device with ID %q: %w", d.UserID, d.ID, twofactor.ErrConflict)
	}
	if err != nil {
		return failed(err, "storing a device of user %q", d.UserID)
	}
	return nil
}

// UseDevice implements [twofactor.DeviceStore].
func (s *Store) UseDevice(ctx context.Context, userID string, hash []byte, now time.Time) (twofactor.Device, error) {
	row := s.pool.QueryRow(ctx, s.sql(`
		UPDATE {schema}.devices SET last_used = $3
		WHERE user_id = $1 AND token_hash = $2 AND expires_at > $3
		RETURNING `+deviceColumns), userID, bytea(hash), now)
	d, err := scanDevice(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return twofactor.Device{}, twofactor.ErrNotFound
	}
	if err != nil {
		return twofactor.Device{}, failed(err, "using a device of user %q", userID)
	}
	return d, nil
}

// ListDevices implements [twofactor.DeviceStore]. Devices created at the
// same instant are in ascending ID order.
func (s *Store) ListDevices(ctx context.Context, userID string, now time.Time) ([]twofactor.Device, error) {
	rows, err := s.pool.Query(ctx, s.sql(`
		SELECT `+deviceColumns+` FROM {schema}.devices
		WHERE user_id = $1 AND expires_at > $2
		ORDER BY created_at DESC, id COLLATE "C"`), userID, now)
	if err != nil {
		return nil, failed(err, "listing the devices of user %q", userID)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (twofactor.Device, error) {
		return scanDevice(row)
	})
	if err != nil {
		return nil, failed(err, "listing the devices of user %q", userID)
	}
	return list, nil
}

// DeleteDevice implements [twofactor.DeviceStore].
func (s *Store) DeleteDevice(ctx context.Context, userID, id string) error {
	_, err := s.pool.Exec(ctx, s.sql(`DELETE FROM {schema}.devices WHERE user_id = $1 AND id = $2`), userID, id)
	if err != nil {
		return failed(err, "deleting device %q of user %q", id, userID)
	}
	return nil
}

// DeleteDevices implements [twofactor.DeviceStore].
func (s *Store) DeleteDevices(ctx context.Context, userID string) error {
	_, err := s.pool.Exec(ctx, s.sql(`DELETE FROM {schema}.devices WHERE user_id = $1`), userID)
	if err != nil {
		return failed(err, "deleting the devices of user %q", userID)
	}
	return nil
}
