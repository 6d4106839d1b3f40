// Command loginserver is a demo website that signs users in with a password
// or pretend single sign-on followed by a TOTP code, using the twofactor
// library. It shows set-up with a QR code, the code step with its warnings
// and lockout, trusted browsers, backup codes and an administrator's
// unlock.
//
// It is a development tool: it serves plain HTTP, keeps users and sessions
// in memory and stores TOTP secrets unencrypted. Run it from this
// directory:
//
//	go run . [-addr 127.0.0.1:8080] [-demo-password PASSWORD] [-store memory|postgres|redis] [-dsn DSN]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// shutdownTimeout bounds how long the server waits for requests in flight
// when it is stopped.
const shutdownTimeout = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(2)
	}
}

// options are the command-line flags.
type options struct {
	addr         string
	store        string
	dsn          string
	demoPassword string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loginserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "`host:port` to listen on")
	fs.StringVar(&o.store, "store", "memory", "`kind` of store for 2FA records: "+fmt.Sprint(storeKinds()))
	fs.StringVar(&o.dsn, "dsn", "", "connection `string` of a database store; the memory store takes none")
	fs.StringVar(&o.demoPassword, "demo-password", "", "`password` of every demo user; empty gives each user a random one")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("twofactor: unexpected argument %q; loginserver takes flags only", fs.Arg(0))
	}
	return o, nil
}

// run starts the server and serves until ctx is done. It prints the
// address and the demo users' passwords to stdout and logs to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	store, closeStore, err := openStore(o.store, o.dsn)
	if err != nil {
		return err
	}
	defer closeStore()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("twofactor: listening on %q failed: %w", o.addr, err)
	}
	defer ln.Close()
	if !isLoopback(ln.Addr()) {
		logger.Warn("listening on an address that is not loopback; the demo serves plain HTTP and cookies without the Secure attribute", "addr", ln.Addr().String())
	}

	users, creds, err := newDemoUsers(o.demoPassword, bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	srv, err := newServer(serverConfig{Store: store, Users: users, Logger: logger})
	if err != nil {
		return err
	}
	if err := printBanner(stdout, "http://"+ln.Addr().String()+"/", o.store, creds); err != nil {
		return err
	}
	return serve(ctx, ln, srv, logger)
}

// serve runs an HTTP server on ln until ctx is done, then shuts it down.
func serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("server started", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("twofactor: serving on %s failed: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	logger.Info("server stopping")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("twofactor: stopping the server failed: %w", err)
	}
	logger.Info("server stopped")
	return nil
}

func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// printBanner writes the URL, the demo users with their passwords and the
// development-mode warning. The passwords are printed on purpose: they
// protect demo accounts only, and the developer needs them to sign in.
func printBanner(w io.Writer, url, store string, creds []credential) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Login server demo: %s\n\n", url)
	fmt.Fprintln(tw, "Demo users:")
	fmt.Fprintln(tw, "  USER\tROLE\tPASSWORD")
	for _, c := range creds {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.ID, c.Role, c.Password)
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "WARNING: development mode: TOTP secrets are stored unencrypted (twofactor.Config.Unencrypted) in the %s store.\n", store)
	return tw.Flush()
}
