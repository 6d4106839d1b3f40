package redisstore_test

import (
	"testing"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/storetest"
)

// TestSeveralInstances runs two Stores, each with a client of its own, on
// one key prefix, as two instances of a deployment would.
func TestSeveralInstances(t *testing.T) {
	storetest.RunInstances(t, func(t *testing.T) (twofactor.Store, twofactor.Store) {
		addr := redisAddr(t)
		first := newClient(t, addr)
		prefix := newPrefix(t, first)
		return newStore(t, first, prefix), newStore(t, newClient(t, addr), prefix)
	})
}
