package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twofactor-go/twofactor/redisstore"
)

// Environment variables that point the tests at Redis.
const (
	addrEnv        = "TWOFACTOR_REDIS_ADDR"
	clusterAddrEnv = "TWOFACTOR_REDIS_CLUSTER_ADDRS"
)

// redisAddr returns the address of the test server, and skips the test
// when none is set.
func redisAddr(t *testing.T) string {
	t.Helper()
	addr := os.Getenv(addrEnv)
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set; CI must run the Redis tests", addrEnv)
		}
		t.Skipf("set %s to run the Redis tests, for example %s=127.0.0.1:6379", addrEnv, addrEnv)
	}
	return addr
}

// newClient returns a client of its own, with its own connection pool, on
// the server at addr. A server that cannot be reached fails the test.
func newClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { client.Close() })
	if err := client.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("connecting to Redis at %s (from %s): %v", addr, addrEnv, err)
	}
	return client
}

// newPrefix returns a random key prefix and deletes every key under it
// when the test ends. Register it after the client, so that it runs
// before the client is closed.
func newPrefix(t *testing.T, client redis.UniversalClient) string {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "twofactor-test-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		if err := deleteKeys(client, prefix); err != nil {
			t.Errorf("deleting the test keys under %q: %v", prefix, err)
		}
	})
	return prefix
}

// deleteKeys unlinks every key under prefix, on every master of a cluster.
func deleteKeys(client redis.UniversalClient, prefix string) error {
	// The test's context is already canceled when cleanups run.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if cc, ok := client.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			return deleteNodeKeys(ctx, node, prefix)
		})
	}
	return deleteNodeKeys(ctx, client, prefix)
}

func deleteNodeKeys(ctx context.Context, client redis.UniversalClient, prefix string) error {
	iter := client.Scan(ctx, 0, prefix+":*", 500).Iterator()
	for iter.Next(ctx) {
		if err := client.Unlink(ctx, iter.Val()).Err(); err != nil {
			return err
		}
	}
	return iter.Err()
}

// scanKeys returns every key under prefix on a single server.
func scanKeys(t *testing.T, client *redis.Client, prefix string) []string {
	t.Helper()
	var keys []string
	iter := client.Scan(t.Context(), 0, prefix+":*", 500).Iterator()
	for iter.Next(t.Context()) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("listing keys under %q: %v", prefix, err)
	}
	return keys
}

// newStore returns a Store on client under prefix.
func newStore(t *testing.T, client redis.UniversalClient, prefix string, opts ...redisstore.Option) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(client, append([]redisstore.Option{redisstore.WithPrefix(prefix)}, opts...)...)
	if err != nil {
		t.Fatalf("redisstore.New: %v", err)
	}
	return s
}

// hashTag returns the part of key that Redis Cluster hashes: the text
// between the first '{' and the first '}' after it when that is not empty,
// and the whole key otherwise.
func hashTag(key string) string {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	end := strings.IndexByte(key[open+1:], '}')
	if end <= 0 {
		return key
	}
	return key[open+1 : open+1+end]
}
