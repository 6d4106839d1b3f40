package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twofactor-go/twofactor"
)

// GetEnrollment implements [twofactor.EnrollmentStore].
func (s *Store) GetEnrollment(ctx context.Context, userID string) (twofactor.Enrollment, error) {
	r, err := s.client.HGetAll(ctx, s.userKey(userID, "enrollment")).Result()
	if err != nil {
		return twofactor.Enrollment{}, failed("GetEnrollment", err)
	}
	if len(r) == 0 {
		return twofactor.Enrollment{}, twofactor.ErrNotFound
	}
	e, err := decodeEnrollment(userID, r)
	if err != nil {
		return twofactor.Enrollment{}, failed("GetEnrollment", err)
	}
	return e, nil
}

// PutSetup implements [twofactor.EnrollmentStore].
func (s *Store) PutSetup(ctx context.Context, setup twofactor.Setup) error {
	args := append([]any{"0", milliseconds(s.ttl(setup.ExpiresAt))}, encodeSetup(setup)...)
	if _, err := s.runStatus(ctx, putScript, []string{s.userKey(setup.UserID, "setup")}, args...); err != nil {
		return failed("PutSetup", err)
	}
	return nil
}

// GetSetup implements [twofactor.EnrollmentStore].
func (s *Store) GetSetup(ctx context.Context, userID string, now time.Time) (twofactor.Setup, error) {
	r, err := s.client.HGetAll(ctx, s.userKey(userID, "setup")).Result()
	if err != nil {
		return twofactor.Setup{}, failed("GetSetup", err)
	}
	if len(r) == 0 {
		return twofactor.Setup{}, twofactor.ErrNotFound
	}
	setup, err := decodeSetup(userID, r)
	if err != nil {
		return twofactor.Setup{}, failed("GetSetup", err)
	}
	if !now.Before(setup.ExpiresAt) {
		return twofactor.Setup{}, twofactor.ErrNotFound
	}
	return setup, nil
}

// ConfirmSetup implements [twofactor.EnrollmentStore]. The confirmation is
// one script on the user's keys. The user is then added to the enrollment
// index with a second command, because the index is a key of its own and
// may sit on another cluster node.
func (s *Store) ConfirmSetup(ctx context.Context, userID, setupID string, step int64, now time.Time) (twofactor.Enrollment, error) {
	keys := []string{s.userKey(userID, "setup"), s.userKey(userID, "enrollment")}
	r, found, err := s.runRecord(ctx, confirmScript, keys, setupID, step, micros(now))
	if err != nil {
		return twofactor.Enrollment{}, failed("ConfirmSetup", err)
	}
	if !found {
		return twofactor.Enrollment{}, twofactor.ErrNotFound
	}
	e, err := decodeEnrollment(userID, r)
	if err != nil {
		return twofactor.Enrollment{}, failed("ConfirmSetup", err)
	}
	// NOTE: if this command fails, the enrollment exists but is missing
	// from the index, so ListEnrollments skips it until the user confirms
	// a set-up again. The caller gets the error.
	if err := s.client.ZAdd(ctx, s.indexKey(), redis.Z{Member: userID}).Err(); err != nil {
		return twofactor.Enrollment{}, failed("ConfirmSetup", fmt.Errorf("adding the user to the enrollment index: %w", err))
	}
	return e, nil
}

// DeleteEnrollment implements [twofactor.EnrollmentStore].
func (s *Store) DeleteEnrollment(ctx context.Context, userID string) error {
	err := s.client.Del(ctx, s.userKey(userID, "enrollment"), s.userKey(userID, "setup")).Err()
	if err != nil {
		return failed("DeleteEnrollment", err)
	}
	if err := s.unindex(ctx, []string{userID}); err != nil {
		return failed("DeleteEnrollment", err)
	}
	return nil
}

