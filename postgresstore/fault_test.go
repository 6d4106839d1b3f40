package postgresstore_test

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor/postgresstore"
	"github.com/twofactor-go/twofactor/storetest"
)

// TestServerOutage cuts the connections to the server with a loopback
// proxy, so the shared server keeps running for other tests.
func TestServerOutage(t *testing.T) {
	cfg := poolConfig(t)
	schema := newSchema(t, newPool(t))
	p := storetest.NewProxy(t, net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port))))
	host, port, err := net.SplitHostPort(p.Addr())
	must(t, "splitting the proxy address", err)
	portNumber, err := strconv.ParseUint(port, 10, 16)
	must(t, "parsing the proxy port", err)
	cfg.ConnConfig.Host = host
	cfg.ConnConfig.Port = uint16(portNumber)
	cfg.ConnConfig.Fallbacks = nil
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	store := postgresstore.New(openPool(t, cfg), postgresstore.WithSchema(schema))
	must(t, "Migrate", store.Migrate(t.Context()))

	// The pool hands out an idle connection without a ping while it has
	// been idle for less than a second, so each connection that the cut
	// closed can fail one call before the pool drops it.
	storetest.RunOutage(t, store, p, testMaxConns)
}
