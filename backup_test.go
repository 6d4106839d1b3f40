package twofactor_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/twofactortest"
)

var admin = twofactor.Actor{ID: "admin", Role: twofactor.RoleAdministrator}

func issue(t *testing.T, kit *twofactortest.Kit, userID string) string {
	t.Helper()
	code, _, err := kit.Manager.IssueBackupCode(t.Context(), admin, userID)
	if err != nil {
		t.Fatalf("IssueBackupCode(%q): %v", userID, err)
	}
	return code
}

func TestBackupCodeForm(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	kit.Enroll(t, "u1")
	seen := map[string]bool{}
	for range 50 {
		code := issue(t, kit, "u1")
		if !regexp.MustCompile(`^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$`).MatchString(code) {
			t.Fatalf("backup code %q is not three groups of four unambiguous characters", code)
		}
		if seen[code] {
			t.Fatalf("backup code repeated")
		}
		seen[code] = true
	}
}

func TestBackupCodeSignIn(t *testing.T) {
	tests := []struct {
		name string
		form func(string) string
	}{
		{"as shown", func(c string) string { return c }},
		{"lower case", strings.ToLower},
		{"no dashes", func(c string) string { return strings.ReplaceAll(c, "-", "") }},
		{"spaces", func(c string) string { return strings.ReplaceAll(c, "-", " ") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kit := twofactortest.New(t, twofactor.Config{})
			kit.Enroll(t, "u1")
			code := issue(t, kit, "u1")
			res := submit(t, kit, beginChallenge(t, kit, "u1"), tt.form(code))
			if !res.Succeeded() || !res.BackupCodeUsed {
				t.Fatalf("backup code %s = %+v, want success with BackupCodeUsed", tt.name, res)
			}
			res = submit(t, kit, beginChallenge(t, kit, "u1"), tt.form(code))
			if res.Succeeded() {
				t.Errorf("backup code worked twice")
			}
		})
	}
}

func TestBackupCodeExpiry(t *testing.T) {
	for _, tt := range []struct {
		after time.Duration
		want  bool
	}{
		{30*time.Minute - time.Second, true},
		{30 * time.Minute, false},
	} {
		kit := twofactortest.New(t, twofactor.Config{ChallengeTimeout: time.Hour})
		kit.Enroll(t, "u1")
		code := issue(t, kit, "u1")
		kit.Clock.Advance(tt.after)
		res := submit(t, kit, beginChallenge(t, kit, "u1"), code)
		if res.Succeeded() != tt.want {
			t.Errorf("backup code %v after issue: success %v, want %v", tt.after, res.Succeeded(), tt.want)
		}
	}
}

func TestBackupCodeSuperseded(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	kit.Enroll(t, "u1")
	older := issue(t, kit, "u1")
	newer := issue(t, kit, "u1")
	if res := submit(t, kit, beginChallenge(t, kit, "u1"), older); res.Succeeded() {
		t.Errorf("superseded backup code succeeded")
	}
	if res := submit(t, kit, beginChallenge(t, kit, "u1"), newer); !res.Succeeded() {
		t.Errorf("newest backup code = %+v, want success", res)
	}
}

func TestWrongBackupCodeCounts(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	kit.Enroll(t, "u1")
	code := issue(t, kit, "u1")
	wrong := "ABCD-EFGH-JKMN"
	if wrong == code {
		wrong = "NMKJ-HGFE-DCBA"
	}
	res := submit(t, kit, beginChallenge(t, kit, "u1"), wrong)
	if res.Succeeded() || res.AttemptsLeft != 4 || res.Message != incorrect {
		t.Errorf("wrong backup code = %+v, want incorrect with 4 left", res)
	}
}

func TestIssueBackupCodePermissions(t *testing.T) {
	allowAgents := func(_ context.Context, issuer twofactor.Actor, userID string) bool {
		return issuer.ID == "lead"
	}
	tests := []struct {
		name   string
		issuer twofactor.Actor
		user   string
		allow  func(context.Context, twofactor.Actor, string) bool
		want   error
	}{
		{"administrator", admin, "u1", nil, nil},
		{"administrator for self", twofactor.Actor{ID: "u1", Role: twofactor.RoleAdministrator}, "u1", nil, twofactor.ErrSelfIssue},
		{"agent without permission", twofactor.Actor{ID: "a2", Role: twofactor.RoleAgent}, "u1", nil, twofactor.ErrNotPermitted},
		{"agent the host allows", twofactor.Actor{ID: "lead", Role: twofactor.RoleAgent}, "u1", allowAgents, nil},
		{"agent the host refuses", twofactor.Actor{ID: "a2", Role: twofactor.RoleSuperAgent}, "u1", allowAgents, twofactor.ErrNotPermitted},
		{"allowed agent for self", twofactor.Actor{ID: "lead", Role: twofactor.RoleAgent}, "lead", allowAgents, twofactor.ErrSelfIssue},
		{"user not enrolled", admin, "u9", nil, twofactor.ErrNotEnrolled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kit := twofactortest.New(t, twofactor.Config{CanIssueBackupCode: tt.allow})
			kit.Enroll(t, "u1")
			kit.Enroll(t, "lead")
			code, _, err := kit.Manager.IssueBackupCode(t.Context(), tt.issuer, tt.user)
			if tt.want == nil && err != nil {
				t.Fatalf("IssueBackupCode: %v", err)
			}
			if tt.want != nil && (!errors.Is(err, tt.want) || code != "") {
				t.Errorf("IssueBackupCode = %q, %v, want %v", code, err, tt.want)
			}
			if errors.Is(tt.want, twofactor.ErrSelfIssue) && !strings.Contains(err.Error(), "own account") {
				t.Errorf("self-issue error %q does not say why", err)
			}
		})
	}
}

func TestBackupCodeEvents(t *testing.T) {
	kit := twofactortest.New(t, twofactor.Config{})
	kit.Enroll(t, "u1")
	code := issue(t, kit, "u1")
	submit(t, kit, beginChallenge(t, kit, "u1"), code)
	var issued, used []twofactor.Event
	for _, e := range kit.Events.All() {
		switch e.Kind {
		case twofactor.EventBackupCodeIssued:
			issued = append(issued, e)
		case twofactor.EventBackupCodeUsed:
			used = append(used, e)
		}
	}
	if len(issued) != 1 || issued[0].Actor != "admin" || issued[0].UserID != "u1" {
		t.Errorf("issued events = %+v, want one by admin for u1", issued)
	}
	if len(used) != 1 || used[0].UserID != "u1" {
		t.Errorf("used events = %+v, want one for u1", used)
	}
}
