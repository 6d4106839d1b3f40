package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/twofactor-go/twofactor"
)

const (
	// chromiumPath is where Debian's chromium package installs the browser.
	chromiumPath = "/usr/bin/chromium"

	// stepTimeout bounds each browser step, including the browser start.
	stepTimeout = 30 * time.Second

	// artifactsEnv names a directory for screenshots. Failed steps save one
	// there, or in os.TempDir when it is unset, and with it set the test
	// also saves screenshots of the set-up page and of the code page with a
	// warning, for a person to look at.
	artifactsEnv = "TWOFACTOR_E2E_ARTIFACTS"
)

// requireChromium skips the test when Chromium is missing, but fails it
// when CI=true, so that a CI machine without the browser cannot pass.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	msg := "headless Chromium not found at " + chromiumPath +
		"; install the Debian packages chromium and chromium-driver (apt-get install -y chromium chromium-driver)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// chromiumOptions are the command-line flags of every browser profile.
// Besides the usual headless flags, they turn off the features that call
// home and resolve no host name but 127.0.0.1, so the browser sends no
// traffic off the machine.
func chromiumOptions(userDataDir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(userDataDir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,AutofillServerCommunication"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("safebrowsing-disable-auto-update", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	}
}

// profile is one Chromium with its own fresh user data directory, so it
// shares no cookie with another profile.
type profile struct {
	t    *testing.T
	name string
	env  *testEnv
	ctx  context.Context
}

// newProfile starts Chromium with a fresh profile and turns off
// JavaScript in its pages, to show that every page works without it.
func (e *testEnv) newProfile(t *testing.T, name string) *profile {
	t.Helper()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), chromiumOptions(t.TempDir())...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})

	// The first call starts the browser and binds it to ctx, so it cannot
	// take a timeout context; a timer cancels the start instead.
	timer := time.AfterFunc(stepTimeout, cancelCtx)
	_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	if !timer.Stop() {
		t.Fatalf("starting Chromium for profile %q timed out after %v", name, stepTimeout)
	}
	if err != nil {
		t.Fatalf("starting Chromium for profile %q: %v", name, err)
	}
	return &profile{t: t, name: name, env: e, ctx: ctx}
}

// fail saves a screenshot of the page and fails the test.
func (p *profile) fail(step string, err error) {
	p.t.Helper()
	p.t.Fatalf("%s (profile %s): %v\nscreenshot: %s", step, p.name, err, p.screenshot(step, artifactsDir()))
}

// failf is fail with a formatted message.
func (p *profile) failf(step, format string, args ...any) {
	p.t.Helper()
	p.fail(step, fmt.Errorf(format, args...))
}

// artifactsDir returns the directory for screenshots.
func artifactsDir() string {
	if dir := os.Getenv(artifactsEnv); dir != "" {
		return dir
	}
	return os.TempDir()
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// screenshot saves a PNG of the whole page in dir and returns its path, or
// a description of why it could not.
func (p *profile) screenshot(name, dir string) string {
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "none: taking it failed: " + err.Error()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "none: " + err.Error()
	}
	file := unsafeFileChars.ReplaceAllString(p.t.Name()+"-"+p.name+"-"+name, "_") + ".png"
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return "none: " + err.Error()
	}
	return path
}

// keepScreenshot saves a screenshot for review when artifactsEnv is set.
func (p *profile) keepScreenshot(name string) {
	p.t.Helper()
	if dir := os.Getenv(artifactsEnv); dir != "" {
		p.t.Logf("screenshot of %s: %s", name, p.screenshot(name, dir))
	}
}

