package main

import (
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/bcrypt"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/memstore"
	"github.com/twofactor-go/twofactor/twofactortest"
)

// testPassword is the password of every demo user in tests.
const testPassword = "correct horse battery staple"

// testUserAgent makes the trusted-device label predictable.
const testUserAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

// testEnv is a server on a loopback port with a clock that the test moves.
type testEnv struct {
	srv   *server
	clock *twofactortest.Clock
	url   string
}

// newTestEnv starts a server whose clock starts at the real time, so that
// cookies that expire by the wall clock behave as in production, and moves
// only when the test moves it.
func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	return newTestEnvOn(t, memstore.New())
}

// newTestEnvOn is newTestEnv on the given store.
func newTestEnvOn(t *testing.T, store twofactor.Store) *testEnv {
	t.Helper()
	clock := twofactortest.NewClock(time.Now())
	users, _, err := newDemoUsers(testPassword, bcrypt.MinCost)
	if err != nil {
		t.Fatalf("newDemoUsers: %v", err)
	}
	srv, err := newServer(serverConfig{
		Store:  store,
		Users:  users,
		Now:    clock.Now,
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &testEnv{srv: srv, clock: clock, url: ts.URL}
}

// nextCode moves the clock to the next time step and returns the code that
// an authenticator app holding secret shows then. Each accepted code uses
// up its time step, so every sign-in needs a fresh step.
func (e *testEnv) nextCode(t *testing.T, secret string) string {
	t.Helper()
	e.clock.Advance(30 * time.Second)
	return appCode(t, secret, e.clock.Now())
}

// appCode computes a code as an authenticator app would, with
// github.com/pquerna/otp and the app defaults: SHA1, 6 digits, 30 seconds.
func appCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCode(strings.ReplaceAll(secret, " ", ""), at)
	if err != nil {
		t.Fatalf("computing a code: %v", err)
	}
	return code
}

// wrongCode returns a 6-digit code that the server rejects at the clock's
// time: one that differs from the codes of the current step and of the
// steps on either side, which the server also accepts.
func (e *testEnv) wrongCode(t *testing.T, secret string) string {
	t.Helper()
	now := e.clock.Now()
	valid := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		valid[appCode(t, secret, now.Add(d))] = true
	}
	for i := 0; ; i++ {
		if c := fmt.Sprintf("%06d", i); !valid[c] {
			return c
		}
	}
}

// attemptsLeft returns the warning shown when n attempts are left.
func attemptsLeft(n int) string {
	return fmt.Sprintf(twofactor.EnglishMessages.AttemptsLeft, n)
}

// recordingTransport keeps every URL requested, to check that none carries
// a secret.
type recordingTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	urls []*url.URL
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.urls = append(rt.urls, req.URL)
	rt.mu.Unlock()
	req.Header.Set("User-Agent", testUserAgent)
	return rt.base.RoundTrip(req)
}

// client is a cookie-keeping HTTP client that remembers the last page, like
// a browser without JavaScript.
type client struct {
	t         *testing.T
	env       *testEnv
	http      *http.Client
	transport *recordingTransport
	status    int
	body      string // HTML of the last page
}

// newClient returns a client with an empty cookie jar. When the test ends,
// it checks that no requested URL had a query other than the backup-code
// switch, so no secret, code or ID travelled in a URL.
func (e *testEnv) newClient(t *testing.T) *client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookiejar.New: %v", err)
	}
	rt := &recordingTransport{base: http.DefaultTransport}
	c := &client{t: t, env: e, transport: rt, http: &http.Client{Jar: jar, Transport: rt}}
	t.Cleanup(func() {
		rt.mu.Lock()
		defer rt.mu.Unlock()
		for _, u := range rt.urls {
			if u.RawQuery != "" && u.RawQuery != "kind=backup" {
				t.Errorf("request URL %s has a query; want none but kind=backup", u)
			}
		}
	})
	return c
}

func (c *client) do(req *http.Request) {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("reading %s %s: %v", req.Method, req.URL.Path, err)
	}
	c.status, c.body = resp.StatusCode, string(b)
}

// get requests path and follows redirects.
func (c *client) get(path string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.env.url+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	c.do(req)
}

// post submits form to path with the CSRF token of the last page, and
// follows redirects.
func (c *client) post(path string, form url.Values) {
	c.t.Helper()
	form.Set("csrf", c.csrf())
	c.postRaw(path, form)
}

