package twofactor_test

import (
	"bytes"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/memstore"
	"github.com/twofactor-go/twofactor/twofactortest"
)

func TestStartSetupSecret(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{Issuer: "Acme Support"})
	key, err := kit.Manager.StartSetup(t.Context(), "u1", "zoë@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(key.Secret, "=") {
		t.Errorf("secret %q has base32 padding", key.Secret)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key.Secret)
	if err != nil {
		t.Fatalf("secret is not base32: %v", err)
	}
	if len(raw) != 20 {
		t.Errorf("secret is %d bits, want 160", len(raw)*8)
	}
	u, err := url.Parse(key.URI)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" {
		t.Errorf("URI %s is not otpauth://totp/", u.Redacted())
	}
	if got := u.Query().Get("secret"); got != key.Secret {
		t.Errorf("URI secret differs from SetupKey.Secret")
	}
	if got := u.Query().Get("issuer"); got != "Acme Support" {
		t.Errorf("URI issuer = %q, want %q", got, "Acme Support")
	}
	if key.Digits != 6 || key.Period != 30*time.Second || key.Algorithm != twofactor.SHA1 {
		t.Errorf("key parameters = %v/%d/%v, want SHA1/6/30s", key.Algorithm, key.Digits, key.Period)
	}
	if want := kit.Clock.Now().Add(10 * time.Minute); !key.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", key.ExpiresAt, want)
	}
}

func TestStartSetupSecretsDiffer(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	a, err := kit.Manager.StartSetup(t.Context(), "u1", "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := kit.Manager.StartSetup(t.Context(), "u2", "b")
	if err != nil {
		t.Fatal(err)
	}
	if a.Secret == b.Secret {
		t.Errorf("two set-ups got the same secret")
	}
}

// shortReader returns n bytes, then io.EOF.
type shortReader struct{ n int }

func (r *shortReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n)
	for i := range k {
		p[i] = 0xAB
	}
	r.n -= k
	return k, nil
}

func TestStartSetupShortRandom(t *testing.T) {
	for _, n := range []int{0, 1, 19} {
		store := memstore.New()
		// The first 32 bytes seed the backup-code key in development mode.
		m, err := twofactor.New(twofactor.Config{
			Store: store, Issuer: "Test", Unencrypted: true,
			Rand: io.MultiReader(bytes.NewReader(make([]byte, 32)), &shortReader{n: n}),
		})
		if err != nil {
			t.Fatal(err)
		}
		key, err := m.StartSetup(t.Context(), "u1", "a")
		if err == nil {
			t.Errorf("StartSetup with %d random bytes = %v, want an error", n, key)
		}
		if _, err := store.GetSetup(t.Context(), "u1", time.Now()); !errors.Is(err, twofactor.ErrNotFound) {
			t.Errorf("a failed set-up was stored: %v", err)
		}
	}
}

func TestStartSetupInvalidNames(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	tests := []struct {
		user, account, field string
	}{
		{"u1", "a:b@example.com", "account name"},
		{"u1", "", "account name"},
		{"", "a", "user ID"},
		{"u\n1", "a", "user ID"},
	}
	for _, tt := range tests {
		_, err := kit.Manager.StartSetup(t.Context(), tt.user, tt.account)
		if err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("StartSetup(%q, %q) error = %v, want one naming %q", tt.user, tt.account, err, tt.field)
		}
	}
	_, err := twofactor.New(twofactor.Config{Store: memstore.New(), Issuer: "Acme:Corp", Unencrypted: true})
	if err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Errorf("New with issuer containing ':' error = %v, want one naming the issuer", err)
	}
}

func TestConfirmSetup(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	ctx := t.Context()
	key, err := kit.Manager.StartSetup(ctx, "u1", "a")
	if err != nil {
		t.Fatal(err)
	}
	wrong := wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
	if err := kit.Manager.ConfirmSetup(ctx, "u1", wrong); !errors.Is(err, twofactor.ErrIncorrectCode) {
		t.Errorf("ConfirmSetup with a wrong code error = %v, want ErrIncorrectCode", err)
	}
	if ok, _ := kit.Manager.Enrolled(ctx, "u1"); ok {
		t.Fatalf("enrolled after a wrong code")
	}
	if err := kit.Manager.ConfirmSetup(ctx, "u1", twofactortest.Code(t, key, kit.Clock.Now())); err != nil {
		t.Fatalf("ConfirmSetup: %v", err)
	}
	if ok, err := kit.Manager.Enrolled(ctx, "u1"); !ok || err != nil {
		t.Errorf("Enrolled = %v, %v, want true", ok, err)
	}
	if got := kit.Events.Count(twofactor.EventEnrolled); got != 1 {
		t.Errorf("%d enrolled events, want 1", got)
	}
	// The code that confirmed the set-up cannot sign in.
	id := beginChallenge(t, kit, "u1")
	res, err := kit.Manager.Submit(ctx, id, twofactortest.Code(t, key, kit.Clock.Now()))
	if err != nil || res.Succeeded() {
		t.Errorf("Submit of the confirming code = %+v, %v, want rejected", res, err)
	}
}

func TestSetupExpiry(t *testing.T) {
	for _, tt := range []struct {
		after time.Duration
		want  error
	}{
		{10*time.Minute - time.Second, nil},
		{10 * time.Minute, twofactor.ErrNoSetup},
	} {
		kit := twofactortest.New(t, twofactor.Config{})
		key, err := kit.Manager.StartSetup(t.Context(), "u1", "a")
		if err != nil {
			t.Fatal(err)
		}
		kit.Clock.Advance(tt.after)
		err = kit.Manager.ConfirmSetup(t.Context(), "u1", twofactortest.Code(t, key, kit.Clock.Now()))
		if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Errorf("ConfirmSetup %v after start error = %v, want %v", tt.after, err, tt.want)
		}
	}
}

