package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/devicecookie"
	"github.com/twofactor-go/twofactor/memstore"
	"github.com/twofactor-go/twofactor/twofactortest"
)

// lockedBuffer is a log destination that goroutines may share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newLoggedEnv is newTestEnvOn with the server's log kept in the returned
// buffer.
func newLoggedEnv(t *testing.T, store twofactor.Store) (*testEnv, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	clock := twofactortest.NewClock(time.Now())
	users, _, err := newDemoUsers(testPassword, bcrypt.MinCost)
	if err != nil {
		t.Fatalf("newDemoUsers: %v", err)
	}
	srv, err := newServer(serverConfig{
		Store:  store,
		Users:  users,
		Now:    clock.Now,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &testEnv{srv: srv, clock: clock, url: ts.URL}, logs
}

// setCookie puts a cookie into the client's jar, as an attacker who can
// plant or copy cookies would.
func (c *client) setCookie(name, value string) {
	c.t.Helper()
	u, err := url.Parse(c.env.url)
	if err != nil {
		c.t.Fatal(err)
	}
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// raw sends one request with the client's cookies without following
// redirects, and returns the response with its body read into c.body.
func (c *client) raw(method, path string, form url.Values) *http.Response {
	c.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, c.env.url+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	hc := *c.http
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		c.t.Fatalf("reading %s %s: %v", method, path, err)
	}
	c.status, c.body = resp.StatusCode, b.String()
	return resp
}

// signedIn reports whether the last page shows a signed-in user.
func (c *client) signedIn() bool { return strings.Contains(c.body, `id="signed-in-as"`) }

// sessionOf returns a copy of the server's session with the ID.
func (e *testEnv) sessionOf(id string) (session, bool) {
	e.srv.sessions.mu.Lock()
	defer e.srv.sessions.mu.Unlock()
	s, ok := e.srv.sessions.byID[id]
	return s, ok
}

func TestAttackCSRFOnEveryPost(t *testing.T) {
	env := newTestEnv(t)
	other := env.newClient(t)
	other.get("/login")
	foreignToken := other.csrf()

	paths := []string{
		"/login", "/login/sso", "/login/code", "/logout", "/setup",
		"/setup/off", "/devices/revoke", "/admin/unlock", "/admin/backup-code",
	}
	tokens := []struct {
		name  string
		token string
	}{
		{"missing", ""},
		{"other session's", foreignToken},
		{"guessed", "AAAAAAAAAAAAAAAAAAAAAAAAAA"},
	}
	ada := env.newClient(t)
	ada.signIn("ada")
	ada.wantPage("home", http.StatusOK)
	own := ada.csrf()
	plain := &http.Client{
		Jar:           ada.http.Jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, path := range paths {
		for _, tok := range tokens {
			form := url.Values{"user": {"bob"}, "username": {"bob"}, "password": {testPassword}, "device": {"x"}, "csrf": {tok.token}}
			ada.raw(http.MethodPost, path, form)
			if ada.status != http.StatusForbidden || !strings.Contains(ada.body, "This form has expired.") {
				t.Errorf("POST %s with %s token: status %d, want 403 and the expired-form page", path, tok.name, ada.status)
			}
		}
		// A token in the query string is not accepted either, so that no
		// form relies on a token in a URL. The plain client keeps this URL
		// out of the recording that rejects queries.
		resp, err := plain.Post(env.url+path+"?csrf="+url.QueryEscape(own), "application/x-www-form-urlencoded", strings.NewReader("user=bob"))
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s with the token in the query: status %d, want 403", path, resp.StatusCode)
		}
	}
	ada.get("/")
	if !ada.signedIn() || !strings.Contains(ada.body, "Signed in as ada") {
		t.Errorf("after the forged posts ada is no longer signed in as ada; body:\n%s", ada.body)
	}
}

func TestAttackSessionFixation(t *testing.T) {
	env := newTestEnv(t)
	victim := env.newClient(t)
	key := victim.enroll("alice")

	attacker := env.newClient(t)
	attacker.get("/login")
	planted := attacker.cookie(sessionCookieName)
	victim.setCookie(sessionCookieName, planted)

	victim.get("/login")
	if got := victim.cookie(sessionCookieName); got != planted {
		t.Fatalf("victim's session = %q, want the planted %q", got, planted)
	}
	victim.post("/login", url.Values{"username": {"alice"}, "password": {testPassword}})
	victim.wantPage("code", http.StatusOK)
	afterPassword := victim.cookie(sessionCookieName)
	victim.submitCode(env.nextCode(t, key), false)
	victim.wantPage("home", http.StatusOK)
	afterCode := victim.cookie(sessionCookieName)

	ids := map[string]string{"planted": planted, "after password": afterPassword, "after code": afterCode}
	if len(map[string]bool{planted: true, afterPassword: true, afterCode: true}) != 3 {
		t.Fatalf("session IDs %v; want a new ID at each step", ids)
	}
	for name, id := range map[string]string{"planted": planted, "after password": afterPassword} {
		replay := env.newClient(t)
		replay.setCookie(sessionCookieName, id)
		replay.get("/")
		if replay.signedIn() {
			t.Errorf("the %s session ID signs in a second browser", name)
		}
		replay.get("/login/code")
		replay.wantPage("login", http.StatusOK)
	}
}

func TestAttackCodePendingSession(t *testing.T) {
	env := newTestEnv(t)
	c := env.newClient(t)
	c.enroll("ada")
	c.signIn("ada")
	c.wantPage("code", http.StatusOK)

	gets := []struct {
		path string
		page string
	}{
		{"/", "home"},
		{"/setup", "login"},
		{"/devices", "login"},
		{"/admin", "login"},
	}
	for _, g := range gets {
		c.get(g.path)
		if c.page() != g.page || c.signedIn() {
			t.Errorf("GET %s with only the password step: page %q signed in %v, want page %q signed out", g.path, c.page(), c.signedIn(), g.page)
		}
	}

	for _, path := range []string{"/setup", "/setup/off", "/devices/revoke", "/admin/unlock", "/admin/backup-code"} {
		c.get("/login/code")
		c.post(path, url.Values{"code": {"000000"}, "device": {"x"}, "user": {"alice"}})
		c.wantPage("login", http.StatusOK)
	}
	enrolled, err := env.srv.manager.Enrolled(context.Background(), "ada")
	if err != nil || !enrolled {
		t.Errorf("Enrolled(ada) = %v, %v after posts from a code-pending session, want true", enrolled, err)
	}
}

func TestAttackDeviceCookieReplay(t *testing.T) {
	env := newTestEnv(t)
	alice := env.newClient(t)
	aliceKey := alice.enroll("alice")
	env.newClient(t).enroll("bob")
	alice.signIn("alice")
	alice.submitCode(env.nextCode(t, aliceKey), true)
	alice.wantPage("home", http.StatusOK)
	token := alice.cookie(devicecookie.DefaultName)
	if token == "" {
		t.Fatal("no device cookie after trusting the browser")
	}
	flipped := []byte(token)
	flipped[len(flipped)/2] ^= 1

	tests := []struct {
		name  string
		user  string
		token string
		page  string
	}{
		{"copied to another browser", "alice", token, "home"},
		{"one character changed", "alice", string(flipped), "code"},
		{"another user's cookie", "bob", token, "code"},
		{"empty", "alice", "", "code"},
		{"very long", "alice", strings.Repeat("A", 4000), "code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := env.newClient(t)
			c.setCookie(devicecookie.DefaultName, tt.token)
			c.signIn(tt.user)
			if c.page() != tt.page {
				t.Errorf("sign-in of %s with the cookie: page %q, want %q", tt.user, c.page(), tt.page)
			}
		})
	}
}

func TestAttackDeviceCookieAfterTurnOff(t *testing.T) {
	env := newTestEnv(t)
	c := env.newClient(t)
	key := c.enroll("alice")
	c.signIn("alice")
	c.submitCode(env.nextCode(t, key), true)
	token := c.cookie(devicecookie.DefaultName)

	c.get("/setup")
	c.post("/setup/off", url.Values{})
	c.wantPage("home", http.StatusOK)
	c.confirmNewSetup()
	c.signOut()

	copied := env.newClient(t)
	copied.setCookie(devicecookie.DefaultName, token)
	copied.signIn("alice")
	copied.wantPage("code", http.StatusOK)
}

func TestAttackRevokeOtherUsersDevice(t *testing.T) {
	env := newTestEnv(t)
	alice := env.newClient(t)
	key := alice.enroll("alice")
	alice.signIn("alice")
	alice.submitCode(env.nextCode(t, key), true)
	alice.get("/devices")
	deviceID := alice.find(devicePattern, "device ID")

	bob := env.newClient(t)
	bob.signIn("bob")
	bob.get("/devices")
	bob.post("/devices/revoke", url.Values{"device": {deviceID}})

	alice.signOut()
	alice.signIn("alice")
	alice.wantPage("home", http.StatusOK)
	alice.wantText("because you trusted this browser")
}

func TestAttackCookieAttributes(t *testing.T) {
	env := newTestEnv(t)
	c := env.newClient(t)
	key := c.enroll("alice")
	c.signIn("alice")
	c.wantPage("code", http.StatusOK)
	resp := c.raw(http.MethodPost, "/login/code", url.Values{
		"csrf": {c.csrf()}, "code": {env.nextCode(t, key)}, "trust": {"1"},
	})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want 303", resp.StatusCode)
	}
	cookies := map[string]*http.Cookie{}
	for _, ck := range resp.Cookies() {
		cookies[ck.Name] = ck
	}
	wantTrust := twofactor.DefaultTrustFor
	for _, name := range []string{sessionCookieName, devicecookie.DefaultName} {
		ck := cookies[name]
		if ck == nil {
			t.Errorf("no %s cookie in the response", name)
			continue
		}
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
			t.Errorf("%s: HttpOnly %v SameSite %v Path %q Domain %q, want HttpOnly, Lax, / and no domain", name, ck.HttpOnly, ck.SameSite, ck.Path, ck.Domain)
		}
	}
	if ck := cookies[sessionCookieName]; ck != nil && (ck.MaxAge != 0 || !ck.Expires.IsZero()) {
		t.Errorf("session cookie Max-Age %d Expires %v, want a browser-session cookie", ck.MaxAge, ck.Expires)
	}
	if ck := cookies[devicecookie.DefaultName]; ck != nil {
		// Max-Age counts from the wall clock and the expiry from the test
		// clock, which the sign-in moved a few time steps ahead.
		maxAge := time.Duration(ck.MaxAge) * time.Second
		if maxAge > wantTrust+5*time.Minute || maxAge < wantTrust-time.Hour {
			t.Errorf("device cookie Max-Age = %v, want about %v", maxAge, wantTrust)
		}
	}
}

