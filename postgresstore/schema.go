package postgresstore

import (
	"context"
	"hash/fnv"
)

// migration creates the schema, its tables and their indexes unless they
// exist. README.md shows the same SQL for the default schema, and a test
// keeps the two in step.
const migration = `CREATE SCHEMA IF NOT EXISTS {schema};

-- COLLATE "C" compares user IDs byte-wise, the order ListEnrollments pages in.
CREATE TABLE IF NOT EXISTS {schema}.enrollments (
    user_id      text COLLATE "C" PRIMARY KEY,
    secret       bytea       NOT NULL,
    algorithm    smallint    NOT NULL,
    digits       integer     NOT NULL,
    period       integer     NOT NULL,
    last_step    bigint      NOT NULL,
    confirmed_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS {schema}.setups (
    user_id    text PRIMARY KEY,
    id         text        NOT NULL,
    secret     bytea       NOT NULL,
    algorithm  smallint    NOT NULL,
    digits     integer     NOT NULL,
    period     integer     NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS setups_expires_at_idx ON {schema}.setups (expires_at);

CREATE TABLE IF NOT EXISTS {schema}.accounts (
    user_id        text PRIMARY KEY,
    failures       integer     NOT NULL DEFAULT 0,
    generation     bigint      NOT NULL DEFAULT 0,
    unlocked_at    timestamptz,
    reset_required boolean     NOT NULL DEFAULT false
);

CREATE TABLE IF NOT EXISTS {schema}.challenges (
    id            text PRIMARY KEY,
    user_id       text        NOT NULL,
    role          smallint    NOT NULL,
    state         smallint    NOT NULL,
    trust_allowed boolean     NOT NULL,
    generation    bigint      NOT NULL,
    created_at    timestamptz NOT NULL,
    deadline      timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS challenges_expires_at_idx ON {schema}.challenges (expires_at);

CREATE TABLE IF NOT EXISTS {schema}.backup_codes (
    user_id    text PRIMARY KEY,
    hash       bytea       NOT NULL,
    issued_by  text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS backup_codes_expires_at_idx ON {schema}.backup_codes (expires_at);

CREATE TABLE IF NOT EXISTS {schema}.devices (
    user_id    text        NOT NULL,
    token_hash bytea       NOT NULL,
    id         text        NOT NULL,
    label      text        NOT NULL,
    created_at timestamptz NOT NULL,
    last_used  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, token_hash),
    CONSTRAINT devices_user_id_id_key UNIQUE (user_id, id)
);
CREATE INDEX IF NOT EXISTS devices_expires_at_idx ON {schema}.devices (expires_at);
`

// Migrate creates the schema, tables and indexes that are missing, and
// leaves existing ones as they are, so it is safe to call at every start.
// It holds a transaction-level advisory lock keyed by the schema name, so
// that instances that start at once apply the SQL one after another:
// concurrent CREATE ... IF NOT EXISTS statements on one name can fail with
// a unique violation. The role needs the right to create the schema and
// its tables; without it, apply the SQL in the README by hand.
func (s *Store) Migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return failed(err, "migrating schema %s", s.schema)
	}
	defer tx.Rollback(ctx) // a no-op after Commit

	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", s.migrationLockKey()); err != nil {
		return failed(err, "locking schema %s for migration", s.schema)
	}
	// Without arguments pgx sends the text in one simple-protocol query,
	// which may hold several statements.
	if _, err := tx.Exec(ctx, s.sql(migration)); err != nil {
		return failed(err, "migrating schema %s", s.schema)
	}
	if err := tx.Commit(ctx); err != nil {
		return failed(err, "committing the migration of schema %s", s.schema)
	}
	return nil
}

// migrationLockKey returns the advisory lock key of the schema: the 64-bit
// FNV-1a hash of a fixed prefix and the quoted schema name.
func (s *Store) migrationLockKey() int64 {
	h := fnv.New64a()
	h.Write([]byte("twofactor/postgresstore migrate "))
	h.Write([]byte(s.schema))
	return int64(h.Sum64())
}
