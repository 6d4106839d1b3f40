package twofactor

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/twofactor-go/twofactor/internal/otpcode"
)

// Default values that a zero [Config] field stands for.
const (
	DefaultDigits           = 6
	DefaultPeriod           = 30 * time.Second
	DefaultSkew             = 1
	DefaultSetupTimeout     = 10 * time.Minute
	DefaultChallengeTimeout = 10 * time.Minute
	DefaultMaxAttempts      = 5
	DefaultBackupCodeTTL    = 30 * time.Minute
	DefaultTrustFor         = 14 * 24 * time.Hour
)

// maxDuration bounds every configured duration, so that an expiry time
// stays far inside what stores can represent.
const maxDuration = 10 * 365 * 24 * time.Hour

// challengeRetention is how long a store keeps a challenge past its
// deadline, so that a late submission gets the timed-out result instead of
// ErrChallengeNotFound.
const challengeRetention = time.Hour

// Algorithm is the HMAC hash function of the codes. The zero value is SHA1,
// the one every common authenticator app supports.
type Algorithm uint8

// The supported algorithms.
const (
	SHA1 Algorithm = iota
	SHA256
	SHA512
)

// String returns the algorithm's name as written in a key URI.
func (a Algorithm) String() string {
	return otpcode.Algorithm(a).String()
}

// Config is the configuration of a [Manager]. The zero value of every field
// except Store, Issuer and the encryption settings means the default named
// in the field's comment. Durations are at most ten years. [New] validates
// it once.
type Config struct {
	// Store keeps every record. Required.
	Store Store

	// Issuer names the site in authenticator apps and in the key URI, for
	// example "Acme Support". Required; it must not contain ':'.
	Issuer string

	// Keys encrypt the TOTP secrets before they reach the store. The first
	// key encrypts new secrets; every key decrypts. Required unless
	// Unencrypted is set.
	Keys []EncryptionKey

	// Unencrypted stores secrets in clear, for development only. It must
	// be set explicitly when Keys is empty, and it is an error to set both.
	Unencrypted bool

	// Algorithm of new enrollments. Zero is SHA1.
	Algorithm Algorithm

	// Digits of the codes of new enrollments, 6 to 10. Zero means 6.
	Digits int

	// Period of the codes of new enrollments, in whole seconds. Zero
	// means 30 seconds.
	Period time.Duration

	// Skew is the number of time steps accepted on either side of the
	// current one, to absorb drifting phone clocks. Zero means 1; a
	// negative value accepts the current step only.
	Skew int

	// SetupTimeout is how long an unconfirmed set-up stays valid. Zero
	// means 10 minutes.
	SetupTimeout time.Duration

	// ChallengeTimeout is how long after the credential check a code is
	// accepted. Zero means 10 minutes.
	ChallengeTimeout time.Duration

	// MaxAttempts is the number of wrong codes that locks an account. Zero
	// means 5.
	MaxAttempts int

	// BackupCodeTTL is how long a backup code stays valid. Zero means
	// 30 minutes.
	BackupCodeTTL time.Duration

	// CanIssueBackupCode reports whether a user who is not an
	// administrator may issue a backup code for another user. Nil means
	// that only administrators may.
	CanIssueBackupCode func(ctx context.Context, issuer Actor, userID string) bool

	// Policy decides when the code step is skipped. The zero value skips
	// it for agents and super-agents on a device trusted for 14 days.
	Policy Policy

	// Messages are the texts shown to users. Nil means [EnglishMessages],
	// and so does each empty field.
	Messages *Messages

	// Audit receives every state change. Nil discards them. It is called
	// synchronously; see [SlogAudit] for a ready adapter.
	Audit func(ctx context.Context, e Event)

	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	// Rand is the source of secrets, tokens and IDs. Nil means
	// crypto/rand.Reader.
	Rand io.Reader
}

// Manager enrolls users and runs their login challenges. It is safe for
// concurrent use, and several Managers, in one process or in many, may
// share one [Store].
type Manager struct {
	store     Store
	issuer    string
	secrets   secretBox
	backupKey []byte
	params    codeParams
	skew      int

	setupTimeout     time.Duration
	challengeTimeout time.Duration
	maxAttempts      int
	backupCodeTTL    time.Duration
	canIssue         func(ctx context.Context, issuer Actor, userID string) bool

	policy   Policy
	messages Messages
	audit    func(ctx context.Context, e Event)
	now      func() time.Time
	rand     io.Reader

	pending *pendingChallenges
}

