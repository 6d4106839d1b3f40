package twofactor_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/twofactortest"
)

// requireTool returns the path of a command, skipping the test when it is
// missing, except under CI=true, where a missing tool fails it.
func requireTool(t *testing.T, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found; install the Debian package %s", name, debianPackage)
	}
	t.Skipf("%s not found; install the Debian package %s to run this test", name, debianPackage)
	return ""
}

// TestOathtoolSignsIn enrolls and signs in with codes that oathtool, a
// real authenticator, computes from the key the library produced.
func TestOathtoolSignsIn(t *testing.T) {
	oathtool := requireTool(t, "oathtool", "oathtool")
	for _, tt := range []struct {
		name string
		cfg  twofactor.Config
		flag string
	}{
		{"default", twofactor.Config{}, "--totp"},
		{"SHA256 8 digits 60s", twofactor.Config{Algorithm: twofactor.SHA256, Digits: 8, Period: 60 * time.Second}, "--totp=sha256"},
		{"SHA512", twofactor.Config{Algorithm: twofactor.SHA512}, "--totp=sha512"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			kit := twofactortest.New(t, tt.cfg)
			ctx := t.Context()
			code := func(key *twofactor.SetupKey) string {
				out, err := exec.Command(oathtool, tt.flag, "--base32",
					"--digits="+strconv.Itoa(key.Digits),
					"--time-step-size="+strconv.Itoa(int(key.Period.Seconds()))+"s",
					"--now="+kit.Clock.Now().UTC().Format("2006-01-02 15:04:05 UTC"),
					key.Secret).Output()
				if err != nil {
					t.Fatalf("oathtool: %v", err)
				}
				return strings.TrimSpace(string(out))
			}
			key, err := kit.Manager.StartSetup(ctx, "u1", "u1@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if err := kit.Manager.ConfirmSetup(ctx, "u1", code(key)); err != nil {
				t.Fatalf("ConfirmSetup with oathtool's code: %v", err)
			}
			kit.Clock.Advance(key.Period)
			res := submit(t, kit, beginChallenge(t, kit, "u1"), code(key))
			if !res.Succeeded() {
				t.Errorf("sign-in with oathtool's code = %+v, want success", res)
			}
		})
	}
}

// TestZbarimgReadsQR decodes the set-up QR code with zbarimg, a real QR
// reader, and compares the text with the key URI.
func TestZbarimgReadsQR(t *testing.T) {
	zbarimg := requireTool(t, "zbarimg", "zbar-tools")
	kit := twofactortest.New(t, twofactor.Config{Issuer: "Acme Support & Co"})
	key, err := kit.Manager.StartSetup(t.Context(), "u1", "zoë+test@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{200, 256} {
		png, err := key.PNG(size)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "qr.png")
		if err := os.WriteFile(file, png, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(zbarimg, "--raw", "-q", file).Output()
		if err != nil {
			t.Fatalf("zbarimg: %v", err)
		}
		if got := strings.TrimRight(string(out), "\n"); got != key.URI {
			t.Errorf("zbarimg read a different URI at size %d", size)
		}
	}
}