func TestAttackNonAdministrator(t *testing.T) {
	env := newTestEnv(t)
	env.newClient(t).enroll("alice")
	for _, id := range []string{"bob", "sam"} {
		t.Run(id, func(t *testing.T) {
			c := env.newClient(t)
			c.signIn(id)
			c.get("/admin")
			c.wantPage("error", http.StatusForbidden)
			c.get("/")
			c.post("/admin/backup-code", url.Values{"user": {"alice"}})
			c.wantPage("error", http.StatusForbidden)
			c.wantNoText(`id="backup-code"`)
		})
	}
}

// uaTransport sends a fixed User-Agent, set below the client's recording
// transport, which would overwrite it.
type uaTransport struct {
	ua   string
	base http.RoundTripper
}

func (t uaTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req.Header.Set("User-Agent", t.ua)
	return t.base.RoundTrip(req)
}

func TestAttackReflectedXSS(t *testing.T) {
	const payload = `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	env := newTestEnv(t)

	c := env.newClient(t)
	c.get("/login")
	c.post("/login", url.Values{"username": {payload}, "password": {"x"}})
	c.wantPage("login", http.StatusUnauthorized)
	if strings.Contains(c.body, payload) || strings.Contains(c.body, "<script>") {
		t.Errorf("login page reflects the username unescaped")
	}

	ada := env.newClient(t)
	ada.signIn("ada")
	ada.get("/admin")
	ada.post("/admin/unlock", url.Values{"user": {payload}})
	ada.wantPage("admin", http.StatusUnprocessableEntity)
	if strings.Contains(ada.body, "<script>") || strings.Contains(ada.body, "<img src=x") {
		t.Errorf("admin error reflects the user field unescaped")
	}

	alice := env.newClient(t)
	alice.transport.base = uaTransport{ua: payload + " Firefox/1 Linux", base: http.DefaultTransport}
	key := alice.enroll("alice")
	alice.signIn("alice")
	alice.submitCode(env.nextCode(t, key), true)
	alice.get("/devices")
	alice.wantText("Firefox on Linux")
	if strings.Contains(alice.body, "<script>") || strings.Contains(alice.text(), "alert(") {
		t.Errorf("devices page shows the User-Agent")
	}
}

// codeToken matches s as a whole token, not inside a longer run of letters
// or digits such as a timestamp.
func codeToken(s string) *regexp.Regexp {
	return regexp.MustCompile(`(^|[^0-9A-Za-z])` + regexp.QuoteMeta(s) + `([^0-9A-Za-z]|$)`)
}

func TestAttackNoSecretsInLogs(t *testing.T) {
	env, logs := newLoggedEnv(t, memstore.New())
	var secrets []string
	addSecret := func(s string) {
		if s != "" {
			secrets = append(secrets, s)
		}
	}

	alice := env.newClient(t)
	alice.signIn("alice")
	addSecret(alice.cookie(sessionCookieName))
	addSecret(alice.csrf())
	alice.get("/setup")
	key := alice.find(setupKeyPattern, "set-up key")
	addSecret(key)
	addSecret(strings.ReplaceAll(key, " ", ""))
	setupCode := env.nextCode(t, key)
	addSecret(setupCode)
	alice.post("/setup", url.Values{"code": {setupCode}})
	alice.signOut()

	alice.signIn("alice")
	alice.wantPage("code", http.StatusOK)
	sess, ok := env.sessionOf(alice.cookie(sessionCookieName))
	if !ok || sess.challengeID == "" {
		t.Fatal("no challenge in alice's session")
	}
	addSecret(sess.challengeID)
	wrong := env.wrongCode(t, key)
	alice.submitCode(wrong, false)
	code := env.nextCode(t, key)
	addSecret(code)
	alice.submitCode(code, true)
	addSecret(alice.cookie(devicecookie.DefaultName))
	addSecret(alice.cookie(sessionCookieName))

	// A password typed into the username field.
	stranger := env.newClient(t)
	stranger.get("/login")
	stranger.post("/login", url.Values{"username": {"Tr0ub4dor-typed-as-name"}, "password": {"x"}})
	addSecret("Tr0ub4dor-typed-as-name")
	addSecret(testPassword)

	ada := env.newClient(t)
	ada.signIn("ada")
	ada.get("/admin")
	ada.post("/admin/backup-code", url.Values{"user": {"alice"}})
	backup := ada.find(backupCodePattern, "backup code")
	addSecret(backup)
	addSecret(strings.ReplaceAll(backup, "-", ""))
	addSecret(ada.csrf())

	out := logs.String()
	if !strings.Contains(out, "code_rejected") {
		t.Fatalf("log lacks the audit events; log:\n%s", out)
	}
	for _, s := range secrets {
		if codeToken(s).MatchString(out) {
			t.Errorf("log contains the secret %q", s)
		}
	}
}

func TestAttackSetupKeyIsolation(t *testing.T) {
	env := newTestEnv(t)
	alice := env.newClient(t)
	alice.signIn("alice")
	alice.get("/setup")
	aliceKey := alice.find(setupKeyPattern, "set-up key")
	aliceQR := regexp.MustCompile(`src="(data:image/png;base64,[^"]+)"`).FindStringSubmatch(alice.body)
	if aliceQR == nil {
		t.Fatal("no QR code on the set-up page")
	}

	bob := env.newClient(t)
	bob.signIn("bob")
	bob.get("/setup")
	if got := bob.find(setupKeyPattern, "set-up key"); got == aliceKey {
		t.Errorf("bob's set-up page shows alice's key")
	}
	bob.wantNoText(aliceQR[1])

	// Signing in as bob in alice's browser drops her pending key.
	alice.get("/login")
	alice.post("/login", url.Values{"username": {"bob"}, "password": {testPassword}})
	alice.get("/setup")
	if got := alice.find(setupKeyPattern, "set-up key"); got == aliceKey {
		t.Errorf("bob's set-up page in alice's browser shows alice's key")
	}

	anon := env.newClient(t)
	anon.get("/setup")
	anon.wantPage("login", http.StatusOK)

	// Once confirmed, the secret is never shown again.
	owner := env.newClient(t)
	key := owner.enroll("sam")
	owner.signIn("sam")
	owner.submitCode(env.nextCode(t, key), false)
	owner.get("/setup")
	if got := owner.find(setupKeyPattern, "set-up key"); got == key {
		t.Errorf("set-up page after enrollment shows the enrolled key again")
	}
}

