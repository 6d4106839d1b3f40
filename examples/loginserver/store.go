package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/memstore"
)

// storeOpener opens a store from a connection string and returns a
// function that releases it.
type storeOpener func(dsn string) (twofactor.Store, func(), error)

// storeOpeners are the stores that the -store flag selects, by name. The
// database stores register themselves from postgres.go and redis.go.
var storeOpeners = map[string]storeOpener{
	"memory": openMemoryStore,
}

// openStore opens the store of the given kind with dsn.
func openStore(kind, dsn string) (twofactor.Store, func(), error) {
	open, ok := storeOpeners[kind]
	if !ok {
		return nil, nil, fmt.Errorf("twofactor: unknown store %q; use one of: %s", kind, strings.Join(storeKinds(), ", "))
	}
	return open(dsn)
}

// storeKinds returns the names that -store accepts, sorted.
func storeKinds() []string {
	kinds := make([]string, 0, len(storeOpeners))
	for k := range storeOpeners {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

// memoryCleanupInterval is how often the memory store frees expired
// records.
const memoryCleanupInterval = time.Minute

// openMemoryStore returns a memstore whose expired records are freed in
// the background until the returned function is called.
func openMemoryStore(dsn string) (twofactor.Store, func(), error) {
	if dsn != "" {
		return nil, nil, fmt.Errorf("twofactor: the memory store takes no -dsn; remove it")
	}
	st := memstore.New()
	return st, runInBackground(func(ctx context.Context) {
		st.RunCleanup(ctx, memoryCleanupInterval)
	}, func() {}), nil
}
