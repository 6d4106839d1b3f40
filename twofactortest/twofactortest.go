// Package twofactortest helps a host test its login handlers without a
// phone and without sleeping, in the spirit of net/http/httptest.
//
// [New] returns a [Kit]: a real [twofactor.Manager] on a fresh in-memory
// store, wired to a [Clock] that the test moves by hand and to a recorder of
// audit events. [Code] and [GenerateCode] compute the code that an authenticator app would
// show for a [twofactor.SetupKey], and [FailingStore] makes chosen store
// calls fail, so a host can test its handling of store errors.
//
// Nothing here weakens the library. The Manager is built with the public
// [twofactor.New] and runs every check it runs in production. The kit only
// supplies the clock, the store and the codes. Production code has no
// reason to import this package, and it imports package testing.
package twofactortest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/memstore"
)

// Epoch is the instant a new [Clock] of [New] shows: a fixed time, so that
// codes and deadlines are the same in every run.
var Epoch = time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)

// testKey is the encryption key of the kit's Manager. It is public, so a
// Manager built with it must never hold real secrets.
var testKey = twofactor.EncryptionKey{ID: "twofactortest", Secret: []byte("twofactortest-not-a-secret-key!!")}

// Clock is a clock that moves only when the test moves it. It is safe for
// concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time. Pass the method value as
// [twofactor.Config.Now].
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Kit is a Manager ready for a test, with the parts it was built from.
type Kit struct {
	Manager *twofactor.Manager
	Clock   *Clock
	Store   twofactor.Store
	Events  *Recorder
}

// New returns a Kit. Fields of cfg that are set are kept; New fills in the
// rest: a fresh memstore, the issuer "Test", a public test encryption key,
// a Clock at [Epoch] and a Recorder of audit events, which also forwards
// to cfg.Audit if that is set. It fails the test if cfg is invalid.
//
// The tb argument of New, [Kit.Enroll] and [Code] may be nil outside a
// test, as in a runnable example; a failure then panics.
func New(tb testing.TB, cfg twofactor.Config) *Kit {
	helper(tb)
	k := &Kit{Clock: NewClock(Epoch), Events: &Recorder{}}
	if cfg.Store == nil {
		cfg.Store = memstore.New()
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "Test"
	}
	if len(cfg.Keys) == 0 && !cfg.Unencrypted {
		cfg.Keys = []twofactor.EncryptionKey{testKey}
	}
	if cfg.Now == nil {
		cfg.Now = k.Clock.Now
	}
	next := cfg.Audit
	cfg.Audit = func(ctx context.Context, e twofactor.Event) {
		k.Events.record(e)
		if next != nil {
			next(ctx, e)
		}
	}
	m, err := twofactor.New(cfg)
	if err != nil {
		fatalf(tb, "twofactortest.New: %v", err)
	}
	k.Manager, k.Store = m, cfg.Store
	return k
}

// Enroll sets up 2FA for userID and confirms it with the current code, as
// a user with an authenticator app would. It returns the key the app holds.
func (k *Kit) Enroll(tb testing.TB, userID string) *twofactor.SetupKey {
	helper(tb)
	ctx := context.Background()
	key, err := k.Manager.StartSetup(ctx, userID, userID+"@example.com")
	if err != nil {
		fatalf(tb, "StartSetup(%q): %v", userID, err)
	}
	if err := k.Manager.ConfirmSetup(ctx, userID, Code(tb, key, k.Clock.Now())); err != nil {
		fatalf(tb, "ConfirmSetup(%q): %v", userID, err)
	}
	// The confirming code's time step is now used; move to the next one so
	// that the next Code is accepted.
	k.Clock.Advance(key.Period)
	return key
}

// Code returns the code that an authenticator app holding key shows at t,
// and fails the test if it cannot be computed. See [GenerateCode].
func Code(tb testing.TB, key *twofactor.SetupKey, t time.Time) string {
	helper(tb)
	code, err := GenerateCode(key, t)
	if err != nil {
		fatalf(tb, "computing a code for user %q: %v", key.UserID, err)
	}
	return code
}

// GenerateCode returns the code that an authenticator app holding key
// shows at t. It reads the algorithm, digits and period from the key URI
// and computes the code with github.com/pquerna/otp, independently of the
// library.
func GenerateCode(key *twofactor.SetupKey, t time.Time) (string, error) {
	parsed, err := otp.NewKeyFromURL(key.URI)
	if err != nil {
		return "", fmt.Errorf("twofactortest: parsing the key URI: %w", err)
	}
	return totp.GenerateCodeCustom(key.Secret, t, totp.ValidateOpts{
		Period:    uint(parsed.Period()),
		Digits:    parsed.Digits(),
		Algorithm: parsed.Algorithm(),
	})
}

// helper marks the caller as a test helper when there is a test.
func helper(tb testing.TB) {
	if tb != nil {
		tb.Helper()
	}
}

// fatalf fails the test, or panics when tb is nil, as it is in a runnable
// example.
func fatalf(tb testing.TB, format string, args ...any) {
	if tb == nil {
		panic(fmt.Sprintf(format, args...))
	}
	tb.Helper()
	tb.Fatalf(format, args...)
}

// Recorder keeps the audit events a Kit's Manager emitted. It is safe for
// concurrent use.
type Recorder struct {
	mu     sync.Mutex
	events []twofactor.Event
}

func (r *Recorder) record(e twofactor.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// All returns the events in the order they were emitted.
func (r *Recorder) All() []twofactor.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Kinds returns the kinds of the events in order.
func (r *Recorder) Kinds() []twofactor.EventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	kinds := make([]twofactor.EventKind, len(r.events))
	for i, e := range r.events {
		kinds[i] = e.Kind
	}
	return kinds
}

// Count returns the number of events of the kind.
func (r *Recorder) Count(kind twofactor.EventKind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}
