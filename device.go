package twofactor

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// deviceTokenSize is the number of random bytes in a device token: 256
// bits.
const deviceTokenSize = 32

// Device is a trusted device as the store keeps it. The token itself is
// never stored, only its SHA-256 hash.
type Device struct {
	// ID names the device in lists and revocations. It is not secret and
	// does not lead to the token.
	ID        string
	UserID    string
	TokenHash []byte

	// Label describes the device for the user, for example a browser name.
	Label     string
	CreatedAt time.Time
	LastUsed  time.Time
	ExpiresAt time.Time
}

// hashDeviceToken returns the hash under which a token is stored. A token
// is 256 random bits, so an unkeyed hash cannot be reversed by search.
func hashDeviceToken(token string) []byte {
	sum := sha256.Sum256([]byte("twofactor device token\x00" + token))
	return sum[:]
}

// trustDevice issues a token for a new trusted device of the user.
func (m *Manager) trustDevice(ctx context.Context, userID, label string) (string, time.Time, error) {
	raw, err := m.randomBytes(deviceTokenSize)
	if err != nil {
		return "", time.Time{}, err
	}
	id, err := m.randomBytes(8)
	if err != nil {
		return "", time.Time{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	label = cleanLabel(label)
	now := m.now()
	d := Device{
		ID:        hex.EncodeToString(id),
		UserID:    userID,
		TokenHash: hashDeviceToken(token),
		Label:     label,
		CreatedAt: now,
		LastUsed:  now,
		ExpiresAt: now.Add(m.policy.TrustFor),
	}
	if err := m.store.PutDevice(ctx, d); err != nil {
		m.emit(ctx, Event{Kind: EventDeviceTrustFailed, UserID: userID, Actor: userID, DeviceID: d.ID, Reason: "store failed"})
		return "", time.Time{}, fmt.Errorf("twofactor: storing a trusted device of user %q failed: %w", userID, err)
	}
	m.emit(ctx, Event{Kind: EventDeviceTrusted, UserID: userID, Actor: userID, DeviceID: d.ID})
	return token, d.ExpiresAt, nil
}

// deviceTrusted reports whether the login's device token belongs to an
// unexpired trusted device of the same user, and the role may skip on it.
func (m *Manager) deviceTrusted(ctx context.Context, login Login, now time.Time) (bool, error) {
	if login.DeviceToken == "" || !m.policy.trustAllowed(login.Role) {
		return false, nil
	}
	d, err := m.store.UseDevice(ctx, login.UserID, hashDeviceToken(login.DeviceToken), now)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("twofactor: reading a trusted device of user %q failed: %w", login.UserID, err)
	}
	return d.UserID == login.UserID && now.Before(d.ExpiresAt), nil
}

// Devices returns the user's trusted devices, newest first.
func (m *Manager) Devices(ctx context.Context, userID string) ([]Device, error) {
	ds, err := m.store.ListDevices(ctx, userID, m.now())
	if err != nil {
		return nil, fmt.Errorf("twofactor: listing the devices of user %q failed: %w", userID, err)
	}
	return ds, nil
}

// RevokeDevice stops the user's device with the ID from skipping the code
// step. actor is the user or administrator who revoked it. Revoking an
// unknown device is not an error.
func (m *Manager) RevokeDevice(ctx context.Context, userID, deviceID, actor string) error {
	if err := m.store.DeleteDevice(ctx, userID, deviceID); err != nil {
		return fmt.Errorf("twofactor: revoking device %q of user %q failed: %w", deviceID, userID, err)
	}
	m.emit(ctx, Event{Kind: EventDeviceRevoked, UserID: userID, Actor: actor, DeviceID: deviceID})
	return nil
}

// revokeAll deletes every trusted device of the user, for a reason such as
// a reset or an unlock.
func (m *Manager) revokeAll(ctx context.Context, userID, actor, reason string) error {
	if err := m.store.DeleteDevices(ctx, userID); err != nil {
		return fmt.Errorf("twofactor: revoking the devices of user %q failed: %w", userID, err)
	}
	m.emit(ctx, Event{Kind: EventDeviceRevoked, UserID: userID, Actor: actor, Reason: reason})
	return nil
}

// maxLabelLength bounds a device label, which usually comes from a
// User-Agent header that the client controls.
const maxLabelLength = 200

// cleanLabel drops control characters and invalid UTF-8 from a device
// label and cuts it to maxLabelLength bytes on a character boundary.
func cleanLabel(label string) string {
	label = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, label)
	for len(label) > maxLabelLength {
		_, size := utf8.DecodeLastRuneInString(label)
		label = label[:len(label)-size]
	}
	return label
}
