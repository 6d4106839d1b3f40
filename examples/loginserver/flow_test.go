package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/devicecookie"
)

func TestSetupAndSignInWithCode(t *testing.T) {
	env := newTestEnv(t)
	c := env.newClient(t)

	c.signIn("alice")
	c.wantPage("home", http.StatusOK)
	c.wantText("Signed in as alice", "two-factor sign-in is not set up for your account")

	c.get("/setup")
	c.wantPage("setup", http.StatusOK)
	c.wantText("Set up two-factor sign-in", `src="data:image/png;base64,`)
	key := c.find(setupKeyPattern, "set-up key")
	if groups := strings.Fields(key); len(groups) != 8 || len(groups[0]) != 4 {
		t.Errorf("key %q is in %d groups, want 8 groups of 4", key, len(groups))
	}

	c.post("/setup", url.Values{"code": {env.wrongCode(t, key)}})
	c.wantPage("setup", http.StatusUnprocessableEntity)
	c.wantText(twofactor.EnglishMessages.IncorrectCode)
	if got := c.find(setupKeyPattern, "set-up key"); got != key {
		t.Errorf("key after a wrong code = %q, want the same key %q", got, key)
	}

	c.post("/setup", url.Values{"code": {env.nextCode(t, key)}})
	c.wantPage("home", http.StatusOK)
	c.wantText("Two-factor sign-in is on.")

	c.signOut()
	c.signIn("alice")
	c.wantPage("code", http.StatusOK)
	c.wantText(`autocomplete="one-time-code"`, `inputmode="numeric"`, `<label for="code">`, "Trust this browser for 14 days")

	c.submitCode(env.nextCode(t, key), false)
	c.wantPage("home", http.StatusOK)
	c.wantText("Signed in as alice")
	if got := c.cookie(devicecookie.DefaultName); got != "" {
		t.Errorf("device cookie = %q after a sign-in without trust, want none", got)
	}
}

func TestWrongCodesWarnThenLock(t *testing.T) {
	env := newTestEnv(t)
	c := env.newClient(t)
	key := c.enroll("alice")
	c.signIn("alice")
	c.wantPage("code", http.StatusOK)

	incorrect := twofactor.EnglishMessages.IncorrectCode
	steps := []struct {
		page    string
		status  int
		want    []string
		notWant []string
	}{
		{"code", http.StatusUnprocessableEntity, []string{incorrect}, []string{`id="code-warning"`}},
		{"code", http.StatusUnprocessableEntity, []string{incorrect}, []string{`id="code-warning"`}},
		{"code", http.StatusUnprocessableEntity, []string{incorrect, attemptsLeft(2)}, nil},
		{"code", http.StatusUnprocessableEntity, []string{incorrect, attemptsLeft(1)}, nil},
		{"locked", http.StatusForbidden, []string{twofactor.EnglishMessages.Locked}, []string{incorrect}},
	}
	for i, st := range steps {
		c.submitCode(env.wrongCode(t, key), false)
		if c.page() != st.page || c.status != st.status {
			t.Fatalf("wrong code %d: page %q status %d, want %q %d", i+1, c.page(), c.status, st.page, st.status)
		}
		c.wantText(st.want...)
		c.wantNoText(st.notWant...)
	}

	// A right code and a new sign-in no longer help, nor does SSO.
	c.signIn("alice")
	c.wantPage("locked", http.StatusForbidden)
	c.get("/login")
	c.post("/login/sso", url.Values{"user": {"alice"}})
	c.wantPage("locked", http.StatusForbidden)
}