// navigate runs actions that load a page, waits for it and checks that it
// is the page named wantPage.
func (p *profile) navigate(step, wantPage string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, actions...); err != nil {
		p.fail(step, err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.page`))
	if err != nil {
		p.fail(step, err)
	}
	if got != wantPage {
		p.failf(step, "page %q, want %q", got, wantPage)
	}
}

// open loads path.
func (p *profile) open(path, wantPage string) {
	p.t.Helper()
	p.navigate("open "+path, wantPage, chromedp.Navigate(p.env.url+path))
}

// do runs actions that stay on the page.
func (p *profile) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.fail(step, err)
	}
}

// text returns the visible text of the element that sel selects.
func (p *profile) text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.fail("read "+sel, err)
	}
	return s
}

// wantText checks that the element that sel selects shows each text.
func (p *profile) wantText(sel string, texts ...string) {
	p.t.Helper()
	if p.count(sel) == 0 {
		p.failf("check "+sel, "the page has no element %s, want one showing %q", sel, texts)
	}
	got := p.text(sel)
	for _, want := range texts {
		if !strings.Contains(got, want) {
			p.failf("check "+sel, "%s shows %q, want it to contain %q", sel, got, want)
		}
	}
}

// count returns the number of elements that sel selects.
func (p *profile) count(sel string) int {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+quoteJS(sel)+`).length`))
	if err != nil {
		p.fail("count "+sel, err)
	}
	return n
}

// checkImageLoaded checks that the image that sel selects was decoded
// and is size pixels wide.
func (p *profile) checkImageLoaded(sel string, size int) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	expr := `(() => { const img = document.querySelector(` + quoteJS(sel) + `); return img && img.complete ? img.naturalWidth : -1; })()`
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
	if err != nil {
		p.fail("check image "+sel, err)
	}
	if width != size {
		p.failf("check image "+sel, "image %s is %d pixels wide, want %d (-1: not loaded)", sel, width, size)
	}
}

// quoteJS returns s as a JavaScript string literal.
func quoteJS(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // a Go string always marshals
	}
	return string(b)
}

// signIn types the user's name and password and presses Sign in.
func (p *profile) signIn(userID, wantPage string) {
	p.t.Helper()
	p.open("/login", "login")
	p.navigate("sign in as "+userID, wantPage,
		chromedp.SendKeys(chromedp.CSS("#username"), userID),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("#password-submit")),
	)
}

// signOut presses Sign out.
func (p *profile) signOut() {
	p.t.Helper()
	p.navigate("sign out", "login", chromedp.Click(chromedp.CSS("#logout-submit")))
}

// enterCode types a code on the code page, ticks "Trust this browser" when
// trust is set, and presses Verify.
func (p *profile) enterCode(code string, trust bool, wantPage string) {
	p.t.Helper()
	actions := []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.CSS("#code"), code)}
	if trust {
		actions = append(actions, chromedp.Click(chromedp.CSS("#trust")))
	}
	actions = append(actions, chromedp.Click(chromedp.CSS("#code-submit")))
	p.navigate("enter a code", wantPage, actions...)
}

// confirmSetup reads the key beside the QR code, computes the code as an
// app would, confirms it and returns the key.
func (p *profile) confirmSetup() string {
	p.t.Helper()
	key := p.text("#setup-key")
	p.navigate("confirm the set-up", "home",
		chromedp.SendKeys(chromedp.CSS("#code"), p.env.nextCode(p.t, key)),
		chromedp.Click(chromedp.CSS("#setup-submit")),
	)
	p.wantText("main", "Two-factor sign-in is on.")
	return key
}

func TestBrowserSignInFlows(t *testing.T) {
	requireChromium(t)
	env := newTestEnv(t)
	alice := env.newProfile(t, "alice")

	// Set-up: scan or type the key, a wrong code, then the right one.
	alice.signIn("alice", "home")
	alice.wantText("main", "two-factor sign-in is not set up")
	alice.open("/setup", "setup")
	if w := alice.count(`#qr[src^="data:image/png;base64,"]`); w != 1 {
		alice.failf("check the QR code", "found %d QR code images with a PNG data URL, want 1", w)
	}
	alice.checkImageLoaded("#qr", qrSize)
	key := alice.text("#setup-key")
	alice.keepScreenshot("setup-page")
	alice.navigate("confirm with a wrong code", "setup",
		chromedp.SendKeys(chromedp.CSS("#code"), env.wrongCode(t, key)),
		chromedp.Click(chromedp.CSS("#setup-submit")),
	)
	alice.wantText("#code-message", twofactor.EnglishMessages.IncorrectCode)
	if got := alice.text("#setup-key"); got != key {
		alice.failf("check the key after a wrong code", "key %q, want the same key %q", got, key)
	}
	if got := alice.confirmSetup(); got != key {
		alice.failf("confirm the set-up", "confirmed key %q, want %q", got, key)
	}

	// Sign out, then sign in with a code.
	alice.signOut()
	alice.signIn("alice", "code")
	if n := alice.count(`label[for="code"]`); n != 1 {
		alice.failf("check the code label", "found %d labels for the code field, want 1", n)
	}
	alice.enterCode(env.nextCode(t, key), false, "home")
	alice.wantText("#signed-in-as", "alice")
	alice.signOut()

	// Wrong codes: warnings after the 3rd and 4th, a lock at the 5th.
	alice.signIn("alice", "code")
	warnings := []string{"", "", attemptsLeft(2), attemptsLeft(1)}
	for i, warning := range warnings {
		alice.enterCode(env.wrongCode(t, key), false, "code")
		alice.wantText("#code-message", twofactor.EnglishMessages.IncorrectCode)
		if warning == "" {
			if n := alice.count("#code-warning"); n != 0 {
				alice.failf("check no warning", "wrong code %d shows a warning, want none", i+1)
			}
			continue
		}
		alice.wantText("#code-warning", warning)
		if i == 2 {
			alice.keepScreenshot("code-page-warning")
		}
	}
	alice.enterCode(env.wrongCode(t, key), false, "locked")
	alice.wantText("#locked-message", twofactor.EnglishMessages.Locked)

	// An administrator unlocks alice and issues a backup code.
	ada := env.newProfile(t, "ada")
	ada.signIn("ada", "home")
	ada.open("/admin", "admin")
	ada.wantText("#user-alice", "locked")
	ada.navigate("unlock alice", "admin", chromedp.Click(chromedp.CSS("#unlock-alice")))
	ada.wantText("main", "Unlocked alice.")
	ada.navigate("issue a backup code", "admin", chromedp.Click(chromedp.CSS("#backup-alice")))
	backup := ada.text("#backup-code")

	// Alice signs in with the backup code and must reset 2FA.
	alice.signIn("alice", "code")
	alice.enterCode(backup, false, "setup")
	alice.wantText("main", noticeBackupCodeUsed.Text, noticeResetRequired.Text)
	key = alice.confirmSetup()

	// "Trust this browser" skips the code at the next sign-in.
	alice.signOut()
	alice.signIn("alice", "code")
	alice.enterCode(env.nextCode(t, key), true, "home")
	alice.signOut()
	alice.signIn("alice", "home")
	alice.wantText("main", "You signed in without a code because you trusted this browser.")
	alice.open("/devices", "devices")
	alice.wantText("main", "Chrome on Linux")

	// A fresh profile has no device cookie and is asked for a code.
	fresh := env.newProfile(t, "alice-fresh")
	fresh.signIn("alice", "code")
	fresh.enterCode(env.nextCode(t, key), false, "home")
}