// unindex removes users whose enrollment is gone from the enrollment index.
// A ConfirmSetup may run at the same time, so after removing them it checks
// again and puts back every user whose enrollment exists. ConfirmSetup adds
// its user after writing the enrollment, so in every interleaving either
// that add or this check comes last and finds the enrollment.
func (s *Store) unindex(ctx context.Context, userIDs []string) error {
	members := make([]any, len(userIDs))
	for i, id := range userIDs {
		members[i] = id
	}
	if err := s.client.ZRem(ctx, s.indexKey(), members...).Err(); err != nil {
		return err
	}
	pipe := s.client.Pipeline()
	exists := make([]*redis.IntCmd, len(userIDs))
	for i, id := range userIDs {
		exists[i] = pipe.Exists(ctx, s.userKey(id, "enrollment"))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	var back []redis.Z
	for i, id := range userIDs {
		if exists[i].Val() > 0 {
			back = append(back, redis.Z{Member: id})
		}
	}
	if len(back) == 0 {
		return nil
	}
	return s.client.ZAdd(ctx, s.indexKey(), back...).Err()
}

// AcceptStep implements [twofactor.EnrollmentStore]. The script that
// records the step also clears the failure count and closes the challenge,
// and creates no account record for a user without one.
func (s *Store) AcceptStep(ctx context.Context, challengeID, userID string, step int64) error {
	key, owner, ok := s.challengeKey(challengeID)
	if !ok || owner != userID {
		return twofactor.ErrNotFound
	}
	keys := []string{key, s.userKey(userID, "enrollment"), s.userKey(userID, "account")}
	status, err := s.runStatus(ctx, acceptStepScript, keys, step, userID,
		uint8(twofactor.StateCodePending), uint8(twofactor.StateSucceeded))
	if err != nil {
		return failed("AcceptStep", err)
	}
	switch status {
	case -1:
		return twofactor.ErrNotFound
	case -2:
		return twofactor.ErrConflict
	case 0:
		return twofactor.ErrStepUsed
	}
	return nil
}

// ListEnrollments implements [twofactor.EnrollmentStore]. It pages through
// the enrollment index, a sorted set whose members all have score 0, so
// that Redis orders them byte-wise. Members whose enrollment is gone are
// skipped and removed from the index.
func (s *Store) ListEnrollments(ctx context.Context, after string, limit int) ([]twofactor.Enrollment, error) {
	var out []twofactor.Enrollment
	for len(out) < limit {
		want := limit - len(out)
		ids, err := s.client.ZRangeByLex(ctx, s.indexKey(), &redis.ZRangeBy{
			Min:   lexAfter(after),
			Max:   "+",
			Count: int64(want),
		}).Result()
		if err != nil {
			return nil, failed("ListEnrollments", err)
		}
		page, err := s.getEnrollments(ctx, ids)
		if err != nil {
			return nil, failed("ListEnrollments", err)
		}
		out = append(out, page...)
		if len(ids) < want {
			break
		}
		after = ids[len(ids)-1]
	}
	return out, nil
}

// lexAfter returns the ZRANGEBYLEX bound of the members after id.
func lexAfter(id string) string {
	if id == "" {
		return "-"
	}
	return "(" + id
}

// getEnrollments reads the enrollments of the users in one round trip,
// leaving out and unindexing users who have none.
func (s *Store) getEnrollments(ctx context.Context, userIDs []string) ([]twofactor.Enrollment, error) {
	pipe := s.client.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(userIDs))
	for i, id := range userIDs {
		cmds[i] = pipe.HGetAll(ctx, s.userKey(id, "enrollment"))
	}
	if len(userIDs) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, err
		}
	}
	var out []twofactor.Enrollment
	var missing []string
	for i, id := range userIDs {
		if len(cmds[i].Val()) == 0 {
			missing = append(missing, id)
			continue
		}
		e, err := decodeEnrollment(id, cmds[i].Val())
		if err != nil {
			return nil, fmt.Errorf("enrollment of user %q: %w", id, err)
		}
		out = append(out, e)
	}
	if len(missing) > 0 {
		if err := s.unindex(ctx, missing); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ReplaceSecret implements [twofactor.EnrollmentStore].
func (s *Store) ReplaceSecret(ctx context.Context, userID string, oldSecret, newSecret []byte) error {
	status, err := s.runStatus(ctx, replaceSecretScript, []string{s.userKey(userID, "enrollment")}, oldSecret, newSecret)
	if err != nil {
		return failed("ReplaceSecret", err)
	}
	switch status {
	case -1:
		return twofactor.ErrNotFound
	case 0:
		return twofactor.ErrConflict
	}
	return nil
}

// formatInt returns n in decimal, the form of scores and times in commands.
func formatInt(n int64) string {
	return strconv.FormatInt(n, 10)
}
