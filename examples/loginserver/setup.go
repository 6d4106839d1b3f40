package main

import (
	"context"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/devicecookie"
)

// qrSize is the width and height of the QR code image in pixels.
const qrSize = 256

// setupData is the data of the set-up page.
type setupData struct {
	Enrolled  bool
	MustReset bool
	Account   string

	// QR is the QR code as a data URL. It contains the secret, so it is
	// only ever part of the page body, never a URL the browser requests.
	QR        template.URL
	Key       string // the secret in groups of four, for typing by hand
	Algorithm string
	Digits    int
	Period    time.Duration
	Expires   time.Time
	Message   string
}

func (s *server) setupPage(w http.ResponseWriter, r *http.Request, sess *session, u *user) {
	s.renderSetup(w, r, sess, u, http.StatusOK, "")
}

// renderSetup shows the pending set-up, starting one when the session has
// none or it expired, with message beside the code field.
func (s *server) renderSetup(w http.ResponseWriter, r *http.Request, sess *session, u *user, status int, message string) {
	ctx := r.Context()
	enrolled, err := s.manager.Enrolled(ctx, u.ID)
	if err != nil {
		s.fail(w, r, sess, "reading the enrollment", err)
		return
	}
	key, err := s.pendingSetup(ctx, sess, u)
	if err != nil {
		s.fail(w, r, sess, "starting the set-up", err)
		return
	}
	png, err := key.PNG(qrSize)
	if err != nil {
		s.fail(w, r, sess, "drawing the QR code", err)
		return
	}
	s.render(w, r, sess, status, "setup", setupData{
		Enrolled:  enrolled,
		MustReset: sess.mustReset,
		Account:   u.Email,
		QR:        template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		Key:       groupKey(key.Secret),
		Algorithm: key.Algorithm.String(),
		Digits:    key.Digits,
		Period:    key.Period,
		Expires:   key.ExpiresAt,
		Message:   message,
	})
}

// pendingSetup returns the user's pending set-up key, or starts a new
// set-up. Showing the pending key lets a reload or a wrong code show the
// same QR code, which the user may already have scanned, and a set-up
// started in another browser shows there too.
func (s *server) pendingSetup(ctx context.Context, sess *session, u *user) (*twofactor.SetupKey, error) {
	key, err := s.manager.PendingSetup(ctx, u.ID, u.Email)
	if errors.Is(err, twofactor.ErrNoSetup) {
		return s.manager.StartSetup(ctx, u.ID, u.Email)
	}
	return key, err
}

// groupKey writes a base32 key in groups of four characters separated by
// spaces, which authenticator apps ignore.
func groupKey(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(key[i:min(i+4, len(key))])
	}
	return b.String()
}

func (s *server) confirmSetup(w http.ResponseWriter, r *http.Request, sess *session, u *user) {
	err := s.manager.ConfirmSetup(r.Context(), u.ID, r.PostFormValue("code"))
	switch {
	case errors.Is(err, twofactor.ErrIncorrectCode):
		s.renderSetup(w, r, sess, u, http.StatusUnprocessableEntity, s.messages.IncorrectCode)
		return
	case errors.Is(err, twofactor.ErrNoSetup):
		sess.addNotice(notice{Text: "The set-up expired. Scan the new QR code and try again."})
		s.redirect(w, r, sess, "/setup")
		return
	case err != nil:
		s.fail(w, r, sess, "confirming the set-up", err)
		return
	}
	sess.mustReset = false
	sess.addNotice(notice{Text: "Two-factor sign-in is on. You will be asked for a code from your app when you sign in."})
	s.redirect(w, r, sess, "/")
}

// turnOff removes the user's 2FA and deletes this browser's device cookie.
//
// NOTE: a production site would ask for the password or a code again
// before turning 2FA off. The demo turns it off on any signed-in request.
func (s *server) turnOff(w http.ResponseWriter, r *http.Request, sess *session, u *user) {
	if err := s.manager.TurnOff(r.Context(), u.ID, u.ID); err != nil {
		s.fail(w, r, sess, "turning off 2FA", err)
		return
	}
	devicecookie.Clear(w, s.deviceCookie)
	sess.addNotice(notice{Text: "Two-factor sign-in is off, and every trusted browser was forgotten."})
	s.redirect(w, r, sess, "/")
}
