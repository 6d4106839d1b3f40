// Package postgresstore is a [twofactor.Store] in PostgreSQL, for a login
// service that runs as several instances or must keep its records across
// restarts. It is a module of its own, so that the twofactor module
// pulls in no database driver. It uses pgx v5 through a [pgxpool.Pool]
// that the host opens and closes.
//
// # Construction
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	...
//	store := postgresstore.New(pool) // or New(pool, WithSchema("auth"))
//	if err := store.Migrate(ctx); err != nil { ... }
//	go store.RunCleanup(ctx, 10*time.Minute, logger)
//	m, err := twofactor.New(twofactor.Config{Store: store, ...})
//
// # Data layout
//
// Six tables live in one schema, "twofactor" unless [WithSchema] names
// another: enrollments, setups, accounts and backup_codes keyed by user
// ID, challenges keyed by challenge ID, and devices keyed by user ID and
// token hash, with the device ID unique per user. Times are timestamptz,
// which keeps microseconds, and are returned in UTC. Sealed secrets, token
// hashes and backup code hashes are bytea. [Store.Migrate] creates what is
// missing; README.md has the same SQL for applying it by hand.
//
// # Atomicity
//
// Every method of [twofactor.Store] but DeleteEnrollment runs one SQL
// statement, so one round trip, and opens no transaction. A submission
// thus costs one round trip, ReserveAttempt, when the library passes a
// verdict, and otherwise two for a right app code or a backup code, with
// AcceptStep or ConsumeBackupCode. DeleteEnrollment deletes the set-up and
// then the enrollment in one transaction, which takes the row locks in the
// order ConfirmSetup takes them. The operations that the contract names
// atomic are writes that PostgreSQL serializes with row locks: an INSERT
// ... ON CONFLICT DO UPDATE for ReserveAttempt, with a WHERE on the count
// and the generation, and for Unlock; an UPDATE ... WHERE for
// ReleaseAttempt, UpdateChallenge, ReplaceSecret and UseDevice; and a
// data-modifying WITH that deletes the set-up and upserts the enrollment
// for ConfirmSetup.
//
// Some statements span several tables, and commit as one because each
// statement runs in a transaction of its own. ReserveAttempt locks the
// challenge, the enrollment and, for a backup code, the backup code, and
// writes the account only when the challenge and the enrollment allow it.
// For a verdict it judges right, it also records the step or deletes the
// backup code, and closes the challenge. AcceptStep and ConsumeBackupCode
// lock the challenge together with the enrollment or the backup code with
// SELECT ... FOR NO KEY UPDATE, check them, and only then write the step
// or delete the code, clear the failure count and close the challenge.
// All three lock the challenge first and the account last. Because they
// take their locks in one order, no cycle of waits, and so no deadlock,
// can form among them; a test runs them concurrently on one challenge.
//
// Under READ COMMITTED, the default isolation level, a write that waited
// for a row lock checks its condition again on the row's latest version,
// and a row lock reads that version, so of concurrent calls only the first
// finds the condition true. So concurrent ReserveAttempt calls add one at
// a time up to the limit. Other reads see the database as of the
// statement's start, so the enrollment that ReserveAttempt returns can
// miss a concurrent change. AcceptStep checks the locked row, so a stale
// LastStep never lets a used code through. Where the contract
// distinguishes "not found" from "changed", the same statement also reads
// whether the row exists.
//
// A server whose default isolation level is REPEATABLE READ or
// SERIALIZABLE fails such a waiting call with a serialization error
// instead, which the store returns as an error.
//
// The server compares sealed secrets and hashes with bytea equality,
// which is not constant-time. These are ciphertext and keyed or
// preimage-resistant hashes, so their timing does not lead to a secret.
//
// # Expiry
//
// Set-ups, challenges, backup codes and devices carry expires_at, which
// has an index in each table. Reads that take a time treat a record that
// expired at or before it as absent, whether or not it is still stored.
// [Store.DeleteExpired] deletes such records, and [Store.RunCleanup] calls
// it on a timer and logs what it does to the host's [slog.Logger].
// Enrollments and accounts do not expire.
package postgresstore
