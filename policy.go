package twofactor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Role is a user's role. Every user has exactly one; the zero Role is
// invalid.
type Role uint8

// The roles.
const (
	RoleAgent Role = iota + 1
	RoleSuperAgent
	RoleAdministrator
)

var roleNames = [...]string{
	RoleAgent:         "agent",
	RoleSuperAgent:    "super-agent",
	RoleAdministrator: "administrator",
}

// String returns the role's name.
func (r Role) String() string {
	if r.valid() {
		return roleNames[r]
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

func (r Role) valid() bool { return r >= RoleAgent && r <= RoleAdministrator }

// Method is how the host verified the user before the code step.
type Method uint8

// The login methods. The zero Method is MethodPassword.
const (
	MethodPassword Method = iota
	MethodSSO
)

// Login describes a sign-in whose credentials the host has verified.
type Login struct {
	UserID string
	Role   Role
	Method Method

	// Channel names the front end, for example "web" or "plugin". Channels
	// listed in [Policy.ExemptChannels] skip the code step.
	Channel string

	// DeviceToken is the token from the device cookie, if any.
	DeviceToken string
}

// Reason explains a [Decision].
type Reason string

// The reasons of a decision. Every reason but ReasonCodeRequired and
// ReasonLocked skips the code step.
const (
	ReasonNotEnrolled   Reason = "not enrolled"
	ReasonSSO           Reason = "sso"
	ReasonExemptChannel Reason = "exempt channel"
	ReasonTrustedDevice Reason = "trusted device"
	ReasonCodeRequired  Reason = "code required"
	ReasonLocked        Reason = "locked"
)

// Decision is whether a login needs the code step, and why. Begin returns
// Required set with every error, so the zero Decision is never a result.
type Decision struct {
	// Required reports that the user must not be signed in yet: either a
	// code is needed (Challenge is set), or the account is locked.
	Required bool
	Reason   Reason

	// Challenge is the new challenge when a code is needed.
	Challenge *Challenge

	// ResetRequired reports, when the code step is skipped, that an
	// administrator unlocked the account and the user must reset 2FA
	// before carrying on, as [Result.ResetRequired] does after a code.
	ResetRequired bool
}

// Policy decides when the code step is skipped. Its zero value is the
// default: skip on a device trusted for 14 days, for agents and
// super-agents only.
//
// Single sign-on is not configurable: an agent or super-agent who signed
// in through SSO is never asked for a code, and an administrator always is.
type Policy struct {
	// EveryLogin requires a code on every login, trusted device or not.
	EveryLogin bool

	// TrustFor is how long a trusted device skips the code step, at most
	// ten years. Zero means 14 days.
	TrustFor time.Duration

	// TrustRoles are the roles that may skip the code step on a trusted
	// device. Nil means agents and super-agents; an empty non-nil slice
	// means none.
	TrustRoles []Role

	// ExemptChannels are login channels that cannot show a code page, such
	// as integrations that sign in with an account ID and password. None
	// is exempt by default.
	ExemptChannels []string
}

func (p Policy) withDefaults() (Policy, error) {
	p.TrustFor = orDefault(p.TrustFor, DefaultTrustFor)
	if p.TrustFor < time.Minute || p.TrustFor > maxDuration {
		return p, fmt.Errorf("twofactor: Policy.TrustFor is %v; use a minute to %v, or zero for the default", p.TrustFor, maxDuration)
	}
	if p.TrustRoles == nil {
		p.TrustRoles = []Role{RoleAgent, RoleSuperAgent}
	}
	for _, r := range p.TrustRoles {
		if !r.valid() {
			return p, fmt.Errorf("twofactor: Policy.TrustRoles contains invalid role %d", r)
		}
	}
	p.TrustRoles = slices.Clone(p.TrustRoles)
	p.ExemptChannels = slices.Clone(p.ExemptChannels)
	return p, nil
}

// trustAllowed reports whether a device may be trusted for the role.
func (p Policy) trustAllowed(r Role) bool {
	return !p.EveryLogin && slices.Contains(p.TrustRoles, r)
}

// Begin decides whether a login whose credentials the host verified needs
// the code step and, when it does, starts a challenge whose ID the host
// keeps for [Manager.Submit].
//
// The checks run in this order. A user who is not enrolled skips the step.
// A locked account is refused with Required set and no challenge, whatever
// the method, channel or device. SSO by an agent or super-agent, an exempt
// channel, and a trusted device when the role may trust devices skip the
// step. Otherwise a code is required.
func (m *Manager) Begin(ctx context.Context, login Login) (Decision, error) {
	if err := validateUserID(login.UserID); err != nil {
		return failClosed, err
	}
	if !login.Role.valid() {
		return failClosed, fmt.Errorf("twofactor: login of user %q has invalid role %d; use RoleAgent, RoleSuperAgent or RoleAdministrator", login.UserID, login.Role)
	}
	now := m.now()

	// An unconfirmed set-up protects nothing.
	enrollment, err := m.store.GetEnrollment(ctx, login.UserID)
	if errors.Is(err, ErrNotFound) {
		return m.skip(ctx, login, ReasonNotEnrolled, Account{}), nil
	} else if err != nil {
		return failClosed, fmt.Errorf("twofactor: reading the enrollment of user %q failed: %w", login.UserID, err)
	}

	// A locked account is refused whatever the method, channel or device.
	acct, err := m.store.GetAccount(ctx, login.UserID)
	if err != nil {
		return failClosed, fmt.Errorf("twofactor: reading the account of user %q failed: %w", login.UserID, err)
	}
	if acct.Failures >= m.maxAttempts {
		return Decision{Required: true, Reason: ReasonLocked}, nil
	}

	// The skips, each with its reason.
	if login.Method == MethodSSO && login.Role != RoleAdministrator {
		return m.skip(ctx, login, ReasonSSO, acct), nil
	}
	if login.Channel != "" && slices.Contains(m.policy.ExemptChannels, login.Channel) {
		return m.skip(ctx, login, ReasonExemptChannel, acct), nil
	}
	trusted, err := m.deviceTrusted(ctx, login, now)
	if err != nil {
		return failClosed, err
	}
	if trusted {
		return m.skip(ctx, login, ReasonTrustedDevice, acct), nil
	}

	c, err := m.startChallenge(ctx, login, acct, enrollment, now)
	if err != nil {
		return failClosed, err
	}
	return Decision{Required: true, Reason: ReasonCodeRequired, Challenge: c}, nil
}

// failClosed is the decision returned with every error: the code step is
// required and there is no challenge, so a host that reads only Required
// does not sign the user in.
var failClosed = Decision{Required: true}

func (m *Manager) skip(ctx context.Context, login Login, reason Reason, acct Account) Decision {
	m.emit(ctx, Event{Kind: EventCodeSkipped, UserID: login.UserID, Actor: login.UserID, Reason: string(reason)})
	return Decision{Reason: reason, ResetRequired: acct.ResetRequired}
}
