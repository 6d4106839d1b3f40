package twofactor

import (
	"context"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/twofactor-go/twofactor/internal/keyuri"
	"github.com/twofactor-go/twofactor/internal/qrcode"
)

// secretSize is the length of a new TOTP secret: 160 bits, the length
// RFC 4226 section 4 recommends.
const secretSize = 20

// Errors of the set-up flow.
var (
	// ErrNoSetup is returned by ConfirmSetup when the user has no pending
	// set-up, or it expired. The user starts the set-up again.
	ErrNoSetup = errors.New("twofactor: no pending set-up; start the set-up again")

	// ErrIncorrectCode is returned by ConfirmSetup when the code does not
	// match the new secret. The pending set-up stays valid.
	ErrIncorrectCode = errors.New("twofactor: incorrect code")

	// ErrNotEnrolled is returned when the user has no confirmed enrollment.
	ErrNotEnrolled = errors.New("twofactor: user is not enrolled")
)

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// Setup is a pending set-up as the store keeps it: a new secret that
// protects nothing until the user confirms it with a code.
type Setup struct {
	ID        string
	UserID    string
	Secret    []byte // sealed
	Algorithm Algorithm
	Digits    int
	Period    int // seconds
	ExpiresAt time.Time
}

// Enrollment is a user's confirmed TOTP secret as the store keeps it.
type Enrollment struct {
	UserID      string
	Secret      []byte // sealed
	Algorithm   Algorithm
	Digits      int
	Period      int   // seconds
	LastStep    int64 // the last time step accepted; codes of this step or earlier are rejected
	ConfirmedAt time.Time
}

func (e Enrollment) params() codeParams {
	return codeParams{alg: e.Algorithm, digits: e.Digits, period: int64(e.Period)}
}

// SetupKey is the key a user adds to an authenticator app.
// It contains the secret in clear: show it to the user and keep it nowhere.
// Its String, GoString, Format and LogValue methods redact the secret and
// the URI.
type SetupKey struct {
	UserID string

	// Secret is the key to type by hand: base32 without padding.
	Secret string

	// URI is the otpauth://totp/ key URI that the QR code contains.
	URI string

	// Algorithm, Digits and Period are the code parameters, for apps that
	// ask for them when the key is typed by hand.
	Algorithm Algorithm
	Digits    int
	Period    time.Duration

	// ExpiresAt is when the set-up stops accepting a confirmation.
	ExpiresAt time.Time
}

// PNG returns the key URI as a QR code PNG of size × size pixels, with
// whole pixels per module and a quiet zone of at least 4 modules. A size
// too small for the code is an error that names the smallest size.
func (k *SetupKey) PNG(size int) ([]byte, error) {
	return qrcode.PNG(k.URI, size)
}

// String returns a description of k without the secret.
func (k SetupKey) String() string {
	return fmt.Sprintf("twofactor.SetupKey{UserID: %q, Secret: REDACTED, ExpiresAt: %s}",
		k.UserID, k.ExpiresAt.Format(time.RFC3339))
}

// GoString returns a description of k without the secret.
func (k SetupKey) GoString() string { return k.String() }

// Format writes the description of k without the secret, whatever the
// verb. JSON encoding is not redacted, because a host may send the key to
// its own front end that way.
func (k SetupKey) Format(f fmt.State, verb rune) {
	io.WriteString(f, k.String())
}

// LogValue returns k without the secret.
func (k SetupKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", k.UserID), slog.Time("expires", k.ExpiresAt))
}

// StartSetup creates a new secret for userID and stores it as a pending
// set-up, which replaces any earlier pending one. accountName is shown in
// the authenticator app beside the issuer, for example an e-mail address.
//
// For a user who is already enrolled this is the start of a reset: the old
// secret keeps working until the new one is confirmed.
func (m *Manager) StartSetup(ctx context.Context, userID, accountName string) (*SetupKey, error) {
	if err := validateUserID(userID); err != nil {
		return nil, err
	}
	if err := validateLabel("account name", accountName); err != nil {
		return nil, err
	}
	secret, err := m.randomBytes(secretSize)
	if err != nil {
		return nil, err
	}
	key := &SetupKey{
		UserID:    userID,
		Secret:    base32NoPad.EncodeToString(secret),
		Algorithm: m.params.alg,
		Digits:    m.params.digits,
		Period:    time.Duration(m.params.period) * time.Second,
		ExpiresAt: m.now().Add(m.setupTimeout),
	}
	key.URI, err = m.keyURI(accountName, key)
	if err != nil {
		return nil, err
	}
	if err := m.storeSetup(ctx, userID, secret, key.ExpiresAt); err != nil {
		return nil, err
	}
	m.emit(ctx, Event{Kind: EventSetupStarted, UserID: userID, Actor: userID})
	return key, nil
}