func TestAttackSetupKeyReplacedBySecondSession(t *testing.T) {
	env := newTestEnv(t)
	first := env.newClient(t)
	first.signIn("alice")
	first.get("/setup")
	shown := first.find(setupKeyPattern, "set-up key")

	second := env.newClient(t)
	second.signIn("alice")
	second.get("/setup")

	first.post("/setup", url.Values{"code": {env.nextCode(t, shown)}})
	if first.page() == "home" {
		return
	}
	if got := first.find(setupKeyPattern, "set-up key"); got == shown {
		t.Errorf("after a right code for the key shown, page %q status %d shows the same dead key again", first.page(), first.status)
	}
}

func TestAttackSecurityHeaders(t *testing.T) {
	env := newTestEnv(t)
	alice := env.newClient(t)
	env.newClient(t).enroll("alice")
	ada := env.newClient(t)
	ada.signIn("ada")
	ada.get("/admin")

	type check struct {
		name string
		resp func() *http.Response
	}
	checks := []check{
		{"home", func() *http.Response { return ada.raw(http.MethodGet, "/", nil) }},
		{"setup", func() *http.Response { return ada.raw(http.MethodGet, "/setup", nil) }},
		{"admin backup code", func() *http.Response {
			ada.raw(http.MethodGet, "/admin", nil)
			return ada.raw(http.MethodPost, "/admin/backup-code", url.Values{"csrf": {ada.csrf()}, "user": {"alice"}})
		}},
		{"code page", func() *http.Response {
			alice.signIn("alice")
			return alice.raw(http.MethodGet, "/login/code", nil)
		}},
		{"forbidden form", func() *http.Response { return ada.raw(http.MethodPost, "/logout", url.Values{}) }},
		{"not found", func() *http.Response { return ada.raw(http.MethodGet, "/nope", nil) }},
		{"method not allowed", func() *http.Response { return ada.raw(http.MethodDelete, "/login", nil) }},
		{"static", func() *http.Response { return ada.raw(http.MethodGet, "/static/style.css", nil) }},
		{"redirect", func() *http.Response { return ada.raw(http.MethodGet, "/login", nil) }},
	}
	for _, ck := range checks {
		resp := ck.resp()
		h := resp.Header
		if got := h.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control = %q, want no-store", ck.name, got)
		}
		if got := h.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("%s: X-Frame-Options = %q, want DENY", ck.name, got)
		}
		if got := h.Get("Content-Security-Policy"); !strings.Contains(got, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy = %q, want frame-ancestors 'none'", ck.name, got)
		}
		if got := h.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s: Referrer-Policy = %q, want no-referrer", ck.name, got)
		}
	}
}

