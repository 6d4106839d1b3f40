// Package twofactor adds TOTP two-factor authentication (RFC 6238) to an
// existing Go login system.
//
// The host application keeps its users, passwords and sessions. The
// library takes over after the host has verified a password or accepted a
// single sign-on assertion, and it never receives a password. It writes no HTTP
// itself: every call takes plain values and returns plain values, so the
// same flow serves a web page, an agent console or a mobile app. Package
// devicecookie is an optional helper for the trusted-device cookie.
//
// # Configuration
//
// A [Manager] is built once by [New] from a [Config]. The store is the only
// part that needs thought: package memstore keeps everything in memory for
// one process, and the postgresstore and redisstore modules share state
// between several instances. Secrets are encrypted with XChaCha20-Poly1305
// before they reach the store, under the keys in [Config.Keys].
//
// # Set-up
//
// A signed-in user starts the set-up with [Manager.StartSetup], which
// creates a 160-bit secret and returns a [SetupKey] with the secret in
// base32, the otpauth:// key URI and, through [SetupKey.PNG], a QR code of
// it. The user adds the key to an authenticator app and types the code it
// shows; [Manager.ConfirmSetup] checks that code and only then enables 2FA.
// [Manager.PendingSetup] returns the pending key again, for a reload of the
// set-up page. An unconfirmed set-up expires after 10 minutes and affects
// no login.
//
// Calling StartSetup for an enrolled user is a reset: the old secret keeps
// working until the new one is confirmed, and the confirmation revokes the
// user's trusted devices. [Manager.TurnOff] removes 2FA.
//
// # Sign-in
//
// After the password check the host calls [Manager.Begin] with a [Login].
// The [Decision] reports whether the code step is skipped, and why: the user
// is not enrolled, an agent or super-agent signed in through SSO, the
// channel is exempt, or the device is trusted (see [Policy]). Otherwise it
// carries a [Challenge], whose ID the host keeps in the session.
//
// The host passes what the user types to [Manager.Submit], as often as the
// user tries. The [Result] is one of the challenge's states:
//
//	code-pending  a wrong code; show Result.Message and Result.Warning
//	succeeded     sign the user in
//	locked        the account is locked; no code was or will be checked
//	timed-out     10 minutes passed since the password; start again
//
// # Codes and their one-time use
//
// A code is valid for its 30-second time step and, by default, the step
// before and after it. Input is forgiving in form: spaces and dashes are
// ignored. Anything but exactly the expected number of ASCII digits, or a
// backup code, is a wrong code and counts.
//
// Each accepted code is used once. The store records the time step of every
// accepted code in the same atomic operation that accepts it
// ([EnrollmentStore.AcceptStep]), and refuses that step and every earlier
// one for the user from then on. So, of many concurrent submissions of one
// code, on any number of instances sharing the store, exactly one
// succeeds. The replay window is therefore the store, not the process.
//
// # Lockout
//
// A user has 5 attempts. The count belongs to the account, not to a
// challenge, so signing in again gives no fresh attempts. An attempt is
// counted in the store before its code is checked
// ([AttemptStore.ReserveAttempt]), so concurrent submissions can never
// check more codes than the limit. After the 3rd and 4th wrong code the
// result carries a warning; the 5th locks the account. A right code clears
// the count. An administrator unlocks with [Manager.UnlockByAdmin], after
// which the user must reset 2FA, and the host unlocks after a password
// reset with [Manager.UnlockAfterPasswordReset].
//
// # Backup codes
//
// A user who lost the phone gets a backup code from an administrator, or
// from an agent whom the host allows, through [Manager.IssueBackupCode].
// Nobody can issue one for themselves. It is typed in place of the app's
// code, works once, expires after 30 minutes, and stops working when a
// newer one is issued. The store keeps only a keyed hash of it.
//
// # Failures and audit
//
// When the store or the clock fails, Submit returns an error and a result
// that is not a success. Every state change is reported as an [Event] to
// [Config.Audit]; [SlogAudit] sends them to a log/slog logger. No secret,
// code, token or backup code appears in an event or an error.
package twofactor
