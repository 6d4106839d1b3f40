// Package redisstore is a [twofactor.Store] on Redis, for a login service
// that runs as several processes sharing one Redis deployment. It uses
// github.com/redis/go-redis/v9 and takes a client for a single server, a
// Sentinel-managed primary or Redis Cluster. Its tests run on a Redis 7.0
// server and, when configured, on a Redis 7.0 cluster.
//
// # Construction
//
// Pass any [redis.UniversalClient]; the Store does not close it:
//
//	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	store, err := redisstore.New(client, redisstore.WithPrefix("myapp-2fa"))
//	if err != nil {
//		return err
//	}
//	m, err := twofactor.New(twofactor.Config{Store: store, Issuer: "My App", Keys: keys})
//
// # Key layout
//
// Every key starts with the prefix, "twofactor" unless [WithPrefix] sets
// another. In the list below, <uid> is the user ID in unpadded base64url,
// so that no ID can contain '{', '}' or ':', and <cid> the random part of a
// challenge ID, likewise encoded. <hash> is a device token hash in
// lower-case hex.
//
//	<prefix>:{u:<uid>}:enrollment      hash: secret alg digits period last_step confirmed
//	<prefix>:{u:<uid>}:setup           hash: id secret alg digits period expires
//	<prefix>:{u:<uid>}:account         hash: failures generation unlocked reset
//	<prefix>:{u:<uid>}:backup          hash: hash issued_by created expires
//	<prefix>:{u:<uid>}:device:<hash>   hash: id hash label created last_used expires
//	<prefix>:{u:<uid>}:devices         sorted set: member <hash>, score expires
//	<prefix>:{u:<uid>}:challenge:<cid> hash: user role state trust generation created deadline expires
//	<prefix>:enrollments               sorted set: member user ID, score 0
//
// The part in braces is a Redis Cluster hash tag, so all keys of one user,
// and the user's challenges, share a slot. A challenge ID, which
// [Store.NewChallengeID] forms, is the random part in hex, a dot and <uid>,
// so that the Store finds the challenge's slot from its ID. Times are Unix
// microseconds in decimal. Algorithms, roles and states are their numeric
// values, booleans are "0" or "1", and secrets and hashes are raw bytes.
//
// The devices sorted set is the list of the user's trusted devices: a
// device key whose member is not in it is revoked, whatever its fields
// contain.
// The enrollments sorted set orders user IDs byte-wise for
// [Store.ListEnrollments], because Redis sorts members of equal score by
// their bytes.
//
// # Atomicity
//
// Every atomic operation of the store contract is one Lua script, run with
// EVALSHA and, when the server has not cached it, EVAL. Redis runs a
// script without interleaving other commands. Every key a script touches
// is passed in KEYS and the keys share a hash tag, so the scripts also run
// on Redis Cluster. Each atomic operation is one round trip, except that
// [Store.ConfirmSetup] adds the user to the enrollments set with a second
// command, because that set is in another slot. [Store.DeleteEnrollment]
// and [Store.ListEnrollments] remove users from that set and then check
// the enrollment again, so that a concurrent confirmation is not left out
// of it. Only a failure of ConfirmSetup's second command, which it returns
// as an error, leaves an enrollment out of the set.
//
// The scripts that judge a code submission each work on the challenge and
// several keys of its user. [Store.ReserveAttempt] checks the challenge and
// the enrollment, counts the attempt, judges the library's verdict when it
// has one, and returns the challenge, the account and the enrollment.
// [Store.ReserveAttempt] for a right verdict, [Store.AcceptStep] and
// [Store.ConsumeBackupCode] clear the failure count and close the
// challenge in the script that accepts the code, and write no account key
// for a user who has none. A submission thus takes one round trip when the
// library passes a verdict, and otherwise two for a right app code or a
// backup code.
//
// # Expiry
//
// Set-ups, challenges, backup codes and devices get a Redis TTL: the time
// from the writing process's wall clock to their ExpiresAt, or zero if
// ExpiresAt has passed, at most 100 years, plus a grace period of
// [DefaultExpiryGrace] that [WithExpiryGrace] changes. The TTL is
// relative, so it does not depend on the Redis server's clock. The grace covers callers whose clock differs
// from the writer's, and keeps a record written with an ExpiresAt in the
// past, as by tests with a fixed clock, for the grace period instead of
// deleting it at once. The TTL only frees memory: scripts and reads
// compare ExpiresAt with the now that the caller passes.
//
// [Store.PutDevice] removes from the devices set the members that expired
// at or before the new device's CreatedAt, and [Store.ListDevices] those
// that expired at or before its now, each less the grace period, so the
// set does not grow without bound and clocks that differ by less than the
// grace revoke no device early. The set's TTL is at least that of its newest device.
//
// Enrollments, accounts and the enrollments set have no TTL. Run Redis
// with maxmemory-policy noeviction or a volatile-* policy: an allkeys-*
// policy may evict an account and so clear a lockout.
package redisstore
