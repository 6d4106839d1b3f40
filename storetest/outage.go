package storetest

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/internal/otpcode"
)

// Proxy forwards TCP connections from a loopback port to a server. Cut and
// Restore stand for an outage of the server without touching it, so that
// other tests can share the server meanwhile.
type Proxy struct {
	target string // the server's host:port
	addr   string // the proxy's own address, the same after Restore

	mu       sync.Mutex
	listener net.Listener
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup
}

// NewProxy listens on a free loopback port and forwards to target. It is
// cut when the test ends.
func NewProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	p := &Proxy{target: target, conns: make(map[net.Conn]struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, "starting the proxy", err)
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.Cut)
	return p
}

// Addr returns the host:port that clients connect to.
func (p *Proxy) Addr() string { return p.addr }

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.listener = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return // Cut closed the listener.
			}
			p.forward(ln, client)
		}
	})
}

// forward connects client, accepted on ln, to the server and copies both
// ways until either side closes or Cut closes both.
func (p *Proxy) forward(ln net.Listener, client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.listener != ln {
		// Cut ran after the connection was accepted.
		client.Close()
		server.Close()
		return
	}
	p.conns[client] = struct{}{}
	p.conns[server] = struct{}{}
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		dst.Close()
		src.Close()
	}
	p.wg.Go(func() { pipe(server, client) })
	p.wg.Go(func() { pipe(client, server) })
}

// Cut closes the listener and every forwarded connection, and waits until
// the proxy's goroutines have stopped. Connecting fails until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	if p.listener != nil {
		p.listener.Close()
		p.listener = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// Restore listens again on the proxy's address.
func (p *Proxy) Restore(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	must(t, "restarting the proxy on "+p.addr, err)
	p.serve(ln)
}

// RunOutage checks that a Manager on s, whose connections go through p,
// fails closed while p is cut and works again once p is restored, on the
// same Store. retries is the number of calls that s may fail after the
// restore while it drops connections that the cut broke.
func RunOutage(t *testing.T, s twofactor.Store, p *Proxy, retries int) {
	t.Helper()
	m := newManager(t, s)
	secret := enrollUser(t, m, "u1")
	step, _ := otpcode.Step(base, 30)
	code := otpcode.Generate(secret, otpcode.SHA1, 6, step)
	id := begin(t, m, "u1")

	p.Cut()
	res, err := m.Submit(ctx(t), id, code)
	if err == nil {
		t.Errorf("Submit during the outage returned no error")
	}
	if errors.Is(err, twofactor.ErrChallengeNotFound) || errors.Is(err, twofactor.ErrNotEnrolled) {
		t.Errorf("Submit during the outage error = %v, want a store failure, not a verdict", err)
	}
	if res.Succeeded() {
		t.Errorf("Submit during the outage succeeded: %+v", res)
	}
	d, err := m.Begin(ctx(t), twofactor.Login{UserID: "u1", Role: twofactor.RoleAgent})
	if err == nil || !d.Required {
		t.Errorf("Begin during the outage = %+v, %v, want an error and the code step required", d, err)
	}

	p.Restore(t)
	recovered := false
	for i := range retries + 1 {
		if _, err := s.GetAccount(ctx(t), "u1"); err == nil {
			recovered = true
			if i > 0 {
				t.Logf("the store recovered after %d failed calls", i)
			}
			break
		}
	}
	if !recovered {
		t.Fatalf("the store still failed after %d calls with the server back", retries+1)
	}
	res, err = m.Submit(ctx(t), begin(t, m, "u1"), code)
	must(t, "Submit after the outage", err)
	if !res.Succeeded() {
		t.Errorf("Submit after the outage = %+v, want success", res)
	}
}
