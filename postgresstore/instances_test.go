package postgresstore_test

import (
	"testing"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/postgresstore"
	"github.com/twofactor-go/twofactor/storetest"
)

// TestSeveralInstances runs two Stores, each with a pool of its own, on one
// schema, as two instances of a deployment would.
func TestSeveralInstances(t *testing.T) {
	storetest.RunInstances(t, func(t *testing.T) (twofactor.Store, twofactor.Store) {
		schema := newSchema(t, newPool(t))
		open := func() twofactor.Store {
			s := postgresstore.New(newPool(t), postgresstore.WithSchema(schema))
			must(t, "Migrate", s.Migrate(t.Context()))
			return s
		}
		return open(), open()
	})
}
