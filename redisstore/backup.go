package redisstore

import (
	"context"
	"time"

	"github.com/twofactor-go/twofactor"
)

// PutBackupCode implements [twofactor.BackupCodeStore].
func (s *Store) PutBackupCode(ctx context.Context, c twofactor.BackupCode) error {
	args := append([]any{"0", milliseconds(s.ttl(c.ExpiresAt))}, encodeBackupCode(c)...)
	if _, err := s.runStatus(ctx, putScript, []string{s.userKey(c.UserID, "backup")}, args...); err != nil {
		return failed("PutBackupCode", err)
	}
	return nil
}

// ConsumeBackupCode implements [twofactor.BackupCodeStore]. The script
// compares the hashes in time that does not depend on where they differ.
// When it deletes the code it also clears the failure count, and creates
// no account record for a user without one.
func (s *Store) ConsumeBackupCode(ctx context.Context, userID string, hash []byte, now time.Time) (twofactor.BackupCode, error) {
	keys := []string{s.userKey(userID, "backup"), s.userKey(userID, "account")}
	r, found, err := s.runRecord(ctx, consumeBackupScript, keys, hash, micros(now))
	if err != nil {
		return twofactor.BackupCode{}, failed("ConsumeBackupCode", err)
	}
	if !found {
		return twofactor.BackupCode{}, twofactor.ErrNotFound
	}
	c, err := decodeBackupCode(userID, r)
	if err != nil {
		return twofactor.BackupCode{}, failed("ConsumeBackupCode", err)
	}
	return c, nil
}

// DeleteBackupCode implements [twofactor.BackupCodeStore].
func (s *Store) DeleteBackupCode(ctx context.Context, userID string) error {
	if err := s.client.Del(ctx, s.userKey(userID, "backup")).Err(); err != nil {
		return failed("DeleteBackupCode", err)
	}
	return nil
}
