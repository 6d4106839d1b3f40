package redisstore_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/twofactor-go/twofactor/storetest"
)

// TestServerOutage cuts the connections to the server with a loopback
// proxy, so the shared server keeps running for other tests.
func TestServerOutage(t *testing.T) {
	addr := redisAddr(t)
	direct := newClient(t, addr) // fails the test early when the server is down
	p := storetest.NewProxy(t, addr)
	client := redis.NewClient(&redis.Options{Addr: p.Addr(), DialTimeout: 2 * time.Second, DialerRetries: 1})
	t.Cleanup(func() { client.Close() })
	storetest.RunOutage(t, newStore(t, client, newPrefix(t, direct)), p, 0)
}