func TestUnconfirmedSetupNeverBlocksLogin(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	if _, err := kit.Manager.StartSetup(t.Context(), "u1", "a"); err != nil {
		t.Fatal(err)
	}
	d, err := kit.Manager.Begin(t.Context(), twofactor.Login{UserID: "u1", Role: twofactor.RoleAdministrator})
	if err != nil {
		t.Fatal(err)
	}
	if d.Required || d.Reason != twofactor.ReasonNotEnrolled {
		t.Errorf("Begin with only a pending set-up = %+v, want skipped as not enrolled", d)
	}
}

func TestResetKeepsOldSecretUntilConfirmed(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	ctx := t.Context()
	oldKey := kit.Enroll(t, "u1")
	newKey, err := kit.Manager.StartSetup(ctx, "u1", "a")
	if err != nil {
		t.Fatal(err)
	}

	// Before the reset is confirmed, the old app still signs in.
	res := submit(t, kit, beginChallenge(t, kit, "u1"), twofactortest.Code(t, oldKey, kit.Clock.Now()))
	if !res.Succeeded() {
		t.Fatalf("old code during a pending reset = %+v, want success", res)
	}
	kit.Clock.Advance(30 * time.Second)
	if err := kit.Manager.ConfirmSetup(ctx, "u1", twofactortest.Code(t, newKey, kit.Clock.Now())); err != nil {
		t.Fatal(err)
	}
	if got := kit.Events.Count(twofactor.EventReset); got != 1 {
		t.Errorf("%d reset events, want 1", got)
	}
	kit.Clock.Advance(30 * time.Second)

	// After it, the old app is refused and the new one works.
	res = submit(t, kit, beginChallenge(t, kit, "u1"), twofactortest.Code(t, oldKey, kit.Clock.Now()))
	if res.Succeeded() {
		t.Errorf("old code after reset succeeded")
	}
	res = submit(t, kit, beginChallenge(t, kit, "u1"), twofactortest.Code(t, newKey, kit.Clock.Now()))
	if !res.Succeeded() {
		t.Errorf("new code after reset = %+v, want success", res)
	}
}

func TestTurnOff(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	ctx := t.Context()
	kit.Enroll(t, "u1")
	if err := kit.Manager.TurnOff(ctx, "u1", "admin"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := kit.Manager.Enrolled(ctx, "u1"); ok {
		t.Errorf("still enrolled after TurnOff")
	}
	if err := kit.Manager.TurnOff(ctx, "u1", "admin"); err != nil {
		t.Errorf("second TurnOff: %v", err)
	}
	d, err := kit.Manager.Begin(ctx, twofactor.Login{UserID: "u1", Role: twofactor.RoleAgent})
	if err != nil || d.Required {
		t.Errorf("Begin after TurnOff = %+v, %v, want skipped", d, err)
	}
}

func TestSetupKeyPNGTooSmall(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	key, err := kit.Manager.StartSetup(t.Context(), "u1", "a")
	if err != nil {
		t.Fatal(err)
	}
	_, err = key.PNG(20)
	if err == nil || !strings.Contains(err.Error(), "at least") {
		t.Errorf("PNG(20) error = %v, want one naming the smallest size", err)
	}
	if err != nil && strings.Contains(err.Error(), key.Secret) {
		t.Errorf("PNG error contains the secret")
	}
	png, err := key.PNG(256)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("PNG(256) = %d bytes, %v, want a PNG", len(png), err)
	}
}

func TestSetupKeyRedacts(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	key, err := kit.Manager.StartSetup(t.Context(), "u1", "a")
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		out := sprintf(format, key)
		if strings.Contains(out, key.Secret) || strings.Contains(out, hex.EncodeToString([]byte(key.Secret))) {
			t.Errorf("fmt %s of SetupKey shows the secret: %s", format, out)
		}
	}
}

func TestPendingSetupShowsSameKey(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{Digits: 8})
	ctx := t.Context()
	if _, err := kit.Manager.PendingSetup(ctx, "u1", "a@example.com"); !errors.Is(err, twofactor.ErrNoSetup) {
		t.Errorf("PendingSetup before any set-up error = %v, want ErrNoSetup", err)
	}
	started, err := kit.Manager.StartSetup(ctx, "u1", "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	kit.Clock.Advance(time.Minute)
	again, err := kit.Manager.PendingSetup(ctx, "u1", "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if again.Secret != started.Secret || again.URI != started.URI || again.Digits != 8 ||
		again.Period != started.Period || !again.ExpiresAt.Equal(started.ExpiresAt) {
		t.Errorf("PendingSetup = %v / %s, want the key StartSetup returned", again, again.URI)
	}
	// A set-up started elsewhere replaces it, and PendingSetup follows.
	newer, err := kit.Manager.StartSetup(ctx, "u1", "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	again, err = kit.Manager.PendingSetup(ctx, "u1", "a@example.com")
	if err != nil || again.Secret != newer.Secret {
		t.Errorf("PendingSetup after a second StartSetup returned another key: %v", err)
	}
	kit.Clock.Advance(10 * time.Minute)
	if _, err := kit.Manager.PendingSetup(ctx, "u1", "a@example.com"); !errors.Is(err, twofactor.ErrNoSetup) {
		t.Errorf("PendingSetup after expiry error = %v, want ErrNoSetup", err)
	}
}
