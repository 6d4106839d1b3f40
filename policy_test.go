package twofactor_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/twofactortest"
)

// device states of the policy table.
const (
	noDevice      = "none"
	trustedDevice = "trusted"
	otherUsers    = "other user's"
	expiredDevice = "expired"
	tamperedToken = "tampered"
	storedHash    = "stored hash"
)

func TestPolicyTable(t *testing.T) {
	roles := []twofactor.Role{twofactor.RoleAgent, twofactor.RoleSuperAgent, twofactor.RoleAdministrator}
	methods := []twofactor.Method{twofactor.MethodPassword, twofactor.MethodSSO}
	devices := []string{noDevice, trustedDevice, otherUsers, expiredDevice, tamperedToken, storedHash}
	policies := []struct {
		name   string
		policy twofactor.Policy
	}{
		{"default", twofactor.Policy{}},
		{"every login", twofactor.Policy{EveryLogin: true}},
		{"admins trusted too", twofactor.Policy{TrustRoles: []twofactor.Role{twofactor.RoleAgent, twofactor.RoleSuperAgent, twofactor.RoleAdministrator}}},
	}
	for _, p := range policies {
		for _, role := range roles {
			for _, method := range methods {
				for _, device := range devices {
					name := fmt.Sprintf("%s/%v/method%d/%s", p.name, role, method, device)
					t.Run(name, func(t *testing.T) {
						want := expectedReason(p.policy, role, method, device)
						got := decide(t, p.policy, role, method, device)
						if got.Reason != want {
							t.Errorf("Reason = %q, want %q", got.Reason, want)
						}
						if got.Required != (want == twofactor.ReasonCodeRequired) {
							t.Errorf("Required = %v for reason %q", got.Required, got.Reason)
						}
						if got.Required != (got.Challenge != nil) {
							t.Errorf("Required = %v but Challenge = %v", got.Required, got.Challenge)
						}
					})
				}
			}
		}
	}
}

// expectedReason states the rules independently of the implementation.
func expectedReason(p twofactor.Policy, role twofactor.Role, method twofactor.Method, device string) twofactor.Reason {
	if method == twofactor.MethodSSO && role != twofactor.RoleAdministrator {
		return twofactor.ReasonSSO
	}
	trustRoles := p.TrustRoles
	if trustRoles == nil {
		trustRoles = []twofactor.Role{twofactor.RoleAgent, twofactor.RoleSuperAgent}
	}
	mayTrust := !p.EveryLogin && containsRole(trustRoles, role)
	if device == trustedDevice && mayTrust {
		return twofactor.ReasonTrustedDevice
	}
	return twofactor.ReasonCodeRequired
}

