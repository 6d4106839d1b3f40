package twofactor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"time"
)

// EventKind names a state change.
type EventKind string

// The kinds of audit events.
const (
	EventSetupStarted      EventKind = "setup_started"
	EventEnrolled          EventKind = "enrolled"
	EventReset             EventKind = "reset"
	EventTurnedOff         EventKind = "turned_off"
	EventCodeAccepted      EventKind = "code_accepted"
	EventCodeRejected      EventKind = "code_rejected"
	EventChallengeTimedOut EventKind = "challenge_timed_out"
	EventLocked            EventKind = "locked"
	EventUnlocked          EventKind = "unlocked"
	EventBackupCodeIssued  EventKind = "backup_code_issued"
	EventBackupCodeUsed    EventKind = "backup_code_used"
	EventDeviceTrusted     EventKind = "device_trusted"
	EventDeviceRevoked     EventKind = "device_revoked"
	EventDeviceTrustFailed EventKind = "device_trust_failed"
	EventCodeSkipped       EventKind = "code_skipped"
)

// Event is an audit record of one state change. It never contains a
// secret, code, token or backup code.
type Event struct {
	Kind EventKind
	Time time.Time

	// UserID is the account the change is about.
	UserID string

	// Actor is who caused it: the user, or the administrator who unlocked
	// the account or issued a backup code.
	Actor string

	// ChallengeID is set for events of a login challenge. It is a short
	// hash of the challenge's ID, enough to tell the events of one
	// challenge apart from another's, and useless for submitting codes.
	ChallengeID string

	// Failures is the account's failure count after a rejected code.
	Failures int

	// DeviceID is set for device events.
	DeviceID string

	// Reason explains the change in a few words, for example "reset" for a
	// device revoked by a reset or "sso" for a skipped code step.
	Reason string
}

// challengeRef returns the reference of a challenge ID in audit events:
// the first 8 bytes of its SHA-256 hash, in hex.
func challengeRef(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:8])
}

// LogValue returns the event's fields, leaving out empty ones.
func (e Event) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("kind", string(e.Kind)), slog.String("user", e.UserID)}
	add := func(key, value string) {
		if value != "" {
			attrs = append(attrs, slog.String(key, value))
		}
	}
	add("actor", e.Actor)
	add("challenge", e.ChallengeID)
	add("device", e.DeviceID)
	add("reason", e.Reason)
	if e.Failures > 0 {
		attrs = append(attrs, slog.Int("failures", e.Failures))
	}
	return slog.GroupValue(attrs...)
}

// SlogAudit returns an audit callback for [Config.Audit] that logs each
// event to l at level Info, or Warn for a rejected code or a lock.
func SlogAudit(l *slog.Logger) func(context.Context, Event) {
	return func(ctx context.Context, e Event) {
		level := slog.LevelInfo
		if e.Kind == EventCodeRejected || e.Kind == EventLocked {
			level = slog.LevelWarn
		}
		l.LogAttrs(ctx, level, "twofactor "+string(e.Kind), slog.Any("event", e), slog.Time("at", e.Time))
	}
}
