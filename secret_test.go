package twofactor_test

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/memstore"
	"github.com/twofactor-go/twofactor/twofactortest"
)

func testKey(id string, fill byte) twofactor.EncryptionKey {
	return twofactor.EncryptionKey{ID: id, Secret: bytes.Repeat([]byte{fill}, 32)}
}

func TestNewEncryptionSettings(t *testing.T) {
	tests := []struct {
		name string
		cfg  twofactor.Config
		want string // part of the error, empty for success
	}{
		{"no key", twofactor.Config{}, "Config.Keys is empty"},
		{"short key", twofactor.Config{Keys: []twofactor.EncryptionKey{{ID: "k1", Secret: make([]byte, 16)}}}, "32"},
		{"both", twofactor.Config{Keys: []twofactor.EncryptionKey{testKey("k1", 1)}, Unencrypted: true}, "Unencrypted"},
		{"key", twofactor.Config{Keys: []twofactor.EncryptionKey{testKey("k1", 1)}}, ""},
		{"development", twofactor.Config{Unencrypted: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Store, tt.cfg.Issuer = memstore.New(), "Test"
			_, err := twofactor.New(tt.cfg)
			if tt.want == "" && err != nil {
				t.Fatalf("New: %v", err)
			}
			if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("New error = %v, want one containing %q", err, tt.want)
			}
			for _, k := range tt.cfg.Keys {
				if err != nil && bytes.Contains([]byte(err.Error()), k.Secret) {
					t.Errorf("error shows the key")
				}
			}
		})
	}
}

// rawSecret decodes a SetupKey's base32 secret.
func rawSecret(t *testing.T, key *twofactor.SetupKey) []byte {
	t.Helper()
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key.Secret)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestStoreHoldsOnlyCiphertext(t *testing.T) {
	store := memstore.New()
	kit := twofactortest.New(t, twofactor.Config{Store: store, Keys: []twofactor.EncryptionKey{testKey("k1", 7)}})
	pending, err := kit.Manager.StartSetup(t.Context(), "u2", "b")
	if err != nil {
		t.Fatal(err)
	}
	setup, err := store.GetSetup(t.Context(), "u2", kit.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(setup.Secret, rawSecret(t, pending)) || bytes.Contains(setup.Secret, []byte(pending.Secret)) {
		t.Errorf("pending set-up holds the secret in clear")
	}
	key := kit.Enroll(t, "u1")
	e, err := store.GetEnrollment(t.Context(), "u1")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(e.Secret, rawSecret(t, key)) || bytes.Contains(e.Secret, []byte(key.Secret)) {
		t.Errorf("enrollment holds the secret in clear")
	}
	if len(e.Secret) < 20+24+16 {
		t.Errorf("stored secret is %d bytes, too short to be a sealed 20-byte secret", len(e.Secret))
	}
}

func TestSwappedSecretFails(t *testing.T) {
	store := memstore.New()
	kit := twofactortest.New(t, twofactor.Config{Store: store, Keys: []twofactor.EncryptionKey{testKey("k1", 7)}})
	kit.Enroll(t, "u1")
	mallory := kit.Enroll(t, "mallory")
	ctx := t.Context()
	victim, _ := store.GetEnrollment(ctx, "u1")
	own, _ := store.GetEnrollment(ctx, "mallory")
	// Copy mallory's ciphertext into u1's record.
	if err := store.ReplaceSecret(ctx, "u1", victim.Secret, own.Secret); err != nil {
		t.Fatal(err)
	}
	res, err := kit.Manager.Submit(ctx, beginChallenge(t, kit, "u1"), twofactortest.Code(t, mallory, kit.Clock.Now()))
	if !errors.Is(err, twofactor.ErrDecrypt) || res.Succeeded() {
		t.Errorf("Submit with a swapped ciphertext = %+v, %v, want ErrDecrypt", res, err)
	}
}

func TestTamperedAndUnknownKey(t *testing.T) {
	tests := []struct {
		name   string
		change func(sealed []byte) []byte
	}{
		{"flipped bit", func(s []byte) []byte { s[len(s)-1] ^= 1; return s }},
		{"truncated", func(s []byte) []byte { return s[:len(s)-1] }},
		{"empty", func([]byte) []byte { return nil }},
		{"unencrypted", func([]byte) []byte { return append([]byte{0}, make([]byte, 20)...) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := memstore.New()
			kit := twofactortest.New(t, twofactor.Config{Store: store, Keys: []twofactor.EncryptionKey{testKey("k1", 7)}})
			key := kit.Enroll(t, "u1")
			e, _ := store.GetEnrollment(t.Context(), "u1")
			if err := store.ReplaceSecret(t.Context(), "u1", e.Secret, tt.change(bytes.Clone(e.Secret))); err != nil {
				t.Fatal(err)
			}
			res, err := kit.Manager.Submit(t.Context(), beginChallenge(t, kit, "u1"), twofactortest.Code(t, key, kit.Clock.Now()))
			if !errors.Is(err, twofactor.ErrDecrypt) || res.Succeeded() {
				t.Errorf("Submit = %+v, %v, want ErrDecrypt", res, err)
			}
			if acct, _ := store.GetAccount(t.Context(), "u1"); acct.Failures != 0 {
				t.Errorf("a decryption failure counted %d failures, want 0", acct.Failures)
			}
		})
	}
	t.Run("unknown key id", func(t *testing.T) {
		store := memstore.New()
		old := twofactortest.New(t, twofactor.Config{Store: store, Keys: []twofactor.EncryptionKey{testKey("k1", 7)}})
		key := old.Enroll(t, "u1")
		kit := twofactortest.New(t, twofactor.Config{Store: store, Now: old.Clock.Now, Keys: []twofactor.EncryptionKey{testKey("k2", 8)}})
		_, err := kit.Manager.Submit(t.Context(), beginChallenge(t, kit, "u1"), twofactortest.Code(t, key, old.Clock.Now()))
		if !errors.Is(err, twofactor.ErrDecrypt) || !strings.Contains(err.Error(), `"k1"`) {
			t.Errorf("Submit with an unknown key id error = %v, want ErrDecrypt naming k1", err)
		}
	})
}

func TestRotateKeys(t *testing.T) {
	store := memstore.New()
	failing := twofactortest.NewFailingStore(store)
	old := twofactortest.New(t, twofactor.Config{Store: failing, Keys: []twofactor.EncryptionKey{testKey("k1", 1)}})
	keys := map[string]*twofactor.SetupKey{}
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		keys[id] = old.Enroll(t, id)
	}
	ring := []twofactor.EncryptionKey{testKey("k2", 2), testKey("k1", 1)}
	kit := twofactortest.New(t, twofactor.Config{Store: failing, Now: old.Clock.Now, Keys: ring})
	ctx := t.Context()

	// The store goes away after two secrets are rotated.
	failing.FailAfter(2, nil, "ReplaceSecret")
	n, err := kit.Manager.RotateKeys(ctx)
	if !errors.Is(err, twofactortest.ErrInjected) || n != 2 {
		t.Fatalf("interrupted RotateKeys = %d, %v, want 2 and the store's error", n, err)
	}
	failing.Heal()

	// Running it again finishes the job, and a third run has nothing to do.
	if n, err := kit.Manager.RotateKeys(ctx); n != 3 || err != nil {
		t.Errorf("RotateKeys after the interruption = %d, %v, want 3", n, err)
	}
	if n, err := kit.Manager.RotateKeys(ctx); n != 0 || err != nil {
		t.Errorf("third RotateKeys = %d, %v, want 0", n, err)
	}

	// Every user signs in with only the new key.
	only := twofactortest.New(t, twofactor.Config{Store: store, Now: old.Clock.Now, Keys: ring[:1]})
	for id, key := range keys {
		res := submit(t, only, beginChallenge(t, only, id), twofactortest.Code(t, key, old.Clock.Now()))
		if !res.Succeeded() {
			t.Errorf("user %s after rotation = %+v, want success", id, res)
		}
	}
}

