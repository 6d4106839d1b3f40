package main

import (
	"fmt"
	"net/http"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/devicecookie"
)

// The notices shown after a sign-in.
var (
	noticeBackupCodeUsed = notice{
		Text:     "You signed in with a backup code; please reset 2FA.",
		Link:     "/setup",
		LinkText: "Reset two-factor sign-in",
	}
	noticeResetRequired = notice{
		Text:     "An administrator unlocked your account; you must reset 2FA.",
		Link:     "/setup",
		LinkText: "Reset two-factor sign-in",
	}
	noticeSignInAgain = notice{Text: "Your sign-in attempt has ended. Sign in again."}
)

// skipNotices explain why a sign-in needed no code.
var skipNotices = map[twofactor.Reason]notice{
	twofactor.ReasonNotEnrolled: {
		Text:     "You signed in without a code because two-factor sign-in is not set up for your account.",
		Link:     "/setup",
		LinkText: "Set it up now",
	},
	twofactor.ReasonSSO:           {Text: "You signed in without a code because you used single sign-on."},
	twofactor.ReasonExemptChannel: {Text: "You signed in without a code because this sign-in channel is exempt."},
	twofactor.ReasonTrustedDevice: {Text: "You signed in without a code because you trusted this browser."},
}

// loginData is the data of the sign-in page.
type loginData struct {
	Username string
	Error    string
	Users    []*user
}

func (s *server) loginPage(w http.ResponseWriter, r *http.Request, sess *session, u *user) {
	if u != nil {
		s.redirect(w, r, sess, "/")
		return
	}
	s.render(w, r, sess, http.StatusOK, "login", loginData{Users: s.users.order})
}

func (s *server) passwordLogin(w http.ResponseWriter, r *http.Request, sess *session, _ *user) {
	name := r.PostFormValue("username")
	u, ok := s.users.authenticate(name, r.PostFormValue("password"))
	if !ok {
		// The name is logged only when it is a known user: a password
		// typed into the username field must not reach the log.
		if known := s.users.lookup(name); known != nil {
			s.log.Info("wrong password", "user", known.ID)
		} else {
			s.log.Info("sign-in with an unknown username")
		}
		s.render(w, r, sess, http.StatusUnauthorized, "login", loginData{
			Username: name,
			Error:    "Incorrect username or password.",
			Users:    s.users.order,
		})
		return
	}
	s.beginLogin(w, r, sess, u, twofactor.MethodPassword)
}

// ssoLogin pretends that an identity provider vouched for the chosen user.
func (s *server) ssoLogin(w http.ResponseWriter, r *http.Request, sess *session, _ *user) {
	u := s.users.lookup(r.PostFormValue("user"))
	if u == nil {
		s.render(w, r, sess, http.StatusUnprocessableEntity, "login", loginData{
			Error: "Choose a demo user to sign in with single sign-on.",
			Users: s.users.order,
		})
		return
	}
	s.beginLogin(w, r, sess, u, twofactor.MethodSSO)
}

// beginLogin calls Manager.Begin for a user whose password or SSO passed.
// Depending on the decision it signs the user in, shows the locked page or
// redirects to the code page.
func (s *server) beginLogin(w http.ResponseWriter, r *http.Request, sess *session, u *user, method twofactor.Method) {
	sess.clearLogin()
	s.sessions.rotate(sess)
	setSessionCookie(w, sess.id)

	decision, err := s.manager.Begin(r.Context(), twofactor.Login{
		UserID:      u.ID,
		Role:        u.Role,
		Method:      method,
		Channel:     "web",
		DeviceToken: devicecookie.Read(r, s.deviceCookie),
	})
	if err != nil {
		s.fail(w, r, sess, "starting the code step", err)
		return
	}
	switch {
	case !decision.Required:
		sess.userID, sess.signedIn = u.ID, true
		if n, ok := skipNotices[decision.Reason]; ok {
			sess.addNotice(n)
		}
		next := "/"
		if decision.ResetRequired {
			sess.mustReset = true
			sess.addNotice(noticeResetRequired)
			next = "/setup"
		}
		s.redirect(w, r, sess, next)
	case decision.Reason == twofactor.ReasonLocked:
		s.render(w, r, sess, http.StatusForbidden, "locked", lockedData{Message: s.messages.Locked})
	default:
		sess.userID = u.ID
		sess.challengeID = decision.Challenge.ID
		sess.trustAllowed = decision.Challenge.TrustAllowed
		s.redirect(w, r, sess, "/login/code")
	}
}

