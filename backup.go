package twofactor

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Backup codes are backupCodeLength characters from backupAlphabet, which
// leaves out 0, 1, I, L and O because they are easily mistaken for one
// another. 12 characters of 31 carry about 59 bits.
const (
	backupAlphabet   = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	backupCodeLength = 12
	backupGroupSize  = 4
)

// Errors of issuing backup codes.
var (
	// ErrSelfIssue is returned when a user asks for a backup code for
	// their own account. Another person must issue it.
	ErrSelfIssue = errors.New("twofactor: nobody can issue a backup code for their own account; ask an administrator")

	// ErrNotPermitted is returned when the issuer is neither an
	// administrator nor allowed by [Config.CanIssueBackupCode].
	ErrNotPermitted = errors.New("twofactor: not permitted to issue backup codes")
)

// Actor is the person who makes a change on behalf of another user.
type Actor struct {
	ID   string
	Role Role
}

// BackupCode is a backup code as the store keeps it: a keyed hash of the
// code, never the code.
type BackupCode struct {
	UserID    string
	Hash      []byte
	IssuedBy  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// IssueBackupCode creates a backup code for userID on the request of
// issuer, and returns it for the issuer to pass on. The code is shown this
// once: the store keeps only its hash. It works for one login, until it
// expires, or until a newer code is issued for the same user.
func (m *Manager) IssueBackupCode(ctx context.Context, issuer Actor, userID string) (string, time.Time, error) {
	if err := validateUserID(userID); err != nil {
		return "", time.Time{}, err
	}
	if err := validateUserID(issuer.ID); err != nil {
		return "", time.Time{}, fmt.Errorf("twofactor: invalid issuer: %w", err)
	}
	if issuer.ID == userID {
		return "", time.Time{}, fmt.Errorf("%w (user %q)", ErrSelfIssue, userID)
	}
	if issuer.Role != RoleAdministrator && (m.canIssue == nil || !m.canIssue(ctx, issuer, userID)) {
		return "", time.Time{}, fmt.Errorf("%w: %q is a %v", ErrNotPermitted, issuer.ID, issuer.Role)
	}
	if ok, err := m.Enrolled(ctx, userID); err != nil {
		return "", time.Time{}, err
	} else if !ok {
		return "", time.Time{}, fmt.Errorf("%w: %q", ErrNotEnrolled, userID)
	}
	code, err := m.newBackupCode()
	if err != nil {
		return "", time.Time{}, err
	}
	now := m.now()
	bc := BackupCode{
		UserID:    userID,
		Hash:      m.hashBackupCode(userID, code),
		IssuedBy:  issuer.ID,
		CreatedAt: now,
		ExpiresAt: now.Add(m.backupCodeTTL),
	}
	if err := m.store.PutBackupCode(ctx, bc); err != nil {
		return "", time.Time{}, fmt.Errorf("twofactor: storing a backup code for user %q failed: %w", userID, err)
	}
	m.emit(ctx, Event{Kind: EventBackupCodeIssued, UserID: userID, Actor: issuer.ID})
	return formatBackupCode(code), bc.ExpiresAt, nil
}

// newBackupCode draws backupCodeLength characters uniformly from the
// alphabet, rejecting bytes that would bias the draw.
func (m *Manager) newBackupCode() (string, error) {
	limit := byte(256 - 256%len(backupAlphabet))
	out := make([]byte, 0, backupCodeLength)
	for len(out) < backupCodeLength {
		buf, err := m.randomBytes(backupCodeLength)
		if err != nil {
			return "", err
		}
		for _, b := range buf {
			if b < limit && len(out) < backupCodeLength {
				out = append(out, backupAlphabet[int(b)%len(backupAlphabet)])
			}
		}
	}
	return string(out), nil
}

// formatBackupCode writes the code in dash-separated groups for reading
// aloud.
func formatBackupCode(code string) string {
	var b strings.Builder
	for i := 0; i < len(code); i += backupGroupSize {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(code[i:min(i+backupGroupSize, len(code))])
	}
	return b.String()
}

// normalizeBackupCode returns input in upper case without spaces and
// dashes, and reports whether it has the form of a backup code.
func normalizeBackupCode(input string) (string, bool) {
	var b [backupCodeLength]byte
	n, ok := normalizeBackupCodeTo(&b, input)
	return string(b[:n]), ok
}

// normalizeBackupCodeTo is normalizeBackupCode without an allocation: it
// writes the normalised input to dst and returns its length, which is
// backupCodeLength when ok.
func normalizeBackupCodeTo(dst *[backupCodeLength]byte, input string) (n int, ok bool) {
	for i := 0; i < len(input); i++ {
		c := input[i]
		switch {
		case c == ' ' || c == '-':
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		if n == backupCodeLength || strings.IndexByte(backupAlphabet, c) < 0 {
			return 0, false
		}
		dst[n] = c
		n++
	}
	return n, n == backupCodeLength
}

func (m *Manager) hashBackupCode(userID, code string) []byte {
	h := hmac.New(sha256.New, m.backupKey)
	h.Write([]byte(userID))
	h.Write([]byte{0})
	h.Write([]byte(code))
	return h.Sum(nil)
}

// consumeBackupCode reports whether hash is the hash of the current backup
// code of the challenge's user, and spends the code on the challenge if so.
func (m *Manager) consumeBackupCode(ctx context.Context, c Challenge, hash []byte, now time.Time) (bool, error) {
	_, err := m.store.ConsumeBackupCode(ctx, c.ID, c.UserID, hash, now)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case errors.Is(err, ErrConflict):
		return false, ErrChallengeClosed
	case err != nil:
		return false, fmt.Errorf("twofactor: checking the backup code of user %q failed: %w", c.UserID, err)
	}
	return true, nil
}