// postRaw submits form as it is.
func (c *client) postRaw(path string, form url.Values) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.env.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c.do(req)
}

var (
	csrfPattern       = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	pagePattern       = regexp.MustCompile(`<body data-page="([a-z]+)">`)
	setupKeyPattern   = regexp.MustCompile(`<code id="setup-key" class="key">([^<]+)</code>`)
	backupCodePattern = regexp.MustCompile(`<code id="backup-code" class="key">([^<]+)</code>`)
	devicePattern     = regexp.MustCompile(`name="device" value="([^"]+)"`)
)

// find returns the first group of re in the last page, or fails the test.
func (c *client) find(re *regexp.Regexp, description string) string {
	c.t.Helper()
	m := re.FindStringSubmatch(c.body)
	if m == nil {
		c.t.Fatalf("page %q has no %s; body:\n%s", c.page(), description, c.body)
	}
	return html.UnescapeString(m[1])
}

func (c *client) csrf() string { return c.find(csrfPattern, "CSRF token") }

// page returns the name of the last page, from <body data-page>.
func (c *client) page() string {
	if m := pagePattern.FindStringSubmatch(c.body); m != nil {
		return m[1]
	}
	return ""
}

// wantPage fails the test unless the last page is name with the status.
func (c *client) wantPage(name string, status int) {
	c.t.Helper()
	if got := c.page(); got != name {
		c.t.Fatalf("page = %q, want %q; body:\n%s", got, name, c.body)
	}
	if c.status != status {
		c.t.Errorf("status of page %q = %d, want %d", name, c.status, status)
	}
}

// text returns the last page with HTML entities decoded.
func (c *client) text() string { return html.UnescapeString(c.body) }

func (c *client) wantText(texts ...string) {
	c.t.Helper()
	for _, s := range texts {
		if !strings.Contains(c.text(), s) {
			c.t.Errorf("page %q lacks %q", c.page(), s)
		}
	}
}

func (c *client) wantNoText(texts ...string) {
	c.t.Helper()
	for _, s := range texts {
		if strings.Contains(c.text(), s) {
			c.t.Errorf("page %q contains %q, want it absent", c.page(), s)
		}
	}
}

// signIn submits the password form for the user.
func (c *client) signIn(userID string) {
	c.t.Helper()
	c.get("/login")
	c.post("/login", url.Values{"username": {userID}, "password": {testPassword}})
}

// signOut presses the sign-out button.
func (c *client) signOut() {
	c.t.Helper()
	c.post("/logout", url.Values{})
	c.wantPage("login", http.StatusOK)
}

// submitCode submits a code on the code page, ticking "Trust this browser"
// when trust is set.
func (c *client) submitCode(code string, trust bool) {
	c.t.Helper()
	form := url.Values{"code": {code}}
	if trust {
		form.Set("trust", "1")
	}
	c.post("/login/code", form)
}

// enroll signs the user in, sets up 2FA, signs out and returns the key.
func (c *client) enroll(userID string) string {
	c.t.Helper()
	c.signIn(userID)
	c.wantPage("home", http.StatusOK)
	key := c.confirmNewSetup()
	c.signOut()
	return key
}

// confirmNewSetup opens the set-up page, confirms it with the app's code
// and returns the key shown.
func (c *client) confirmNewSetup() string {
	c.t.Helper()
	c.get("/setup")
	c.wantPage("setup", http.StatusOK)
	key := c.find(setupKeyPattern, "set-up key")
	c.post("/setup", url.Values{"code": {c.env.nextCode(c.t, key)}})
	c.wantPage("home", http.StatusOK)
	c.wantText("Two-factor sign-in is on.")
	return key
}

// lockOut signs the user in and submits wrong codes until the account
// locks.
func (c *client) lockOut(userID, key string) {
	c.t.Helper()
	c.signIn(userID)
	c.wantPage("code", http.StatusOK)
	for range 5 {
		c.submitCode(c.env.wrongCode(c.t, key), false)
	}
	c.wantPage("locked", http.StatusForbidden)
}

// cookie returns the value of the named cookie that the client would send
// to the server, or "".
func (c *client) cookie(name string) string {
	u, err := url.Parse(c.env.url)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}
