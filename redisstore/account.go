package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/twofactor-go/twofactor"
)

// ReserveAttempt implements [twofactor.AttemptStore]. One script reads the
// challenge and the user's records, takes the attempt when the challenge
// may take one, judges it by the verdict, and returns the records.
func (s *Store) ReserveAttempt(ctx context.Context, challengeID string, max int, now time.Time, v twofactor.Verdict) (twofactor.Attempt, error) {
	key, userID, ok := s.challengeKey(challengeID)
	if !ok {
		return twofactor.Attempt{}, twofactor.ErrNotFound
	}
	keys := []string{key, s.userKey(userID, "enrollment"), s.userKey(userID, "account"), s.userKey(userID, "backup")}
	kind, value := "", []byte(nil)
	switch {
	case v.BackupHash != nil:
		kind, value = "backup", v.BackupHash
	case v.Secret != nil:
		kind, value = "app", v.Secret
	}
	reply, err := s.runScript(ctx, reserveScript, keys, max, micros(now), uint8(twofactor.StateCodePending), userID,
		uint8(twofactor.StateSucceeded), kind, value, boolString(v.Matched), v.Step)
	if err != nil {
		return twofactor.Attempt{}, failed("ReserveAttempt", err)
	}
	r, err := parseReserveReply(reply)
	if err != nil {
		return twofactor.Attempt{}, failed("ReserveAttempt", err)
	}
	if !r.found {
		return twofactor.Attempt{}, twofactor.ErrNotFound
	}
	a := twofactor.Attempt{Reserved: r.reserved, Judged: r.judged, Accepted: r.accepted}
	if a.Challenge, err = decodeChallenge(challengeID, r.challenge); err != nil {
		return twofactor.Attempt{}, failed("ReserveAttempt", err)
	}
	if a.Account, err = decodeAccount(r.account); err != nil {
		return twofactor.Attempt{}, failed("ReserveAttempt", err)
	}
	if len(r.enrollment) > 0 {
		if a.Enrollment, err = decodeEnrollment(userID, r.enrollment); err != nil {
			return twofactor.Attempt{}, failed("ReserveAttempt", err)
		}
	}
	return a, nil
}

// ReleaseAttempt implements [twofactor.AttemptStore].
func (s *Store) ReleaseAttempt(ctx context.Context, userID string) error {
	if _, err := s.runStatus(ctx, releaseScript, []string{s.userKey(userID, "account")}); err != nil {
		return failed("ReleaseAttempt", err)
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

// reserveReply is a parsed reply of reserveScript. The records are empty
// when the challenge was not found, and the enrollment also when the user
// is not enrolled.
type reserveReply struct {
	found                      bool
	reserved, judged, accepted bool
	challenge                  record
	account                    record
	enrollment                 record
}

// parseReserveReply reads a reply of reserveScript: {0} for a missing
// challenge, or {1, reserved, judged, accepted, challenge, account,
// enrollment}, where the flags are 0 or 1 and each record is a flat list
// of fields and values. Its errors leave out the field values, which
// include the sealed secret.
func parseReserveReply(reply any) (reserveReply, error) {
	items, ok := reply.([]any)
	if !ok || len(items) == 0 {
		return reserveReply{}, fmt.Errorf("unexpected script reply %T", reply)
	}
	if found, ok := items[0].(int64); ok && found == 0 && len(items) == 1 {
		return reserveReply{}, nil
	}
	if found, ok := items[0].(int64); !ok || found != 1 || len(items) != 7 {
		return reserveReply{}, fmt.Errorf("unexpected script reply of %d items starting with %T", len(items), items[0])
	}
	var flags [3]bool
	for i, item := range items[1:4] {
		flag, ok := item.(int64)
		if !ok || (flag != 0 && flag != 1) {
			return reserveReply{}, fmt.Errorf("unexpected flag %T in script reply", item)
		}
		flags[i] = flag == 1
	}
	var records [3]record
	for i, item := range items[4:] {
		fields, ok := item.([]any)
		if !ok {
			return reserveReply{}, fmt.Errorf("unexpected record %T in script reply", item)
		}
		r, err := parseFields(fields)
		if err != nil {
			return reserveReply{}, err
		}
		records[i] = r
	}
	return reserveReply{
		found:      true,
		reserved:   flags[0],
		judged:     flags[1],
		accepted:   flags[2],
		challenge:  records[0],
		account:    records[1],
		enrollment: records[2],
	}, nil
}
