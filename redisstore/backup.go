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
// When it deletes the code it also clears the failure count, creating no
// account record for a user without one, and closes the challenge.
func (s *Store) ConsumeBackupCode(ctx context.Context, challengeID, userID string, hash []byte, now time.Time) (twofactor.BackupCode, error) {
	key, owner, ok := s.challengeKey(challengeID)
	if !ok || owner != userID {
		return twofactor.BackupCode{}, twofactor.ErrNotFound
	}
	keys := []string{key, s.userKey(userID, "backup"), s.userKey(userID, "account")}
	reply, err := s.runScript(ctx, consumeBackupScript, keys, hash, micros(now), userID,
		uint8(twofactor.StateCodePending), uint8(twofactor.StateSucceeded))
	if err != nil {
		return twofactor.BackupCode{}, failed("ConsumeBackupCode", err)
	}
	if isConflictReply(reply) {
		return twofactor.BackupCode{}, twofactor.ErrConflict
	}
	r, found, err := parseRecordReply(reply)
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

// isConflictReply reports whether a script reply is {-1}.
func isConflictReply(reply any) bool {
	items, ok := reply.([]any)
	if !ok || len(items) != 1 {
		return false
	}
	status, ok := items[0].(int64)
	return ok && status == -1
}

// DeleteBackupCode implements [twofactor.BackupCodeStore].
func (s *Store) DeleteBackupCode(ctx context.Context, userID string) error {
	if err := s.client.Del(ctx, s.userKey(userID, "backup")).Err(); err != nil {
		return failed("DeleteBackupCode", err)
	}
	return nil
}
