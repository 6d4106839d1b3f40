package redisstore

import (
	"cmp"
	"context"
	"encoding/hex"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twofactor-go/twofactor"
)

// deviceMember returns the device index member of a token hash.
func deviceMember(hash []byte) string {
	return hex.EncodeToString(hash)
}

// deviceKey returns the key of the user's device with the index member.
func (s *Store) deviceKey(userID, member string) string {
	return s.userKey(userID, "device:"+member)
}

// PutDevice implements [twofactor.DeviceStore]. It also drops index
// members that expired at or before the new device's CreatedAt less the
// expiry grace, so that a writer whose clock runs ahead by less than the
// grace revokes no device that other callers still see as unexpired.
func (s *Store) PutDevice(ctx context.Context, d twofactor.Device) error {
	member := deviceMember(d.TokenHash)
	keys := []string{s.deviceKey(d.UserID, member), s.userKey(d.UserID, "devices")}
	args := []any{milliseconds(s.ttl(d.ExpiresAt)), member, micros(d.ExpiresAt), micros(d.CreatedAt.Add(-s.grace))}
	args = append(args, encodeDevice(d)...)
	if _, err := s.runStatus(ctx, putDeviceScript, keys, args...); err != nil {
		return failed("PutDevice", err)
	}
	return nil
}

// UseDevice implements [twofactor.DeviceStore]. A device counts only while
// its member is in the user's device index.
func (s *Store) UseDevice(ctx context.Context, userID string, hash []byte, now time.Time) (twofactor.Device, error) {
	member := deviceMember(hash)
	keys := []string{s.deviceKey(userID, member), s.userKey(userID, "devices")}
	r, found, err := s.runRecord(ctx, useDeviceScript, keys, member, micros(now))
	if err != nil {
		return twofactor.Device{}, failed("UseDevice", err)
	}
	if !found {
		return twofactor.Device{}, twofactor.ErrNotFound
	}
	d, err := decodeDevice(userID, r)
	if err != nil {
		return twofactor.Device{}, failed("UseDevice", err)
	}
	return d, nil
}

// ListDevices implements [twofactor.DeviceStore]. It first drops index
// members that expired at or before now less the expiry grace, which
// covers callers whose clock runs behind this one's.
func (s *Store) ListDevices(ctx context.Context, userID string, now time.Time) ([]twofactor.Device, error) {
	index := s.userKey(userID, "devices")
	pipe := s.client.Pipeline()
	pipe.ZRemRangeByScore(ctx, index, "-inf", formatInt(micros(now.Add(-s.grace))))
	members := pipe.ZRange(ctx, index, 0, -1)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, failed("ListDevices", err)
	}
	devices, err := s.readDevices(ctx, userID, members.Val())
	if err != nil {
		return nil, failed("ListDevices", err)
	}
	devices = slices.DeleteFunc(devices, func(d twofactor.Device) bool { return !now.Before(d.ExpiresAt) })
	slices.SortFunc(devices, func(a, b twofactor.Device) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return devices, nil
}

// readDevices reads the user's devices with the index members in one round
// trip, leaving out those whose key has expired.
func (s *Store) readDevices(ctx context.Context, userID string, members []string) ([]twofactor.Device, error) {
	if len(members) == 0 {
		return nil, nil
	}
	pipe := s.client.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(members))
	for i, m := range members {
		cmds[i] = pipe.HGetAll(ctx, s.deviceKey(userID, m))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	var out []twofactor.Device
	for _, cmd := range cmds {
		if len(cmd.Val()) == 0 {
			continue
		}
		d, err := decodeDevice(userID, cmd.Val())
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// DeleteDevice implements [twofactor.DeviceStore]. It removes the matching
// devices from the index, which revokes them, and deletes their keys.
func (s *Store) DeleteDevice(ctx context.Context, userID, id string) error {
	members, err := s.membersWithID(ctx, userID, id)
	if err != nil {
		return failed("DeleteDevice", err)
	}
	if len(members) == 0 {
		return nil
	}

	toRemove := make([]any, len(members))
	keys := make([]string, len(members))
	for i, m := range members {
		toRemove[i] = m
		keys[i] = s.deviceKey(userID, m)
	}
	pipe := s.client.Pipeline()
	pipe.ZRem(ctx, s.userKey(userID, "devices"), toRemove...)
	pipe.Del(ctx, keys...)
	if _, err := pipe.Exec(ctx); err != nil {
		return failed("DeleteDevice", err)
	}
	return nil
}

// membersWithID returns the index members of the user's devices whose ID
// is id, reading the index and then the IDs of its devices.
func (s *Store) membersWithID(ctx context.Context, userID, id string) ([]string, error) {
	members, err := s.client.ZRange(ctx, s.userKey(userID, "devices"), 0, -1).Result()
	if err != nil || len(members) == 0 {
		return nil, err
	}

	pipe := s.client.Pipeline()
	ids := make([]*redis.SliceCmd, len(members))
	for i, m := range members {
		ids[i] = pipe.HMGet(ctx, s.deviceKey(userID, m), "id")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}

	var matched []string
	for i, m := range members {
		// The ID of a member whose key has expired is nil.
		if got, ok := ids[i].Val()[0].(string); ok && got == id {
			matched = append(matched, m)
		}
	}
	return matched, nil
}

// DeleteDevices implements [twofactor.DeviceStore]. Deleting the index
// revokes every device of the user at once. That includes a device that
// PutDevice adds between the read of the index and its deletion, whose key
// then stays until its TTL ends but is never used.
func (s *Store) DeleteDevices(ctx context.Context, userID string) error {
	index := s.userKey(userID, "devices")
	members, err := s.client.ZRange(ctx, index, 0, -1).Result()
	if err != nil {
		return failed("DeleteDevices", err)
	}
	keys := []string{index}
	for _, m := range members {
		keys = append(keys, s.deviceKey(userID, m))
	}
	if err := s.client.Del(ctx, keys...).Err(); err != nil {
		return failed("DeleteDevices", err)
	}
	return nil
}
