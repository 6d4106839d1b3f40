// Package memstore is an in-memory [twofactor.Store], the reference
// implementation of the store contract.
//
// It suits tests, examples and a login service that runs as a single
// process. Its records live as long as the process: a restart loses every
// enrollment, lockout and trusted device. A deployment of several instances
// needs a shared store such as postgresstore or redisstore.
//
// Records are spread over 64 shards, each with its own mutex, so that
// logins of different users rarely wait for one another. A challenge whose
// ID [Store.NewChallengeID] formed lives in its user's shard, so that a
// submission takes one lock. Reads treat
// expired records as absent; [Store.DeleteExpired] frees their memory and
// [Store.RunCleanup] calls it on a timer.
package memstore