func TestAdminUnlockAndBackupCode(t *testing.T) {
	env := newTestEnv(t)
	alice := env.newClient(t)
	key := alice.enroll("alice")
	alice.lockOut("alice", key)

	ada := env.newClient(t)
	ada.signIn("ada")
	ada.wantPage("home", http.StatusOK)
	ada.get("/admin")
	ada.wantPage("admin", http.StatusOK)
	ada.wantText(`id="unlock-alice"`, `id="backup-alice"`)
	ada.wantNoText(`id="backup-ada"`, `id="unlock-bob"`)

	ada.post("/admin/unlock", url.Values{"user": {"alice"}})
	ada.wantPage("admin", http.StatusOK)
	ada.wantText("Unlocked alice.")
	ada.wantNoText(`id="unlock-alice"`)

	ada.post("/admin/backup-code", url.Values{"user": {"alice"}})
	ada.wantPage("admin", http.StatusOK)
	backup := ada.find(backupCodePattern, "backup code")
	ada.get("/admin")
	ada.wantNoText(backup)

	alice.signIn("alice")
	alice.wantPage("code", http.StatusOK)
	alice.get("/login/code?kind=backup")
	alice.wantPage("code", http.StatusOK)
	alice.wantText(`<label for="code">Backup code</label>`, `inputmode="text"`, `name="kind" value="backup"`)
	alice.submitCode(strings.ToLower(backup), false)
	alice.wantPage("setup", http.StatusOK)
	alice.wantText(
		"You signed in with a backup code; please reset 2FA.",
		"An administrator unlocked your account; you must reset 2FA.",
		"Reset two-factor sign-in",
	)

	// Until the reset, every other page leads back to the set-up.
	for _, path := range []string{"/", "/devices"} {
		alice.get(path)
		if alice.page() != "setup" {
			t.Errorf("GET %s before the reset: page %q, want setup", path, alice.page())
		}
	}
	alice.confirmNewSetup()
	alice.get("/devices")
	alice.wantPage("devices", http.StatusOK)

	// The backup code worked once.
	alice.signOut()
	alice.signIn("alice")
	alice.submitCode(backup, false)
	alice.wantPage("code", http.StatusUnprocessableEntity)
	alice.wantText(twofactor.EnglishMessages.IncorrectCode)
}

func TestAdminErrors(t *testing.T) {
	env := newTestEnv(t)
	ada := env.newClient(t)
	ada.signIn("ada")
	ada.wantPage("home", http.StatusOK)

	tests := []struct {
		name string
		path string
		user string
		want string
	}{
		{"own backup code", "/admin/backup-code", "ada", "You cannot issue a backup code for your own account"},
		{"backup code for user without 2FA", "/admin/backup-code", "bob", "bob has not set up two-factor sign-in"},
		{"backup code for unknown user", "/admin/backup-code", "mallory", `There is no user "mallory".`},
		{"unlock unknown user", "/admin/unlock", "mallory", `There is no user "mallory".`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ada.get("/admin")
			ada.post(tt.path, url.Values{"user": {tt.user}})
			ada.wantPage("admin", http.StatusUnprocessableEntity)
			ada.wantText(tt.want)
		})
	}

	bob := env.newClient(t)
	bob.signIn("bob")
	bob.get("/admin")
	bob.wantPage("error", http.StatusForbidden)
	bob.wantText("Only administrators may open this page.")
	bob.get("/")
	bob.post("/admin/unlock", url.Values{"user": {"alice"}})
	bob.wantPage("error", http.StatusForbidden)
}

func TestTrustBrowser(t *testing.T) {
	env := newTestEnv(t)
	c := env.newClient(t)
	key := c.enroll("alice")

	c.signIn("alice")
	c.wantPage("code", http.StatusOK)
	c.submitCode(env.nextCode(t, key), true)
	c.wantPage("home", http.StatusOK)
	if c.cookie(devicecookie.DefaultName) == "" {
		t.Fatalf("no device cookie after ticking Trust this browser")
	}

	c.get("/devices")
	c.wantPage("devices", http.StatusOK)
	c.wantText("Firefox on Linux")

	c.signOut()
	c.signIn("alice")
	c.wantPage("home", http.StatusOK)
	c.wantText("You signed in without a code because you trusted this browser.")

	fresh := env.newClient(t)
	fresh.signIn("alice")
	fresh.wantPage("code", http.StatusOK)

	// After a revocation the browser is asked again.
	c.get("/devices")
	c.post("/devices/revoke", url.Values{"device": {c.find(devicePattern, "device ID")}})
	c.wantPage("devices", http.StatusOK)
	c.wantText("No browser is trusted.")
	c.signOut()
	c.signIn("alice")
	c.wantPage("code", http.StatusOK)
}

func TestAdministratorCannotTrustBrowser(t *testing.T) {
	env := newTestEnv(t)
	c := env.newClient(t)
	key := c.enroll("ada")

	c.signIn("ada")
	c.wantPage("code", http.StatusOK)
	c.wantNoText("Trust this browser")
	c.submitCode(env.nextCode(t, key), true)
	c.wantPage("home", http.StatusOK)
	if got := c.cookie(devicecookie.DefaultName); got != "" {
		t.Errorf("device cookie = %q for an administrator, want none", got)
	}
	c.signOut()
	c.signIn("ada")
	c.wantPage("code", http.StatusOK)
}

func TestSingleSignOn(t *testing.T) {
	tests := []struct {
		user string
		page string
		want string
	}{
		{"alice", "home", "You signed in without a code because you used single sign-on."},
		{"sam", "home", "You signed in without a code because you used single sign-on."},
		{"ada", "code", "Enter your code"},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			env := newTestEnv(t)
			c := env.newClient(t)
			c.enroll(tt.user)
			c.get("/login")
			c.post("/login/sso", url.Values{"user": {tt.user}})
			c.wantPage(tt.page, http.StatusOK)
			c.wantText(tt.want)
		})
	}
}

