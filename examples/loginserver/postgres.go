package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/postgresstore"
)

func init() { storeOpeners["postgres"] = openPostgresStore }

// databaseCleanupInterval is how often a database store deletes expired
// records.
const databaseCleanupInterval = 5 * time.Minute

// openPostgresStore connects to the PostgreSQL server of dsn, for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable, applies the
// schema, and deletes expired records in the background until the
// returned function is called.
func openPostgresStore(dsn string) (twofactor.Store, func(), error) {
	if dsn == "" {
		return nil, nil, fmt.Errorf("twofactor: the postgres store needs -dsn, for example postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("twofactor: connecting to PostgreSQL failed: %w", err)
	}
	st := postgresstore.New(pool)
	if err := st.Migrate(ctx); err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("twofactor: applying the PostgreSQL schema failed: %w", err)
	}
	return st, runInBackground(func(ctx context.Context) {
		st.RunCleanup(ctx, databaseCleanupInterval, slog.Default())
	}, pool.Close), nil
}

// runInBackground runs job in a goroutine and returns a function that
// cancels it, waits for it and then calls release.
func runInBackground(job func(ctx context.Context), release func()) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		job(ctx)
	}()
	return func() {
		cancel()
		<-done
		release()
	}
}
