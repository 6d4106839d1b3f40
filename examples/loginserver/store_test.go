package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/postgresstore"
	"github.com/twofactor-go/twofactor/redisstore"
)

// serverDSN returns the connection string in the environment variable, or
// skips the test when it is unset, except under CI=true.
func serverDSN(t *testing.T, variable string) string {
	t.Helper()
	dsn := os.Getenv(variable)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set", variable)
		}
		t.Skipf("set %s to run this test against a real server", variable)
	}
	return dsn
}

func randomName(t *testing.T) string {
	b := make([]byte, 8)
	rand.Read(b)
	return "tf_example_" + hex.EncodeToString(b)
}

func TestOpenStoreKinds(t *testing.T) {
	tests := []struct {
		kind, variable string
	}{
		{"postgres", "TWOFACTOR_POSTGRES_URL"},
		{"redis", "TWOFACTOR_REDIS_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			st, closeStore, err := openStore(tt.kind, serverDSN(t, tt.variable))
			if err != nil {
				t.Fatalf("openStore(%q): %v", tt.kind, err)
			}
			defer closeStore()
			if _, err := st.GetAccount(t.Context(), "nobody"); err != nil {
				t.Errorf("GetAccount on the %s store: %v", tt.kind, err)
			}
		})
	}
}

// TestSignInOnDatabaseStores runs set-up and a sign-in with a code through
// the server on each database store, in a fresh schema or key prefix.
func TestSignInOnDatabaseStores(t *testing.T) {
	stores := map[string]func(t *testing.T) twofactor.Store{
		"postgres": func(t *testing.T) twofactor.Store {
			pool, err := pgxpool.New(context.Background(), serverDSN(t, "TWOFACTOR_POSTGRES_URL"))
			if err != nil {
				t.Fatal(err)
			}
			schema := randomName(t)
			t.Cleanup(func() {
				_, err := pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
				if err != nil {
					t.Errorf("dropping schema %s: %v", schema, err)
				}
				pool.Close()
			})
			st := postgresstore.New(pool, postgresstore.WithSchema(schema))
			if err := st.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			return st
		},
		"redis": func(t *testing.T) twofactor.Store {
			client := redis.NewClient(&redis.Options{Addr: serverDSN(t, "TWOFACTOR_REDIS_ADDR")})
			prefix := randomName(t)
			t.Cleanup(func() {
				keys, _ := client.Keys(context.Background(), prefix+"*").Result()
				if len(keys) > 0 {
					client.Del(context.Background(), keys...)
				}
				client.Close()
			})
			st, err := redisstore.New(client, redisstore.WithPrefix(prefix))
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
	}
	for kind, open := range stores {
		t.Run(kind, func(t *testing.T) {
			env := newTestEnvOn(t, open(t))
			c := env.newClient(t)
			c.signIn("alice")
			c.get("/setup")
			key := c.find(setupKeyPattern, "set-up key")
			c.post("/setup", url.Values{"code": {env.nextCode(t, key)}})
			c.wantText("Two-factor sign-in is on.")
			c.signOut()
			c.signIn("alice")
			c.wantPage("code", http.StatusOK)
			c.submitCode(env.nextCode(t, key), false)
			c.wantPage("home", http.StatusOK)
			c.wantText("Signed in as alice")
		})
	}
}
