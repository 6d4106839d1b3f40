package twofactor

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Errors of the login challenge.
var (
	// ErrChallengeNotFound is returned for an unknown challenge ID, or one
	// that the store dropped an hour or more after its time limit.
	ErrChallengeNotFound = errors.New("twofactor: challenge not found; sign in again")

	// ErrChallengeClosed is returned for a challenge that already
	// succeeded. A success finishes one login only.
	ErrChallengeClosed = errors.New("twofactor: challenge already used; sign in again")
)

// State is the state of a login challenge.
//
// The transitions are:
//
//	from                 to                   when
//	credential-verified  code-pending         Begin requires a code
//	code-pending         code-pending         a wrong code, with attempts left
//	code-pending         succeeded            a right code or backup code
//	code-pending         locked               the wrong code that reaches the
//	                                          limit, a submission to a locked
//	                                          account, or an unlock since the
//	                                          challenge began
//	code-pending         timed-out            any submission at or after the
//	                                          deadline
//
// Succeeded, locked and timed-out are final: a challenge in one of them
// accepts nothing more. The zero State is invalid.
type State uint8

// The states of a challenge.
const (
	StateCredentialVerified State = iota + 1
	StateCodePending
	StateSucceeded
	StateLocked
	StateTimedOut
)

var stateNames = [...]string{
	StateCredentialVerified: "credential-verified",
	StateCodePending:        "code-pending",
	StateSucceeded:          "succeeded",
	StateLocked:             "locked",
	StateTimedOut:           "timed-out",
}

