package redisstore

import (
	"context"
	"time"

	"github.com/twofactor-go/twofactor"
)

// ReserveAttempt implements [twofactor.AttemptStore].
func (s *Store) ReserveAttempt(ctx context.Context, userID string, max int) (int, error) {
	reply, err := s.runScript(ctx, reserveScript, []string{s.userKey(userID, "account")}, max)
	if err != nil {
		return 0, failed("ReserveAttempt", err)
	}
	items, ok := reply.([]any)
	if !ok || len(items) != 2 {
		return 0, failed("ReserveAttempt", errUnexpectedReply(reply))
	}
	failures, ok1 := items[0].(int64)
	counted, ok2 := items[1].(int64)
	if !ok1 || !ok2 {
		return 0, failed("ReserveAttempt", errUnexpectedReply(reply))
	}
	if counted == 0 {
		return int(failures), twofactor.ErrAttemptLimit
	}
	return int(failures), nil
}

// ReleaseAttempt implements [twofactor.AttemptStore].
func (s *Store) ReleaseAttempt(ctx context.Context, userID string) error {
	if _, err := s.runStatus(ctx, releaseScript, []string{s.userKey(userID, "account")}); err != nil {
		return failed("ReleaseAttempt", err)
	}
	return nil
}

// ClearFailures implements [twofactor.AttemptStore]. It writes nothing for
// a user without an account record.
func (s *Store) ClearFailures(ctx context.Context, userID string) error {
	_, err := s.runStatus(ctx, setIfExistsScript, []string{s.userKey(userID, "account")}, "failures", 0)
	if err != nil {
		return failed("ClearFailures", err)
	}
	return nil
}

// GetAccount implements [twofactor.AttemptStore].
func (s *Store) GetAccount(ctx context.Context, userID string) (twofactor.Account, error) {
	r, err := s.client.HGetAll(ctx, s.userKey(userID, "account")).Result()
	if err != nil {
		return twofactor.Account{}, failed("GetAccount", err)
	}
	a, err := decodeAccount(r)
	if err != nil {
		return twofactor.Account{}, failed("GetAccount", err)
	}
	return a, nil
}

// Unlock implements [twofactor.AttemptStore].
func (s *Store) Unlock(ctx context.Context, userID string, now time.Time, resetRequired bool) error {
	keys := []string{s.userKey(userID, "account")}
	if _, err := s.runStatus(ctx, unlockScript, keys, micros(now), boolString(resetRequired)); err != nil {
		return failed("Unlock", err)
	}
	return nil
}

// ClearResetRequired implements [twofactor.AttemptStore]. It writes nothing
// for a user without an account record.
func (s *Store) ClearResetRequired(ctx context.Context, userID string) error {
	_, err := s.runStatus(ctx, setIfExistsScript, []string{s.userKey(userID, "account")}, "reset", "0")
	if err != nil {
		return failed("ClearResetRequired", err)
	}
	return nil
}
