package redisstore

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twofactor-go/twofactor"
)

// DefaultPrefix is the key prefix of a Store made without [WithPrefix].
const DefaultPrefix = "twofactor"

// DefaultExpiryGrace is how long an expiring key outlives its ExpiresAt
// when [WithExpiryGrace] is not given.
const DefaultExpiryGrace = 5 * time.Minute

// Store is a [twofactor.Store] on Redis. It is safe for concurrent use, and
// any number of Stores, in one process or in many, may share one Redis
// deployment under the same prefix.
type Store struct {
	client redis.UniversalClient
	prefix string
	grace  time.Duration
}

// Option changes a setting of [New].
type Option func(*Store)

// WithPrefix sets the prefix of every key the Store reads or writes. Stores
// with different prefixes share nothing. The prefix must not be empty and
// must not contain '{' or '}', which would change the Redis Cluster hash
// tags of the keys.
func WithPrefix(prefix string) Option {
	return func(s *Store) { s.prefix = prefix }
}

// WithExpiryGrace sets how long set-ups, challenges, backup codes and
// devices stay in Redis after their ExpiresAt, measured on the clock of the
// process that writes them. It covers the difference between that clock and
// the now that other instances pass to the Store. It must be at least one
// second.
func WithExpiryGrace(d time.Duration) Option {
	return func(s *Store) { s.grace = d }
}

// New returns a Store on client, which may be a *redis.Client, a failover
// client or a *redis.ClusterClient. The Store does not close the client.
func New(client redis.UniversalClient, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("twofactor/redisstore: client is nil; pass a client from redis.NewClient or redis.NewUniversalClient")
	}
	s := &Store{client: client, prefix: DefaultPrefix, grace: DefaultExpiryGrace}
	for _, opt := range opts {
		opt(s)
	}
	if s.prefix == "" || strings.ContainsAny(s.prefix, "{}") {
		return nil, fmt.Errorf("twofactor/redisstore: key prefix %q is empty or contains '{' or '}'; use a plain name such as %q", s.prefix, DefaultPrefix)
	}
	if s.grace < time.Second {
		return nil, fmt.Errorf("twofactor/redisstore: expiry grace is %v; use at least one second", s.grace)
	}
	return s, nil
}

var (
	_ twofactor.Store            = (*Store)(nil)
	_ twofactor.ChallengeIDMaker = (*Store)(nil)
)

// encodeID returns id in unpadded base64url, whose alphabet has no '{',
// '}', ':' or glob character, so that an ID can neither end a hash tag nor
// run into the next part of a key.
func encodeID(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(id))
}

// userKey returns the key of one record of the user. Every key of a user
// carries the hash tag {u:<encoded ID>} and so falls in one cluster slot.
func (s *Store) userKey(userID, kind string) string {
	return s.prefix + ":{u:" + encodeID(userID) + "}:" + kind
}

// NewChallengeID implements [twofactor.ChallengeIDMaker]. The ID is the
// random bytes in hex, a dot and the user ID in unpadded base64url, so
// that the challenge's key carries the user's hash tag. A submission then
// reaches the challenge and the user's records in one script, which on
// Redis Cluster must keep to one slot. The ID thus shows the user ID to the
// host and to anyone who reads its sessions.
func (s *Store) NewChallengeID(userID string, random []byte) string {
	return hex.EncodeToString(random) + "." + encodeID(userID)
}

// challengeKey returns the key of the challenge with the ID, which carries
// the hash tag of the user whose ID the challenge ID holds, and that user
// ID. It returns false for an ID that NewChallengeID did not form.
func (s *Store) challengeKey(id string) (key, userID string, ok bool) {
	dot := strings.LastIndexByte(id, '.')
	if dot <= 0 {
		return "", "", false
	}
	user, err := base64.RawURLEncoding.Strict().DecodeString(id[dot+1:])
	if err != nil || len(user) == 0 {
		return "", "", false
	}
	userID = string(user)
	return s.userKey(userID, "challenge:"+encodeID(id[:dot])), userID, true
}

// indexKey returns the key of the sorted set of enrolled user IDs.
func (s *Store) indexKey() string {
	return s.prefix + ":enrollments"
}

// ttl returns the Redis TTL of a record that expires at expiresAt: the time
// left until then by this process's wall clock, or zero if it has passed,
// plus the grace. It ignores the callers' now, which may be a fixed or
// simulated clock.
func (s *Store) ttl(expiresAt time.Time) time.Duration {
	return expiryTTL(expiresAt, time.Now(), s.grace)
}

// maxTTL bounds the TTL of a record, so that adding the grace cannot
// overflow time.Duration. A record that expires later still expires at its
// ExpiresAt for every read, which checks the time itself.
const maxTTL = 100 * 365 * 24 * time.Hour

func expiryTTL(expiresAt, wallNow time.Time, grace time.Duration) time.Duration {
	left := min(max(expiresAt.Sub(wallNow), 0), maxTTL)
	return left + grace
}

// milliseconds returns d in whole milliseconds, rounded up, for PEXPIRE.
func milliseconds(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// micros returns t as Unix microseconds, the form of every stored time.
func micros(t time.Time) int64 {
	return t.UnixMicro()
}

// failed wraps a Redis or decoding error of the operation op.
func failed(op string, err error) error {
	return fmt.Errorf("twofactor/redisstore: %s failed: %w", op, err)
}

// runScript runs sc with EVALSHA, falling back to EVAL when the server has
// not cached it, and returns the reply.
func (s *Store) runScript(ctx context.Context, sc *redis.Script, keys []string, args ...any) (any, error) {
	return sc.Run(ctx, s.client, keys, args...).Result()
}

// runStatus runs a script that returns an integer status.
func (s *Store) runStatus(ctx context.Context, sc *redis.Script, keys []string, args ...any) (int64, error) {
	return sc.Run(ctx, s.client, keys, args...).Int64()
}

// runRecord runs a script that returns {1, field, value, ...} when it
// found the record and {0} when it did not, and returns the fields.
func (s *Store) runRecord(ctx context.Context, sc *redis.Script, keys []string, args ...any) (record, bool, error) {
	reply, err := s.runScript(ctx, sc, keys, args...)
	if err != nil {
		return nil, false, err
	}
	return parseRecordReply(reply)
}

func errUnexpectedReply(reply any) error {
	return fmt.Errorf("unexpected script reply %v of type %T", reply, reply)
}