// New validates cfg and returns a Manager. The error names the first
// invalid field.
func New(cfg Config) (*Manager, error) {
	if cfg.Store == nil {
		return nil, errors.New("twofactor: Config.Store is nil; set a store such as memstore.New()")
	}
	if err := validateLabel("issuer", cfg.Issuer); err != nil {
		return nil, err
	}
	params, err := newCodeParams(cfg.Algorithm, cfg.Digits, cfg.Period)
	if err != nil {
		return nil, err
	}

	m := &Manager{
		store:            cfg.Store,
		issuer:           cfg.Issuer,
		params:           params,
		skew:             orDefault(cfg.Skew, DefaultSkew),
		setupTimeout:     orDefault(cfg.SetupTimeout, DefaultSetupTimeout),
		challengeTimeout: orDefault(cfg.ChallengeTimeout, DefaultChallengeTimeout),
		maxAttempts:      orDefault(cfg.MaxAttempts, DefaultMaxAttempts),
		backupCodeTTL:    orDefault(cfg.BackupCodeTTL, DefaultBackupCodeTTL),
		canIssue:         cfg.CanIssueBackupCode,
		audit:            cfg.Audit,
		now:              cfg.Now,
		rand:             cfg.Rand,
		pending:          newPendingChallenges(),
	}

	if m.skew < 0 {
		m.skew = 0
	}
	if m.skew > otpcode.MaxSkew {
		return nil, fmt.Errorf("twofactor: Config.Skew is %d; use at most %d steps", cfg.Skew, otpcode.MaxSkew)
	}
	if err := m.validateDurations(); err != nil {
		return nil, err
	}

	if m.now == nil {
		m.now = time.Now
	}
	if m.rand == nil {
		m.rand = rand.Reader
	}

	if m.messages, err = cfg.Messages.withDefaults(); err != nil {
		return nil, err
	}
	if m.policy, err = cfg.Policy.withDefaults(); err != nil {
		return nil, err
	}
	if m.secrets, m.backupKey, err = newSecretBox(cfg.Keys, cfg.Unencrypted, m.rand); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Manager) validateDurations() error {
	checks := []struct {
		name  string
		value time.Duration
	}{
		{"SetupTimeout", m.setupTimeout},
		{"ChallengeTimeout", m.challengeTimeout},
		{"BackupCodeTTL", m.backupCodeTTL},
	}
	for _, c := range checks {
		if c.value < time.Second || c.value > maxDuration {
			return fmt.Errorf("twofactor: Config.%s is %v; use one second to %v, or zero for the default", c.name, c.value, maxDuration)
		}
	}
	if m.maxAttempts < 1 {
		return fmt.Errorf("twofactor: Config.MaxAttempts is %d; use a positive number or zero for the default", m.maxAttempts)
	}
	return nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// emit sends e to the audit callback, if any, stamped with the time.
func (m *Manager) emit(ctx context.Context, e Event) {
	if m.audit == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = m.now()
	}
	if e.ChallengeID != "" {
		e.ChallengeID = challengeRef(e.ChallengeID)
	}
	m.audit(ctx, e)
}

// randomBytes fills a new slice of n bytes from the Manager's random
// source. A source that returns fewer bytes is an error, never a short or
// partly zero value.
func (m *Manager) randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(m.rand, b); err != nil {
		return nil, fmt.Errorf("twofactor: reading %d random bytes failed: %w", n, err)
	}
	return b, nil
}

// String describes the Manager without its keys.
func (m *Manager) String() string {
	return fmt.Sprintf("twofactor.Manager{issuer: %q}", m.issuer)
}

// GoString describes the Manager without its keys.
func (m *Manager) GoString() string { return m.String() }

// Format writes the description of the Manager without its keys, whatever
// the verb, so that logging a Manager never shows a key.
func (m *Manager) Format(f fmt.State, verb rune) {
	io.WriteString(f, m.String())
}
