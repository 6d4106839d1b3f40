package keyuri_test

import (
	"net/url"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/twofactor-go/twofactor/internal/keyuri"
)

// TestPquernaURIDiffers records why Build does not use
// github.com/pquerna/otp v1.5.0 totp.Generate. If this test fails,
// pquerna's URIs now round-trip the names below, and totp.Generate may be
// able to replace Build.
func TestPquernaURIDiffers(t *testing.T) {
	key := []byte("12345678901234567890") // the bytes of testSecret

	t.Run("ampersand under strict decoding", func(t *testing.T) {
		const issuer = "Acme & Co"
		pquernaKey, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: "alice", Secret: key})
		if err != nil {
			t.Fatalf("totp.Generate: %v", err)
		}
		pquernaURI := pquernaKey.String()
		ours, err := keyuri.Build(keyuri.Params{Issuer: issuer, AccountName: "alice", Secret: testSecret})
		if err != nil {
			t.Fatalf("Build: %v", err)
		}

		if got := strictIssuer(t, pquernaURI); got == issuer {
			t.Errorf("pquerna URI %q: strict issuer = %q, the input; pquerna may now escape '&'", pquernaURI, got)
		}
		if got := strictIssuer(t, ours); got != issuer {
			t.Errorf("Build URI %q: strict issuer = %q; want %q", ours, got, issuer)
		}
	})

	t.Run("plus under form decoding", func(t *testing.T) {
		const issuer = "a+b"
		pquernaKey, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: "alice", Secret: key})
		if err != nil {
			t.Fatalf("totp.Generate: %v", err)
		}
		// Key.Issuer reads the issuer parameter with url.URL.Query.
		if got := pquernaKey.Issuer(); got == issuer {
			t.Errorf("pquerna URI %q: Issuer() = %q, the input; pquerna may now escape '+'", pquernaKey.String(), got)
		}

		ours, err := keyuri.Build(keyuri.Params{Issuer: issuer, AccountName: "alice", Secret: testSecret})
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		u, err := url.Parse(ours)
		if err != nil {
			t.Fatalf("url.Parse(%q): %v", ours, err)
		}
		if got := u.Query().Get("issuer"); got != issuer {
			t.Errorf("Build URI %q: form issuer = %q; want %q", ours, got, issuer)
		}
	})
}

func strictIssuer(t *testing.T, uri string) string {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", uri, err)
	}
	return parseQueryStrict(t, u.RawQuery)["issuer"]
}