// codeData is the data of the code page.
type codeData struct {
	Username     string
	Message      string
	Warning      string
	TrustAllowed bool
	TrustDays    int
	BackupMode   bool // the field takes letters, for typing a backup code
}

func (s *server) newCodeData(r *http.Request, sess *session) codeData {
	return codeData{
		Username:     sess.userID,
		TrustAllowed: sess.trustAllowed,
		TrustDays:    int(twofactor.DefaultTrustFor.Hours() / 24),
		BackupMode:   r.FormValue("kind") == "backup",
	}
}

func (s *server) codePage(w http.ResponseWriter, r *http.Request, sess *session, _ *user) {
	s.render(w, r, sess, http.StatusOK, "code", s.newCodeData(r, sess))
}

// submitCode checks a code or backup code against the session's challenge.
func (s *server) submitCode(w http.ResponseWriter, r *http.Request, sess *session, _ *user) {
	var opts []twofactor.SubmitOption
	trust := sess.trustAllowed && r.PostFormValue("trust") == "1"
	if trust {
		opts = append(opts, twofactor.TrustDevice(deviceLabel(r.UserAgent())))
	}
	res, err := s.manager.Submit(r.Context(), sess.challengeID, r.PostFormValue("code"), opts...)
	switch {
	case isChallengeGone(err):
		sess.clearLogin()
		sess.addNotice(noticeSignInAgain)
		s.redirect(w, r, sess, "/login")
		return
	case err != nil && !res.Succeeded():
		s.fail(w, r, sess, "checking a code", err)
		return
	case err != nil:
		// The code was right; only remembering the browser failed.
		s.log.Error("trusting a device failed", "user", sess.userID, "err", err)
	}

	switch res.State {
	case twofactor.StateSucceeded:
		if trust && res.DeviceToken == "" {
			sess.addNotice(notice{Text: "This browser could not be trusted, so you will be asked for a code next time."})
		}
		s.finishLogin(w, r, sess, res)
	case twofactor.StateCodePending:
		data := s.newCodeData(r, sess)
		data.Message, data.Warning = res.Message, res.Warning
		s.render(w, r, sess, http.StatusUnprocessableEntity, "code", data)
	case twofactor.StateTimedOut:
		sess.clearLogin()
		s.render(w, r, sess, http.StatusOK, "timedout", timedOutData{Minutes: int(twofactor.DefaultChallengeTimeout.Minutes())})
	case twofactor.StateLocked:
		sess.clearLogin()
		s.render(w, r, sess, http.StatusForbidden, "locked", lockedData{Message: res.Message})
	default:
		s.fail(w, r, sess, "checking a code", fmt.Errorf("twofactor: unexpected challenge state %v", res.State))
	}
}

// finishLogin signs the user in after a right code, remembers the browser
// if the user asked to, and leads to the set-up page when a reset is due.
func (s *server) finishLogin(w http.ResponseWriter, r *http.Request, sess *session, res twofactor.Result) {
	if res.DeviceToken != "" {
		devicecookie.Set(w, res.DeviceToken, res.DeviceExpires, s.deviceCookie)
	}
	userID := sess.userID
	sess.clearLogin()
	s.sessions.rotate(sess)
	setSessionCookie(w, sess.id)
	sess.userID, sess.signedIn = userID, true

	next := "/"
	if res.BackupCodeUsed {
		sess.addNotice(noticeBackupCodeUsed)
	}
	if res.ResetRequired {
		sess.mustReset = true
		sess.addNotice(noticeResetRequired)
		next = "/setup"
	}
	s.redirect(w, r, sess, next)
}

// lockedData is the data of the locked page.
type lockedData struct{ Message string }

// timedOutData is the data of the timed-out page.
type timedOutData struct{ Minutes int }

// logout ends the session. The device cookie stays, because trusting a
// browser is meant to outlast a sign-out.
func (s *server) logout(w http.ResponseWriter, r *http.Request, sess *session, _ *user) {
	s.sessions.delete(sess.id)
	clearSessionCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