func TestAttackOpenRedirect(t *testing.T) {
	env := newTestEnv(t)
	c := env.newClient(t)
	paths := []string{
		"//evil.example/", "/static//evil.example/", "/login/..//evil.example",
		"/static", "/static/index.html", "/static/style.css/", "/%5Cevil.example",
		"/static/%2F%2Fevil.example", "/login/code", "/setup",
	}
	for _, p := range paths {
		resp := c.raw(http.MethodGet, p, nil)
		loc := resp.Header.Get("Location")
		if loc == "" {
			continue
		}
		u, err := url.Parse(loc)
		if err != nil {
			t.Errorf("GET %s: Location %q does not parse: %v", p, loc, err)
			continue
		}
		if u.Host != "" || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, `/\`) {
			t.Errorf("GET %s: Location = %q, want a path on this site", p, loc)
		}
	}
}

func TestAttackUsernameEnumeration(t *testing.T) {
	env := newTestEnv(t)
	u := env.srv.users
	wantCost, err := bcrypt.Cost(u.lookup("alice").hash)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := bcrypt.Cost(u.dummyHash); err != nil || got != wantCost {
		t.Errorf("cost of the placeholder hash = %d, %v; want %d like a user's", got, err, wantCost)
	}

	respond := func(name string) (int, string) {
		c := env.newClient(t)
		c.get("/login")
		token := c.csrf()
		c.post("/login", url.Values{"username": {name}, "password": {"wrong"}})
		body := strings.ReplaceAll(c.body, c.csrf(), "TOKEN")
		body = strings.ReplaceAll(body, token, "TOKEN")
		return c.status, strings.ReplaceAll(body, `maxlength="100" value="`+name+`"`, `maxlength="100" value="NAME"`)
	}
	knownStatus, knownBody := respond("alice")
	unknownStatus, unknownBody := respond("mallory")
	if knownStatus != unknownStatus || knownBody != unknownBody {
		t.Errorf("wrong password for a known user: %d, for an unknown one: %d; bodies equal %v", knownStatus, unknownStatus, knownBody == unknownBody)
	}
}

func TestAttackLockoutAcrossSignIns(t *testing.T) {
	env := newTestEnv(t)
	a := env.newClient(t)
	key := a.enroll("alice")
	b := env.newClient(t)

	a.signIn("alice")
	b.signIn("alice")
	for _, c := range []*client{a, a, b, b} {
		c.submitCode(env.wrongCode(t, key), false)
		c.wantPage("code", http.StatusUnprocessableEntity)
	}
	// A fresh sign-in does not reset the count.
	a.signIn("alice")
	a.wantPage("code", http.StatusOK)
	a.submitCode(env.wrongCode(t, key), false)
	a.wantPage("locked", http.StatusForbidden)

	b.submitCode(env.nextCode(t, key), false)
	b.wantPage("locked", http.StatusForbidden)
	b.get("/")
	if b.signedIn() {
		t.Errorf("a right code after the lock signed the user in")
	}
}

func TestAttackParallelWrongCodes(t *testing.T) {
	env := newTestEnv(t)
	c := env.newClient(t)
	key := c.enroll("alice")
	c.signIn("alice")
	c.wantPage("code", http.StatusOK)
	token := c.csrf()
	wrong := env.wrongCode(t, key)

	const n = 12
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			form := url.Values{"csrf": {token}, "code": {wrong}}
			resp, err := c.http.PostForm(env.url+"/login/code", form)
			if err != nil {
				t.Errorf("POST /login/code: %v", err)
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	rejected := 0
	for s := range statuses {
		if s == http.StatusUnprocessableEntity {
			rejected++
		}
	}
	if rejected > twofactor.DefaultMaxAttempts-1 {
		t.Errorf("%d parallel wrong codes were judged, want at most %d before the lock", rejected, twofactor.DefaultMaxAttempts-1)
	}
	locked, err := env.srv.manager.Locked(context.Background(), "alice")
	if err != nil || !locked {
		t.Errorf("Locked(alice) = %v, %v, want true", locked, err)
	}
}

func TestAttackCodeReplay(t *testing.T) {
	env := newTestEnv(t)
	c := env.newClient(t)
	c.signIn("alice")
	c.get("/setup")
	key := c.find(setupKeyPattern, "set-up key")
	setupCode := env.nextCode(t, key)
	c.post("/setup", url.Values{"code": {setupCode}})
	c.wantPage("home", http.StatusOK)
	c.signOut()

	// The code that confirmed the set-up does not also sign in.
	c.signIn("alice")
	c.submitCode(setupCode, false)
	c.wantPage("code", http.StatusUnprocessableEntity)

	// A code accepted in one browser is rejected in another in the same
	// time step.
	code := env.nextCode(t, key)
	c.submitCode(code, false)
	c.wantPage("home", http.StatusOK)
	other := env.newClient(t)
	other.signIn("alice")
	other.submitCode(code, false)
	other.wantPage("code", http.StatusUnprocessableEntity)
}

func TestAttackBackupCodeReuse(t *testing.T) {
	env := newTestEnv(t)
	alice := env.newClient(t)
	env.newClient(t).enroll("bob")
	alice.enroll("alice")
	ada := env.newClient(t)
	ada.signIn("ada")
	issue := func() string {
		ada.get("/admin")
		ada.post("/admin/backup-code", url.Values{"user": {"alice"}})
		return ada.find(backupCodePattern, "backup code")
	}

	// A newer code replaces the older one.
	old := issue()
	code := issue()
	alice.signIn("alice")
	alice.submitCode(old, false)
	alice.wantPage("code", http.StatusUnprocessableEntity)

	// Another user cannot use alice's code.
	bob := env.newClient(t)
	bob.signIn("bob")
	bob.submitCode(code, false)
	bob.wantPage("code", http.StatusUnprocessableEntity)

	// Two browsers sending the code at once: one signs in.
	second := env.newClient(t)
	second.signIn("alice")
	browsers := []*client{alice, second}
	tokens := []string{alice.csrf(), second.csrf()}
	statuses := make([]int, len(browsers))
	var wg sync.WaitGroup
	for i, b := range browsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := *b.http
			hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err := hc.PostForm(env.url+"/login/code", url.Values{"csrf": {tokens[i]}, "code": {code}})
			if err != nil {
				t.Errorf("POST /login/code: %v", err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	succeeded := 0
	for _, s := range statuses {
		if s == http.StatusSeeOther {
			succeeded++
		}
	}
	if succeeded != 1 {
		t.Errorf("statuses %v: %d browsers signed in with one backup code, want 1", statuses, succeeded)
	}
}

func TestAttackChallengeTimeLimit(t *testing.T) {
	tests := []struct {
		name  string
		after time.Duration
		page  string
	}{
		{"just inside", twofactor.DefaultChallengeTimeout - time.Second, "home"},
		{"at the limit", twofactor.DefaultChallengeTimeout, "timedout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			c := env.newClient(t)
			key := c.enroll("alice")
			c.signIn("alice")
			// Reloading the code page does not extend the limit.
			env.clock.Advance(tt.after - time.Minute)
			c.get("/login/code")
			c.wantPage("code", http.StatusOK)
			env.clock.Advance(time.Minute)
			c.submitCode(appCode(t, key, env.clock.Now()), false)
			if c.page() != tt.page {
				t.Errorf("a right code %v after the password: page %q, want %q", tt.after, c.page(), tt.page)
			}
		})
	}
}

func TestAttackResetBypassedBySSO(t *testing.T) {
	env := newTestEnv(t)
	alice := env.newClient(t)
	key := alice.enroll("alice")
	alice.lockOut("alice", key)

	ada := env.newClient(t)
	ada.signIn("ada")
	ada.get("/admin")
	ada.post("/admin/unlock", url.Values{"user": {"alice"}})
	ada.wantText("Unlocked alice.")

	alice.get("/login")
	alice.post("/login/sso", url.Values{"user": {"alice"}})
	alice.get("/devices")
	if alice.page() != "setup" {
		t.Errorf("GET /devices after an unlock and an SSO sign-in: page %q, want setup", alice.page())
	}
}

// gateStore blocks GetEnrollment while armed, so that a test can run
// another request in the middle of a handler.
type gateStore struct {
	twofactor.Store
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (g *gateStore) GetEnrollment(ctx context.Context, userID string) (twofactor.Enrollment, error) {
	if g.armed.CompareAndSwap(true, false) {
		g.entered <- struct{}{}
		<-g.release
	}
	return g.Store.GetEnrollment(ctx, userID)
}

func TestAttackSessionRevivedAfterLogout(t *testing.T) {
	store := &gateStore{Store: memstore.New(), entered: make(chan struct{}), release: make(chan struct{})}
	env, _ := newLoggedEnv(t, store)
	c := env.newClient(t)
	c.signIn("bob")
	c.wantPage("home", http.StatusOK)
	stolen := c.cookie(sessionCookieName)
	token := c.csrf()

	slow := env.newClient(t)
	slow.setCookie(sessionCookieName, stolen)
	done := make(chan struct{})
	store.armed.Store(true)
	go func() {
		defer close(done)
		resp, err := slow.http.Get(env.url + "/")
		if err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-store.entered:
	case <-done:
		t.Fatal("the home page request ended without reading the enrollment")
	}
	c.raw(http.MethodPost, "/logout", url.Values{"csrf": {token}})
	if c.status != http.StatusSeeOther {
		t.Fatalf("sign-out status %d, want 303", c.status)
	}
	close(store.release)
	<-done

	replay := env.newClient(t)
	replay.setCookie(sessionCookieName, stolen)
	replay.get("/")
	if replay.signedIn() {
		t.Errorf("the session ID still signs in after the sign-out")
	}
}

func TestAttackSessionStoreFull(t *testing.T) {
	env := newTestEnv(t)
	for range maxSessions {
		if _, err := env.srv.sessions.create(); err != nil {
			t.Fatalf("filling the store: %v", err)
		}
	}
	c := env.newClient(t)
	c.get("/login")
	if c.page() != "login" {
		t.Fatalf("a new visitor after %d anonymous visits: page %q status %d, want the sign-in page", maxSessions, c.page(), c.status)
	}
	c.post("/login", url.Values{"username": {"bob"}, "password": {testPassword}})
	c.wantPage("home", http.StatusOK)
}