func TestRotateFromDevelopmentMode(t *testing.T) {
	store := memstore.New()
	dev := twofactortest.New(t, twofactor.Config{Store: store, Unencrypted: true})
	key := dev.Enroll(t, "u1")
	kit := twofactortest.New(t, twofactor.Config{Store: store, Now: dev.Clock.Now, Keys: []twofactor.EncryptionKey{testKey("k1", 1)}})
	if n, err := kit.Manager.RotateKeys(t.Context()); n != 1 || err != nil {
		t.Fatalf("RotateKeys of an unencrypted secret = %d, %v, want 1", n, err)
	}
	e, _ := store.GetEnrollment(t.Context(), "u1")
	if bytes.Contains(e.Secret, rawSecret(t, key)) {
		t.Errorf("secret still in clear after rotation")
	}
	if res := submit(t, kit, beginChallenge(t, kit, "u1"), twofactortest.Code(t, key, dev.Clock.Now())); !res.Succeeded() {
		t.Errorf("sign-in after encrypting = %+v, want success", res)
	}
}

func TestEncryptionKeyNeverPrinted(t *testing.T) {
	key := testKey("k1", 'Z')
	cfg := twofactor.Config{Issuer: "Test", Keys: []twofactor.EncryptionKey{key}}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "cfg", cfg, "key", key, "keys", cfg.Keys)
	out := logs.String()
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		out += fmt.Sprintf(format, cfg) + fmt.Sprintf(format, key)
	}
	for _, form := range []string{string(key.Secret), hex.EncodeToString(key.Secret), base64.StdEncoding.EncodeToString(key.Secret), "90 90 90", "[90"} {
		if strings.Contains(strings.ToLower(out), strings.ToLower(form)) {
			t.Errorf("printed output contains the key as %q", form)
		}
	}
	if !strings.Contains(out, "k1") {
		t.Errorf("printed output lacks the key id: %s", out)
	}
}

func TestNewRejectsHugeDurations(t *testing.T) {
	huge := 11 * 365 * 24 * time.Hour
	for name, cfg := range map[string]twofactor.Config{
		"SetupTimeout":     {SetupTimeout: huge},
		"ChallengeTimeout": {ChallengeTimeout: huge},
		"BackupCodeTTL":    {BackupCodeTTL: huge},
		"TrustFor":         {Policy: twofactor.Policy{TrustFor: huge}},
	} {
		cfg.Store, cfg.Issuer, cfg.Unencrypted = memstore.New(), "Test", true
		_, err := twofactor.New(cfg)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("New with %s of 11 years error = %v, want one naming %s", name, err, name)
		}
	}
}
