package postgresstore

import (
	"context"
	"log/slog"
	"time"
)

// DeleteExpired deletes every set-up, challenge, backup code and device
// that expired at or before now, and returns how many rows it deleted.
// Reads already treat such records as absent, so this only frees space.
// The four deletes run in one statement and use the expires_at indexes.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, s.sql(`
		WITH
			expired_setups AS (DELETE FROM {schema}.setups WHERE expires_at <= $1 RETURNING 1),
			expired_challenges AS (DELETE FROM {schema}.challenges WHERE expires_at <= $1 RETURNING 1),
			expired_backup_codes AS (DELETE FROM {schema}.backup_codes WHERE expires_at <= $1 RETURNING 1),
			expired_devices AS (DELETE FROM {schema}.devices WHERE expires_at <= $1 RETURNING 1)
		SELECT (SELECT count(*) FROM expired_setups) + (SELECT count(*) FROM expired_challenges)
		     + (SELECT count(*) FROM expired_backup_codes) + (SELECT count(*) FROM expired_devices)`), now).Scan(&n)
	if err != nil {
		return 0, failed(err, "deleting expired records")
	}
	return n, nil
}

// RunCleanup calls DeleteExpired every interval, with the time of the
// tick, until ctx is done. Run it in its own goroutine. It logs each
// failure at Error level, with the number of failures in a row, and the
// number of deleted rows at Debug level. A nil logger means
// slog.Default().
func (s *Store) RunCleanup(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	if logger == nil {
		logger = slog.Default()
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticker.C:
			failures = s.cleanOnce(ctx, now, logger, failures)
		}
	}
}

// cleanOnce runs one DeleteExpired and logs its outcome. It returns the
// number of failures in a row after this run.
func (s *Store) cleanOnce(ctx context.Context, now time.Time, logger *slog.Logger, failures int) int {
	n, err := s.DeleteExpired(ctx, now)
	if err != nil {
		if ctx.Err() != nil {
			// The host is shutting down; the error is the cancellation.
			return failures
		}
		failures++
		logger.ErrorContext(ctx, "twofactor/postgresstore: cleanup failed",
			slog.Any("err", err), slog.Int("failures_in_row", failures))
		return failures
	}
	if failures > 0 {
		logger.InfoContext(ctx, "twofactor/postgresstore: cleanup recovered",
			slog.Int("failures_in_row", failures))
	}
	logger.DebugContext(ctx, "twofactor/postgresstore: deleted expired records",
		slog.Int64("count", n))
	return 0
}