func containsRole(rs []twofactor.Role, r twofactor.Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// decide enrolls "u1" in a Kit with the policy, makes the device state and
// returns the decision for the login.
func decide(t *testing.T, p twofactor.Policy, role twofactor.Role, method twofactor.Method, device string) twofactor.Decision {
	t.Helper()
	// Devices are issued under a policy that trusts every role, so that
	// the table also covers tokens held by roles that may not use them.
	issuing := twofactortest.New(t, twofactor.Config{
		Policy: twofactor.Policy{TrustRoles: []twofactor.Role{twofactor.RoleAgent, twofactor.RoleSuperAgent, twofactor.RoleAdministrator}},
	})
	kit := twofactortest.New(t, twofactor.Config{Store: issuing.Store, Now: issuing.Clock.Now, Policy: p})
	keys := map[string]*twofactor.SetupKey{"u1": issuing.Enroll(t, "u1"), "u2": issuing.Enroll(t, "u2")}
	token := ""
	switch device {
	case trustedDevice, expiredDevice, tamperedToken, storedHash:
		token = trust(t, issuing, "u1", keys["u1"])
	case otherUsers:
		token = trust(t, issuing, "u2", keys["u2"])
	}
	switch device {
	case expiredDevice:
		issuing.Clock.Advance(14 * 24 * time.Hour)
	case tamperedToken:
		token = tamper(token)
	case storedHash:
		devices, err := issuing.Manager.Devices(t.Context(), "u1")
		if err != nil || len(devices) != 1 {
			t.Fatalf("Devices = %v, %v", devices, err)
		}
		token = string(devices[0].TokenHash)
	}
	d, err := kit.Manager.Begin(t.Context(), twofactor.Login{UserID: "u1", Role: role, Method: method, DeviceToken: token})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// trust signs userID in with TrustDevice and returns the device token.
func trust(t *testing.T, kit *twofactortest.Kit, userID string, key *twofactor.SetupKey) string {
	t.Helper()
	d, err := kit.Manager.Begin(t.Context(), twofactor.Login{UserID: userID, Role: twofactor.RoleAgent})
	if err != nil || d.Challenge == nil {
		t.Fatalf("Begin = %+v, %v", d, err)
	}
	res := submit(t, kit, d.Challenge.ID, twofactortest.Code(t, key, kit.Clock.Now()), twofactor.TrustDevice("Firefox"))
	if !res.Succeeded() || res.DeviceToken == "" {
		t.Fatalf("trusted sign-in = %+v, want success with a device token", res)
	}
	kit.Clock.Advance(30 * time.Second)
	return res.DeviceToken
}

func tamper(token string) string {
	b := []byte(token)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func TestTrustedDeviceBoundary(t *testing.T) {
	for _, tt := range []struct {
		after time.Duration
		want  twofactor.Reason
	}{
		{14*24*time.Hour - time.Second, twofactor.ReasonTrustedDevice},
		{14 * 24 * time.Hour, twofactor.ReasonCodeRequired},
	} {
		kit := twofactortest.New(t, twofactor.Config{})
		token := trust(t, kit, "u1", kit.Enroll(t, "u1"))
		kit.Clock.Advance(tt.after - 30*time.Second)
		d, err := kit.Manager.Begin(t.Context(), twofactor.Login{UserID: "u1", Role: twofactor.RoleAgent, DeviceToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if d.Reason != tt.want {
			t.Errorf("device %v after trust: %q, want %q", tt.after, d.Reason, tt.want)
		}
	}
}

func TestTrustDeviceRefusedForAdministrators(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	key := kit.Enroll(t, "root")
	d, err := kit.Manager.Begin(t.Context(), twofactor.Login{UserID: "root", Role: twofactor.RoleAdministrator})
	if err != nil {
		t.Fatal(err)
	}
	if d.Challenge.TrustAllowed {
		t.Errorf("administrator challenge allows trust under the default policy")
	}
	res := submit(t, kit, d.Challenge.ID, twofactortest.Code(t, key, kit.Clock.Now()), twofactor.TrustDevice("Chrome"))
	if !res.Succeeded() || res.DeviceToken != "" {
		t.Errorf("administrator sign-in with TrustDevice = %+v, want success without a token", res)
	}
}

func TestExemptChannel(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{Policy: twofactor.Policy{ExemptChannels: []string{"plugin"}}})
	kit.Enroll(t, "u1")
	for _, tt := range []struct {
		channel string
		role    twofactor.Role
		want    twofactor.Reason
	}{
		{"plugin", twofactor.RoleAgent, twofactor.ReasonExemptChannel},
		{"plugin", twofactor.RoleAdministrator, twofactor.ReasonExemptChannel},
		{"web", twofactor.RoleAgent, twofactor.ReasonCodeRequired},
		{"", twofactor.RoleAgent, twofactor.ReasonCodeRequired},
	} {
		d, err := kit.Manager.Begin(t.Context(), twofactor.Login{UserID: "u1", Role: tt.role, Channel: tt.channel})
		if err != nil {
			t.Fatal(err)
		}
		if d.Reason != tt.want {
			t.Errorf("channel %q role %v: %q, want %q", tt.channel, tt.role, d.Reason, tt.want)
		}
	}
	// No channel is exempt by default.
	plain := twofactortest.New(t, twofactor.Config{})
	plain.Enroll(t, "u1")
	d, err := plain.Manager.Begin(t.Context(), twofactor.Login{UserID: "u1", Role: twofactor.RoleAgent, Channel: "plugin"})
	if err != nil || d.Reason != twofactor.ReasonCodeRequired {
		t.Errorf("default policy, channel plugin: %+v, %v, want a code", d, err)
	}
}

func TestRevocations(t *testing.T) {
	tests := []struct {
		name   string
		revoke func(t *testing.T, kit *twofactortest.Kit)
	}{
		{"turn off", func(t *testing.T, kit *twofactortest.Kit) {
			if err := kit.Manager.TurnOff(t.Context(), "u1", "u1"); err != nil {
				t.Fatal(err)
			}
			kit.Enroll(t, "u1")
		}},
		{"reset", func(t *testing.T, kit *twofactortest.Kit) { kit.Enroll(t, "u1") }},
		{"admin unlock", func(t *testing.T, kit *twofactortest.Kit) {
			if err := kit.Manager.UnlockByAdmin(t.Context(), "u1", "admin"); err != nil {
				t.Fatal(err)
			}
		}},
		{"password reset", func(t *testing.T, kit *twofactortest.Kit) {
			if err := kit.Manager.UnlockAfterPasswordReset(t.Context(), "u1"); err != nil {
				t.Fatal(err)
			}
		}},
		{"revoke one", func(t *testing.T, kit *twofactortest.Kit) {
			ds, err := kit.Manager.Devices(t.Context(), "u1")
			if err != nil || len(ds) != 1 {
				t.Fatalf("Devices = %v, %v, want one", ds, err)
			}
			if ds[0].Label != "Firefox" {
				t.Errorf("Label = %q, want Firefox", ds[0].Label)
			}
			if err := kit.Manager.RevokeDevice(t.Context(), "u1", ds[0].ID, "u1"); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kit := twofactortest.New(t, twofactor.Config{})
			token := trust(t, kit, "u1", kit.Enroll(t, "u1"))
			tt.revoke(t, kit)
			d, err := kit.Manager.Begin(t.Context(), twofactor.Login{UserID: "u1", Role: twofactor.RoleAgent, DeviceToken: token})
			if err != nil {
				t.Fatal(err)
			}
			if d.Reason == twofactor.ReasonTrustedDevice {
				t.Errorf("device still trusted after %s", tt.name)
			}
			if n := kit.Events.Count(twofactor.EventDeviceRevoked); n == 0 {
				t.Errorf("no device-revoked event after %s", tt.name)
			}
		})
	}
}

func TestBeginInvalidLogin(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	_, err := kit.Manager.Begin(t.Context(), twofactor.Login{UserID: "u1"})
	if err == nil || !strings.Contains(err.Error(), "role") {
		t.Errorf("Begin without a role error = %v, want one naming the role", err)
	}
}

func TestBeginLockedBeforeSSO(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	key := kit.Enroll(t, "u1")
	id := beginChallenge(t, kit, "u1")
	wrong := wrongCode(twofactortest.Code(t, key, kit.Clock.Now()))
	for range 5 {
		submit(t, kit, id, wrong)
	}
	d, err := kit.Manager.Begin(t.Context(), twofactor.Login{UserID: "u1", Role: twofactor.RoleAgent, Method: twofactor.MethodSSO})
	if err != nil {
		t.Fatal(err)
	}
	if d.Reason != twofactor.ReasonLocked || !d.Required {
		t.Errorf("SSO login of a locked account = %+v, want refused as locked", d)
	}
}

func TestSkipReportsResetRequired(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{Policy: twofactor.Policy{ExemptChannels: []string{"plugin"}}})
	kit.Enroll(t, "u1")
	if err := kit.Manager.UnlockByAdmin(t.Context(), "u1", "admin"); err != nil {
		t.Fatal(err)
	}
	for _, login := range []twofactor.Login{
		{UserID: "u1", Role: twofactor.RoleAgent, Method: twofactor.MethodSSO},
		{UserID: "u1", Role: twofactor.RoleAgent, Channel: "plugin"},
	} {
		d, err := kit.Manager.Begin(t.Context(), login)
		if err != nil {
			t.Fatal(err)
		}
		if d.Required || !d.ResetRequired {
			t.Errorf("skipped login %+v after an administrator's unlock = %+v, want ResetRequired", login, d)
		}
	}
	plain := twofactortest.New(t, twofactor.Config{})
	plain.Enroll(t, "u2")
	d, err := plain.Manager.Begin(t.Context(), twofactor.Login{UserID: "u2", Role: twofactor.RoleAgent, Method: twofactor.MethodSSO})
	if err != nil || d.ResetRequired {
		t.Errorf("SSO login without an unlock = %+v, %v, want no reset required", d, err)
	}
}