func TestChallengeTimesOut(t *testing.T) {
	env := newTestEnv(t)
	c := env.newClient(t)
	key := c.enroll("alice")
	c.signIn("alice")
	c.wantPage("code", http.StatusOK)

	env.clock.Advance(twofactor.DefaultChallengeTimeout)
	c.submitCode(appCode(t, key, env.clock.Now()), false)
	c.wantPage("timedout", http.StatusOK)
	c.wantText("Sign In Attempt Timed Out", `href="/login"`)

	c.get("/login/code")
	c.wantPage("login", http.StatusOK)
}

func TestWrongPassword(t *testing.T) {
	tests := []struct{ name, user, password string }{
		{"wrong password", "alice", "not the password"},
		{"unknown user", "mallory", testPassword},
		{"empty", "", ""},
	}
	env := newTestEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := env.newClient(t)
			c.get("/login")
			c.post("/login", url.Values{"username": {tt.user}, "password": {tt.password}})
			c.wantPage("login", http.StatusUnauthorized)
			c.wantText("Incorrect username or password.")
		})
	}
}

func TestFormsNeedCSRFToken(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name  string
		visit bool // whether the client has a session
		token string
	}{
		{"no session", false, ""},
		{"missing token", true, ""},
		{"wrong token", true, "AAAAAAAAAAAAAAAAAAAAAAAAAA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := env.newClient(t)
			if tt.visit {
				c.get("/login")
			}
			c.postRaw("/login", url.Values{"username": {"alice"}, "password": {testPassword}, "csrf": {tt.token}})
			c.wantPage("error", http.StatusForbidden)
			c.wantText("This form has expired.")
		})
	}
}

func TestSignedOutPagesLeadToSignIn(t *testing.T) {
	env := newTestEnv(t)
	for _, path := range []string{"/setup", "/devices", "/admin", "/login/code"} {
		t.Run(path, func(t *testing.T) {
			c := env.newClient(t)
			c.get(path)
			c.wantPage("login", http.StatusOK)
		})
	}
}

func TestSessionRotatesAtSignIn(t *testing.T) {
	env := newTestEnv(t)
	c := env.newClient(t)
	c.get("/login")
	before := c.cookie(sessionCookieName)
	c.post("/login", url.Values{"username": {"bob"}, "password": {testPassword}})
	c.wantPage("home", http.StatusOK)
	after := c.cookie(sessionCookieName)
	if before == "" || after == "" || before == after {
		t.Errorf("session cookie before sign-in %q, after %q; want two different IDs", before, after)
	}
}

func TestResponseHeaders(t *testing.T) {
	env := newTestEnv(t)
	resp, err := http.Get(env.url + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "no-store",
		"Set-Cookie":              "HttpOnly; SameSite=Lax",
	}
	for name, part := range want {
		if got := resp.Header.Get(name); !strings.Contains(got, part) {
			t.Errorf("%s = %q, want it to contain %q", name, got, part)
		}
	}
}

func TestTurnOff(t *testing.T) {
	env := newTestEnv(t)
	c := env.newClient(t)
	key := c.enroll("alice")
	c.signIn("alice")
	c.submitCode(env.nextCode(t, key), true)
	c.wantPage("home", http.StatusOK)

	c.get("/setup")
	c.wantText("Reset two-factor sign-in", "Turn off 2FA")
	c.post("/setup/off", url.Values{})
	c.wantPage("home", http.StatusOK)
	c.wantText("Two-factor sign-in is off")
	if got := c.cookie(devicecookie.DefaultName); got != "" {
		t.Errorf("device cookie = %q after turning 2FA off, want none", got)
	}
	c.signOut()
	c.signIn("alice")
	c.wantPage("home", http.StatusOK)
	c.wantText("not set up for your account")
}

func TestSetupExpires(t *testing.T) {
	env := newTestEnv(t)
	c := env.newClient(t)
	c.signIn("alice")
	c.get("/setup")
	old := c.find(setupKeyPattern, "set-up key")

	env.clock.Advance(twofactor.DefaultSetupTimeout + time.Second)
	c.post("/setup", url.Values{"code": {appCode(t, old, env.clock.Now())}})
	c.wantPage("setup", http.StatusOK)
	c.wantText("The set-up expired.")
	if got := c.find(setupKeyPattern, "set-up key"); got == old {
		t.Errorf("key after expiry = %q, want a new key", got)
	}
}
