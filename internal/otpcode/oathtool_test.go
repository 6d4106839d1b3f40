package otpcode_test

import (
	"encoding/base32"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor/internal/otpcode"
)

// oathtoolPath returns the path of oathtool. It skips the test when the
// tool is missing, but fails it when CI=true.
func oathtoolPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("oathtool")
	if err == nil {
		return path
	}
	const msg = "oathtool not found; install the Debian package oathtool"
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: %v", msg, err)
	}
	t.Skipf("%s: %v", msg, err)
	return ""
}

func TestOathtoolInterop(t *testing.T) {
	oathtool := oathtoolPath(t)
	rng := rand.New(rand.NewChaCha8([32]byte{'o', 'a', 't', 'h'}))
	times := []int64{0, 59, 1111111111, 1700000000, 4102444800}
	for range 4 {
		secret := make([]byte, 20)
		for i := range secret {
			secret[i] = byte(rng.UintN(256))
		}
		encoded := base32.StdEncoding.EncodeToString(secret)
		for _, alg := range []otpcode.Algorithm{otpcode.SHA1, otpcode.SHA256, otpcode.SHA512} {
			for _, digits := range []int{6, 8} {
				for _, unix := range times {
					name := fmt.Sprintf("%s/%s/%d/%d", encoded[:8], alg, digits, unix)
					t.Run(name, func(t *testing.T) {
						want := runOathtool(t, oathtool, encoded, alg, digits, unix)
						checkOathtoolCode(t, secret, alg, digits, unix, want)
					})
				}
			}
		}
	}
}

func runOathtool(t *testing.T, oathtool, encoded string, alg otpcode.Algorithm, digits int, unix int64) string {
	t.Helper()
	cmd := exec.Command(oathtool,
		"--totp="+alg.String(),
		"--base32",
		"--digits="+fmt.Sprint(digits),
		"--now=@"+fmt.Sprint(unix),
		encoded)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oathtool failed: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func checkOathtoolCode(t *testing.T, secret []byte, alg otpcode.Algorithm, digits int, unix int64, want string) {
	t.Helper()
	step, err := otpcode.Step(time.Unix(unix, 0), 30)
	if err != nil {
		t.Fatalf("Step: %v", err)
	}
	if got := otpcode.Generate(secret, alg, digits, step); got != want {
		t.Errorf("Generate = %q, oathtool = %q", got, want)
	}
	matched, ok := otpcode.Verify(secret, alg, digits, step, 0, []byte(want))
	if !ok || matched != step {
		t.Errorf("Verify(oathtool code) = (%d, %t), want (%d, true)", matched, ok, step)
	}
}
