package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/twofactor-go/twofactor"
)

// ReserveAttempt implements [twofactor.AttemptStore]. One script checks the
// enrollment, counts the attempt and reads both records back.
func (s *Store) ReserveAttempt(ctx context.Context, userID string, max int) (twofactor.Account, twofactor.Enrollment, error) {
	keys := []string{s.userKey(userID, "enrollment"), s.userKey(userID, "account")}
	reply, err := s.runScript(ctx, reserveScript, keys, max)
	if err != nil {
		return twofactor.Account{}, twofactor.Enrollment{}, failed("ReserveAttempt", err)
	}
	r, err := parseReserveReply(reply)
	if err != nil {
		return twofactor.Account{}, twofactor.Enrollment{}, failed("ReserveAttempt", err)
	}
	if r.status == reserveNotEnrolled {
		return twofactor.Account{}, twofactor.Enrollment{}, twofactor.ErrNotFound
	}
	a, err := decodeAccount(r.account)
	if err != nil {
		return twofactor.Account{}, twofactor.Enrollment{}, failed("ReserveAttempt", err)
	}
	if r.status == reserveAtLimit {
		return a, twofactor.Enrollment{}, twofactor.ErrAttemptLimit
	}
	e, err := decodeEnrollment(userID, r.enrollment)
	if err != nil {
		return twofactor.Account{}, twofactor.Enrollment{}, failed("ReserveAttempt", err)
	}
	return a, e, nil
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

// Statuses in the first item of a reserveScript reply.
const (
	reserveNotEnrolled = 0
	reserveAtLimit     = 1
	reserveCounted     = 2
)

// reserveReply is a parsed reply of reserveScript. The account is nil for
// reserveNotEnrolled, and the enrollment is nil unless the status is
// reserveCounted.
type reserveReply struct {
	status     int64
	account    record
	enrollment record
}

// parseReserveReply reads a reply of reserveScript: {0}, {1, account} or
// {2, account, enrollment}, where each record is a flat list of fields and
// values. Its errors leave out the field values, which include the sealed
// secret.
func parseReserveReply(reply any) (reserveReply, error) {
	items, ok := reply.([]any)
	if !ok || len(items) == 0 {
		return reserveReply{}, fmt.Errorf("unexpected script reply %T", reply)
	}
	status, ok := items[0].(int64)
	if !ok || status < reserveNotEnrolled || status > reserveCounted {
		return reserveReply{}, fmt.Errorf("unexpected script status %v of type %T", items[0], items[0])
	}
	if len(items) != int(status)+1 {
		return reserveReply{}, fmt.Errorf("script reply with status %d has %d items, want %d", status, len(items), status+1)
	}
	records := make([]record, len(items)-1)
	for i, item := range items[1:] {
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
	r := reserveReply{status: status}
	if status >= reserveAtLimit {
		r.account = records[0]
	}
	if status == reserveCounted {
		r.enrollment = records[1]
	}
	return r, nil
}
