package seal

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// secretForms returns the encodings in which a leaked secret could appear in
// text output.
func secretForms(secret []byte) []string {
	return []string{
		string(secret),
		hex.EncodeToString(secret),
		strings.ToUpper(hex.EncodeToString(secret)),
		base64.StdEncoding.EncodeToString(secret),
		base64.RawURLEncoding.EncodeToString(secret),
		base32.StdEncoding.EncodeToString(secret),
		fmt.Sprint(secret), // [65 66 ...]
		// Prefixes catch a secret that is printed in part or with
		// separators after the first bytes.
		string(secret[:8]),
		hex.EncodeToString(secret[:8]),
		fmt.Sprint(secret[:4])[1:],
	}
}

func checkNoSecret(t *testing.T, label, text string, secrets ...[]byte) {
	t.Helper()
	for _, secret := range secrets {
		for _, form := range secretForms(secret) {
			if strings.Contains(text, form) {
				t.Errorf("%s = %q contains a secret as %q", label, text, form)
			}
		}
	}
}

func TestKeyString(t *testing.T) {
	key := testKey("k1", 1)
	tests := []struct {
		format string
		want   string
	}{
		{"%v", `seal.Key{ID: "k1"}`},
		{"%+v", `seal.Key{ID: "k1"}`},
		{"%#v", `seal.Key{ID: "k1"}`},
		{"%s", `seal.Key{ID: "k1"}`},
		{"%q", `"seal.Key{ID: \"k1\"}"`},
	}
	for _, tt := range tests {
		if got := fmt.Sprintf(tt.format, key); got != tt.want {
			t.Errorf("Sprintf(%q, key) = %s, want %s", tt.format, got, tt.want)
		}
	}
}

func TestRingString(t *testing.T) {
	r := mustRing(t, testKey("k2", 2), testKey("k1", 1))
	const want = `seal.Ring{primary: "k2", keys: 2}`
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if got := fmt.Sprintf(format, r); got != want {
			t.Errorf("Sprintf(%q, ring) = %s, want %s", format, got, want)
		}
	}
	var nilRing *Ring
	if got, want := fmt.Sprint(nilRing), "seal.Ring(nil)"; got != want {
		t.Errorf("Sprint(nil ring) = %s, want %s", got, want)
	}
}

func TestFmtRedactsSecrets(t *testing.T) {
	k1, k2 := testKey("k1", 1), testKey("k2", 2)
	r := mustRing(t, k2, k1)
	values := map[string]any{
		"Key":        k1,
		"*Key":       &k1,
		"[]Key":      []Key{k1, k2},
		"struct":     struct{ Keys []Key }{[]Key{k1, k2}},
		"*Ring":      r,
		"ring field": struct{ R *Ring }{r},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"}
	for name, v := range values {
		for _, verb := range verbs {
			got := fmt.Sprintf(verb, v)
			checkNoSecret(t, fmt.Sprintf("Sprintf(%q, %s)", verb, name), got, k1.Secret, k2.Secret)
		}
	}
}

func TestSlogRedactsSecrets(t *testing.T) {
	k1, k2 := testKey("k1", 1), testKey("k2", 2)
	r := mustRing(t, k2, k1)
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"JSON": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	}
	for name, newHandler := range handlers {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(newHandler(&buf))
			logger.Info("keys loaded",
				"ring", r,
				"key", k1,
				"key_ptr", &k2,
				"keys", []Key{k1, k2},
				"config", struct{ Keys []Key }{[]Key{k1, k2}},
			)
			out := buf.String()
			checkNoSecret(t, name+" log", out, k1.Secret, k2.Secret)
			// The ids must still be logged, so that the check above
			// is not passing on an empty or broken record.
			for _, want := range []string{"k1", "k2", "keys loaded"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s log = %q, want it to contain %q", name, out, want)
				}
			}
		})
	}
}

func TestSlogJSONShape(t *testing.T) {
	r := mustRing(t, testKey("k2", 2), testKey("k1", 1))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "ring", r, "key", testKey("k1", 1))

	var record struct {
		Ring struct {
			Primary string `json:"primary"`
			Keys    int    `json:"keys"`
		} `json:"ring"`
		Key struct {
			ID string `json:"id"`
		} `json:"key"`
	}
	if err := json.Unmarshal(buf.Bytes(), &record); err != nil {
		t.Fatalf("json.Unmarshal(%q): %v", buf.String(), err)
	}
	if record.Ring.Primary != "k2" {
		t.Errorf("ring.primary = %q, want %q", record.Ring.Primary, "k2")
	}
	if record.Ring.Keys != 2 {
		t.Errorf("ring.keys = %d, want 2", record.Ring.Keys)
	}
	if record.Key.ID != "k1" {
		t.Errorf("key.id = %q, want %q", record.Key.ID, "k1")
	}
}

func TestKeyMarshalJSON(t *testing.T) {
	key := testKey("k1", 1)
	got, err := json.Marshal([]Key{key})
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	if want := `[{"id":"k1"}]`; string(got) != want {
		t.Errorf("json.Marshal = %s, want %s", got, want)
	}
	checkNoSecret(t, "json.Marshal", string(got), key.Secret)
}
