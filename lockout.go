package twofactor

import (
	"context"
	"fmt"
	"time"
)

// Account is the lockout state of a user as the store keeps it. The zero
// value is an account with no failures.
type Account struct {
	// Failures is the number of wrong codes since the last right one. It
	// includes attempts being checked at this moment, because an attempt
	// is counted before the outcome of its check is used. The account is
	// locked while Failures is at least the attempt limit.
	Failures int

	// Generation grows by one at every unlock. A challenge started under
	// an earlier generation was ended by the lock and stays ended.
	Generation int64

	// UnlockedAt is the time of the last unlock.
	UnlockedAt time.Time

	// ResetRequired is set by an administrator's unlock and cleared when
	// the user confirms a new set-up.
	ResetRequired bool
}

// Locked reports whether the account is locked under the Manager's limit.
func (m *Manager) Locked(ctx context.Context, userID string) (bool, error) {
	acct, err := m.store.GetAccount(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("twofactor: reading the account of user %q failed: %w", userID, err)
	}
	return acct.Failures >= m.maxAttempts, nil
}

// UnlockByAdmin unlocks the account on an administrator's request and
// revokes the user's trusted devices, because the lock suggests that
// someone else has the password. Every later successful login reports
// [Result.ResetRequired], or [Decision.ResetRequired] when the code step
// is skipped, until the user confirms a new set-up. admin names the
// administrator in the audit event.
func (m *Manager) UnlockByAdmin(ctx context.Context, userID, admin string) error {
	return m.unlock(ctx, userID, admin, true, "administrator")
}

// UnlockAfterPasswordReset unlocks the account after the user reset the
// password through the host's forgot-password flow, and revokes the user's
// trusted devices.
func (m *Manager) UnlockAfterPasswordReset(ctx context.Context, userID string) error {
	return m.unlock(ctx, userID, userID, false, "password reset")
}

func (m *Manager) unlock(ctx context.Context, userID, actor string, resetRequired bool, reason string) error {
	if err := validateUserID(userID); err != nil {
		return err
	}
	if err := m.store.Unlock(ctx, userID, m.now(), resetRequired); err != nil {
		return fmt.Errorf("twofactor: unlocking user %q failed: %w", userID, err)
	}
	m.emit(ctx, Event{Kind: EventUnlocked, UserID: userID, Actor: actor, Reason: reason})
	return m.revokeAll(ctx, userID, actor, reason)
}

// attemptsLeft returns how many wrong codes the account may still make
// after failures.
func (m *Manager) attemptsLeft(failures int) int {
	return max(m.maxAttempts-failures, 0)
}