// PendingSetup returns the key of the user's pending set-up, so that the
// set-up page can show the same QR code again after a reload, in any of
// the user's browsers. It returns [ErrNoSetup] when there is none or it
// expired; the host then calls StartSetup.
func (m *Manager) PendingSetup(ctx context.Context, userID, accountName string) (*SetupKey, error) {
	if err := validateLabel("account name", accountName); err != nil {
		return nil, err
	}
	setup, err := m.store.GetSetup(ctx, userID, m.now())
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNoSetup
	}
	if err != nil {
		return nil, fmt.Errorf("twofactor: reading the set-up of user %q failed: %w", userID, err)
	}
	key := &SetupKey{
		UserID:    userID,
		Algorithm: setup.Algorithm,
		Digits:    setup.Digits,
		Period:    time.Duration(setup.Period) * time.Second,
		ExpiresAt: setup.ExpiresAt,
	}
	err = m.secrets.withOpen(userID, setup.Secret, func(secret []byte) error {
		key.Secret = base32NoPad.EncodeToString(secret)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if key.URI, err = m.keyURI(accountName, key); err != nil {
		return nil, err
	}
	return key, nil
}

// keyURI builds the otpauth:// URI of key for accountName.
func (m *Manager) keyURI(accountName string, key *SetupKey) (string, error) {
	return keyuri.Build(keyuri.Params{
		Issuer:      m.issuer,
		AccountName: accountName,
		Secret:      key.Secret,
		Algorithm:   key.Algorithm.String(),
		Digits:      key.Digits,
		Period:      int(key.Period / time.Second),
	})
}

func (m *Manager) storeSetup(ctx context.Context, userID string, secret []byte, expires time.Time) error {
	sealed, err := m.secrets.seal(userID, secret)
	if err != nil {
		return err
	}
	id, err := m.randomBytes(16)
	if err != nil {
		return err
	}
	err = m.store.PutSetup(ctx, Setup{
		ID:        hex.EncodeToString(id),
		UserID:    userID,
		Secret:    sealed,
		Algorithm: m.params.alg,
		Digits:    m.params.digits,
		Period:    int(m.params.period),
		ExpiresAt: expires,
	})
	if err != nil {
		return fmt.Errorf("twofactor: storing the set-up of user %q failed: %w", userID, err)
	}
	return nil
}

// ConfirmSetup enables 2FA for the user when code is a current code of the
// pending set-up's secret. It returns [ErrIncorrectCode] for a wrong code
// and [ErrNoSetup] when there is no pending set-up. A confirmed reset
// replaces the old secret, revokes every trusted device of the user and
// clears the reset that an administrator's unlock required.
//
// A wrong code here does not count toward the lockout: the user is signed
// in and has just been shown the secret.
func (m *Manager) ConfirmSetup(ctx context.Context, userID, code string) error {
	now := m.now()
	setup, err := m.store.GetSetup(ctx, userID, now)
	if errors.Is(err, ErrNotFound) {
		return ErrNoSetup
	}
	if err != nil {
		return fmt.Errorf("twofactor: reading the set-up of user %q failed: %w", userID, err)
	}
	secret, err := m.secrets.open(userID, setup.Secret)
	if err != nil {
		return err
	}
	params := codeParams{alg: setup.Algorithm, digits: setup.Digits, period: int64(setup.Period)}
	step, ok, err := params.check(secret, code, now, m.skew)
	if err != nil {
		return err
	}
	if !ok {
		return ErrIncorrectCode
	}
	return m.finishSetup(ctx, setup, step, now)
}

// finishSetup turns the checked set-up into the enrollment. The trusted
// devices of the old secret are revoked first, so that a store failure
// later on cannot leave them working under the new one.
func (m *Manager) finishSetup(ctx context.Context, setup Setup, step int64, now time.Time) error {
	userID := setup.UserID
	_, err := m.store.GetEnrollment(ctx, userID)
	wasEnrolled := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("twofactor: reading the enrollment of user %q failed: %w", userID, err)
	}
	if wasEnrolled {
		err = m.revokeAll(ctx, userID, userID, "reset")
	} else if err = m.store.DeleteDevices(ctx, userID); err != nil {
		// Devices left by an earlier enrollment that was turned off.
		err = fmt.Errorf("twofactor: revoking the devices of user %q failed: %w", userID, err)
	}
	if err != nil {
		return err
	}

	_, err = m.store.ConfirmSetup(ctx, userID, setup.ID, step, now)
	if errors.Is(err, ErrNotFound) {
		return ErrNoSetup
	}
	if err != nil {
		return fmt.Errorf("twofactor: confirming the set-up of user %q failed: %w", userID, err)
	}
	kind := EventEnrolled
	if wasEnrolled {
		kind = EventReset
	}
	m.emit(ctx, Event{Kind: kind, UserID: userID, Actor: userID})

	// A failure here leaves the reset required, which is the safe side.
	if err := m.store.ClearResetRequired(ctx, userID); err != nil {
		return fmt.Errorf("twofactor: clearing the required reset of user %q failed: %w", userID, err)
	}
	return nil
}

// TurnOff removes the user's 2FA: every trusted device, the backup code,
// any pending set-up and the enrollment, in that order, so that a failure
// part-way leaves the user enrolled rather than trusted devices behind.
// actor is the user or administrator who did it, for the audit event.
// Turning off a user who is not enrolled is not an error. The account's
// lock, if any, stays until an unlock.
func (m *Manager) TurnOff(ctx context.Context, userID, actor string) error {
	if err := m.revokeAll(ctx, userID, actor, "turned off"); err != nil {
		return err
	}
	if err := m.store.DeleteBackupCode(ctx, userID); err != nil {
		return fmt.Errorf("twofactor: deleting the backup code of user %q failed: %w", userID, err)
	}
	if err := m.store.DeleteEnrollment(ctx, userID); err != nil {
		return fmt.Errorf("twofactor: deleting the enrollment of user %q failed: %w", userID, err)
	}
	m.emit(ctx, Event{Kind: EventTurnedOff, UserID: userID, Actor: actor})
	return nil
}

// Enrolled reports whether the user has confirmed a set-up.
func (m *Manager) Enrolled(ctx context.Context, userID string) (bool, error) {
	_, err := m.store.GetEnrollment(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("twofactor: reading the enrollment of user %q failed: %w", userID, err)
	}
	return true, nil
}