// String returns the state's name as written in the transition table.
func (s State) String() string {
	if int(s) < len(stateNames) && stateNames[s] != "" {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Final reports whether the challenge accepts no more submissions.
func (s State) Final() bool {
	return s == StateSucceeded || s == StateLocked || s == StateTimedOut
}

// Challenge is a login waiting for a code, as the store keeps it. The host
// keeps its ID in the user's session between the code page and the
// submission.
type Challenge struct {
	ID     string
	UserID string
	Role   Role
	State  State

	// TrustAllowed reports whether the policy lets this login trust the
	// device on success.
	TrustAllowed bool

	// Generation is the account's unlock generation when the challenge
	// began; see [Account.Generation].
	Generation int64

	CreatedAt time.Time

	// Deadline is the end of the time limit: a submission at or after it
	// is timed out.
	Deadline time.Time

	// ExpiresAt is when the store may delete the record, an hour after the
	// deadline.
	ExpiresAt time.Time
}

// Result is the outcome of one submission.
type Result struct {
	// State is the challenge's state after the submission. Only
	// StateSucceeded signs the user in.
	State State

	// Message is the text to show the user, empty on success.
	Message string

	// Warning is set after a wrong code when few attempts are left.
	Warning string

	// AttemptsLeft is the number of wrong codes the account may still make.
	AttemptsLeft int

	// BackupCodeUsed reports that a backup code, not an app code, signed the
	// user in. The host should lead the user to reset 2FA.
	BackupCodeUsed bool

	// ResetRequired reports that an administrator unlocked the account and
	// the user must reset 2FA before carrying on.
	ResetRequired bool

	// DeviceToken is set on success when [TrustDevice] was passed and the
	// policy allows it. The host sets it as a cookie; see package devicecookie.
	// It is shown once: the store keeps only its hash.
	DeviceToken string

	// DeviceExpires is when DeviceToken stops working.
	DeviceExpires time.Time
}

// Succeeded reports whether the submission signed the user in.
func (r Result) Succeeded() bool { return r.State == StateSucceeded }

// SubmitOption changes one submission.
type SubmitOption func(*submitOptions)

type submitOptions struct {
	trust      bool
	trustLabel string
}

// applySubmitOptions returns the options that opts set. Without options it
// does not allocate: the options escape to the heap only when there are
// option functions to pass them to.
func applySubmitOptions(opts []SubmitOption) submitOptions {
	if len(opts) == 0 {
		return submitOptions{}
	}
	o := new(submitOptions)
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	return *o
}

// TrustDevice requests that a successful submission trusts the device, when
// the policy allows it. label describes the device in the device list, for
// example the browser's name; it is not secret.
func TrustDevice(label string) SubmitOption {
	return func(o *submitOptions) {
		o.trust = true
		o.trustLabel = label
	}
}

// startChallenge stores a new challenge in the code-pending state, and
// remembers the enrollment for its submissions.
func (m *Manager) startChallenge(ctx context.Context, login Login, acct Account, e Enrollment, now time.Time) (*Challenge, error) {
	random, err := m.randomBytes(16)
	if err != nil {
		return nil, err
	}
	id := hex.EncodeToString(random)
	if maker, ok := m.store.(ChallengeIDMaker); ok {
		id = maker.NewChallengeID(login.UserID, random)
	}
	deadline := now.Add(m.challengeTimeout)
	c := &Challenge{
		ID:           id,
		UserID:       login.UserID,
		Role:         login.Role,
		State:        StateCodePending,
		TrustAllowed: m.policy.trustAllowed(login.Role),
		Generation:   acct.Generation,
		CreatedAt:    now,
		Deadline:     deadline,
		ExpiresAt:    deadline.Add(challengeRetention),
	}
	if err := m.store.CreateChallenge(ctx, *c); err != nil {
		return nil, fmt.Errorf("twofactor: storing a challenge for user %q failed: %w", login.UserID, err)
	}
	m.pending.add(c.ID, e)
	return c, nil
}

// Submit checks input, an app's code or a backup code, against the
// challenge with the given ID.
//
// A wrong code returns a Result in the code-pending state with a message,
// and a nil error. An error means that a store or configuration failure
// kept the submission from being verified. It is never a success, and a
// failure before the code is checked does not count as a wrong code.
//
// The time limit is checked first and a locked account second: in either
// case the code is not counted and the result does not depend on it. The
// outcome of a code check is used only after an attempt is taken on the
// account, so concurrent submissions never learn more codes than the
// attempt limit allows. A right code clears the account's failures and closes the
// challenge in the same store operation that records its use. A code that
// was already accepted once counts as a wrong code.
//
// A Manager remembers the enrollment of each challenge that it began and
// checks an app code against it before the store call, which then judges
// the code and finishes the submission: one store call for any code. A
// challenge begun by another Manager, as on another instance, or one whose
// user reset 2FA since, takes a second call for a right app code and for
// any input in the form of a backup code.
func (m *Manager) Submit(ctx context.Context, challengeID, input string, opts ...SubmitOption) (Result, error) {
	now := m.now()

	// One store call loads the challenge, the account and the enrollment,
	// takes an attempt when the challenge may take one, and, given a
	// verdict, finishes the submission.
	v, backup, remembered := m.prejudge(challengeID, input, now)
	forget := func() {
		if remembered {
			m.pending.remove(challengeID)
		}
	}
	a, err := m.store.ReserveAttempt(ctx, challengeID, m.maxAttempts, now, v)
	if errors.Is(err, ErrNotFound) {
		forget()
		return Result{}, ErrChallengeNotFound
	}
	if err != nil {
		return Result{}, fmt.Errorf("twofactor: reserving an attempt on a challenge failed: %w", err)
	}
	c := a.Challenge
	if !a.Reserved {
		forget()
		return m.resultWithoutAttempt(ctx, a, now)
	}

	// The store's judgement counts only for a verdict that this call sent,
	// and its acceptance only for a verdict that could accept, so that a
	// faulty store cannot sign in a code that the Manager found wrong.
	judged := a.Judged && (v.BackupHash != nil || v.Secret != nil)
	accepted := judged && a.Accepted && (v.BackupHash != nil || v.Matched)

	// Without a verdict, check the code now. Only a definite result keeps
	// the attempt counted.
	if !judged {
		accepted, backup, err = m.checkInput(ctx, c, a.Enrollment, input, now)
		if errors.Is(err, ErrChallengeClosed) {
			// Another submission closed the challenge after this one took
			// its attempt, which stays counted.
			return m.afterConflict(ctx, c, a.Account.Failures, forget)
		}
		if err != nil {
			m.releaseAttempt(ctx, c.UserID)
			return Result{}, err
		}
	}
	if !accepted {
		if a.Account.Failures >= m.maxAttempts {
			forget()
		}
		return m.reject(ctx, c, a.Account.Failures)
	}
	forget()
	return m.succeed(ctx, c, a.Account, backup, opts)
}

// prejudge returns the verdict on input for the store call of a submission
// to a challenge that this Manager remembers, whether input is a backup
// code, and whether the challenge is remembered. For another challenge, or
// when the remembered secret cannot be opened, it returns the zero Verdict,
// and Submit checks the code after the store call.
func (m *Manager) prejudge(challengeID, input string, now time.Time) (v Verdict, backup, remembered bool) {
	e, ok := m.pending.get(challengeID)
	if !ok {
		return Verdict{}, false, false
	}
	v, err := m.verdict(e, input, now)
	if err != nil {
		return Verdict{}, false, true
	}
	return v, v.BackupHash != nil, true
}

// verdict checks input against the enrollment e. Input in the form of a
// backup code gets its keyed hash, which the store compares. Any other
// input is an app code, checked against the sealed secret.
func (m *Manager) verdict(e Enrollment, input string, now time.Time) (v Verdict, err error) {
	var code [backupCodeLength]byte
	if _, ok := normalizeBackupCodeTo(&code, input); ok {
		return Verdict{BackupHash: m.hashBackupCode(e.UserID, string(code[:]))}, nil
	}
	err = m.secrets.withOpen(e.UserID, e.Secret, func(secret []byte) error {
		var err error
		v.Step, v.Matched, err = e.params().check(secret, input, now, m.skew)
		return err
	})
	if err != nil {
		return Verdict{}, err
	}
	v.Secret = e.Secret
	return v, nil
}

// afterConflict returns the result of a submission whose challenge another
// submission closed after this one took its attempt, so that the store
// did not judge its code. When that one signed in, it returns
// ErrChallengeClosed. Otherwise the input counts as a wrong code with the
// failures of its attempt, as it would have before the challenge closed,
// so that every counted attempt is reported as a rejected code.
func (m *Manager) afterConflict(ctx context.Context, c Challenge, failures int, forget func()) (Result, error) {
	cur, err := m.store.GetChallenge(ctx, c.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		forget()
		return Result{}, ErrChallengeNotFound
	case err != nil:
		return Result{}, fmt.Errorf("twofactor: reading a challenge failed: %w", err)
	case cur.State == StateSucceeded:
		forget()
		return Result{}, ErrChallengeClosed
	}
	return m.reject(ctx, c, failures)
}

// resultWithoutAttempt returns the result of a submission for which the
// store reserved no attempt. It checks the store's conditions in their
// order. A closed challenge comes first, then the time limit, whatever was
// typed, then the enrollment. Last, a locked account or an unlock since
// the challenge began locks the challenge.
func (m *Manager) resultWithoutAttempt(ctx context.Context, a Attempt, now time.Time) (Result, error) {
	c := a.Challenge
	switch {
	case c.State == StateSucceeded:
		return Result{}, ErrChallengeClosed
	case c.State != StateCodePending:
		return m.closedResult(c.State), nil
	case !now.Before(c.Deadline):
		return m.timeOut(ctx, c)
	case a.Enrollment.UserID == "":
		return Result{}, ErrNotEnrolled
	}
	return m.lockChallenge(ctx, c, false)
}

// checkInput reports whether input is a right, unused app code or backup
// code of the enrollment. A right one signs in the challenge in the same
// store call that records its use. It returns ErrChallengeClosed when the
// challenge left the code-pending state since the attempt was reserved.
func (m *Manager) checkInput(ctx context.Context, c Challenge, e Enrollment, input string, now time.Time) (accepted, backup bool, err error) {
	v, err := m.verdict(e, input, now)
	switch {
	case err != nil:
		return false, false, err
	case v.BackupHash != nil:
		accepted, err = m.consumeBackupCode(ctx, c, v.BackupHash, now)
		return accepted, true, err
	case !v.Matched:
		return false, false, nil
	}
	err = m.store.AcceptStep(ctx, c.ID, c.UserID, v.Step)
	switch {
	case errors.Is(err, ErrStepUsed):
		return false, false, nil
	case errors.Is(err, ErrConflict):
		return false, false, ErrChallengeClosed
	case err != nil:
		return false, false, fmt.Errorf("twofactor: recording the accepted code of user %q failed: %w", c.UserID, err)
	}
	return true, false, nil
}

// releaseAttempt gives back an attempt whose code was never judged. A
// failure here leaves the attempt counted, which errs toward the lockout.
func (m *Manager) releaseAttempt(ctx context.Context, userID string) {
	_ = m.store.ReleaseAttempt(ctx, userID)
}

// succeed finishes a submission whose code the store accepted, which moved
// the challenge to succeeded.
func (m *Manager) succeed(ctx context.Context, c Challenge, acct Account, backup bool, opts []SubmitOption) (Result, error) {
	kind := EventCodeAccepted
	if backup {
		kind = EventBackupCodeUsed
	}
	m.emit(ctx, Event{Kind: kind, UserID: c.UserID, Actor: c.UserID, ChallengeID: c.ID})

	res := Result{
		State:          StateSucceeded,
		AttemptsLeft:   m.maxAttempts,
		BackupCodeUsed: backup,
		ResetRequired:  acct.ResetRequired,
	}

	o := applySubmitOptions(opts)
	if o.trust && c.TrustAllowed {
		// A failure to store the device leaves the login valid, without a
		// token, and is reported as an audit event.
		token, expires, err := m.trustDevice(ctx, c.UserID, o.trustLabel)
		if err == nil {
			res.DeviceToken, res.DeviceExpires = token, expires
		}
	}
	return res, nil
}

func (m *Manager) reject(ctx context.Context, c Challenge, failures int) (Result, error) {
	m.emit(ctx, Event{Kind: EventCodeRejected, UserID: c.UserID, Actor: c.UserID, ChallengeID: c.ID, Failures: failures})
	if failures >= m.maxAttempts {
		return m.lockChallenge(ctx, c, true)
	}
	left := m.attemptsLeft(failures)
	res := Result{State: StateCodePending, Message: m.messages.IncorrectCode, AttemptsLeft: left}
	if left <= 2 {
		res.Warning = m.messages.attemptsLeft(left)
	}
	return res, nil
}

// lockChallenge moves the challenge to locked. justLocked reports that this
// submission's wrong code reached the limit, which is the lock event.
func (m *Manager) lockChallenge(ctx context.Context, c Challenge, justLocked bool) (Result, error) {
	err := m.store.UpdateChallenge(ctx, c.ID, StateCodePending, StateLocked)
	if err != nil && !errors.Is(err, ErrConflict) {
		return Result{}, fmt.Errorf("twofactor: closing challenge failed: %w", err)
	}
	if justLocked {
		m.emit(ctx, Event{Kind: EventLocked, UserID: c.UserID, Actor: c.UserID, ChallengeID: c.ID, Failures: m.maxAttempts})
	}
	return m.closedResult(StateLocked), nil
}

func (m *Manager) timeOut(ctx context.Context, c Challenge) (Result, error) {
	err := m.store.UpdateChallenge(ctx, c.ID, StateCodePending, StateTimedOut)
	if err != nil && !errors.Is(err, ErrConflict) {
		return Result{}, fmt.Errorf("twofactor: closing challenge failed: %w", err)
	}
	m.emit(ctx, Event{Kind: EventChallengeTimedOut, UserID: c.UserID, Actor: c.UserID, ChallengeID: c.ID})
	return m.closedResult(StateTimedOut), nil
}

// closedResult is the result for a challenge in a final state other than
// succeeded.
func (m *Manager) closedResult(s State) Result {
	switch s {
	case StateLocked:
		return Result{State: s, Message: m.messages.Locked}
	case StateTimedOut:
		return Result{State: s, Message: m.messages.TimedOut}
	}
	return Result{State: s}
}
