package main

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/twofactor-go/twofactor"
)

// adminRow is one user on the administration page.
type adminRow struct {
	ID       string
	Role     twofactor.Role
	Enrolled bool
	Locked   bool
	Self     bool
}

// issuedCode is a backup code shown once, right after it was issued.
type issuedCode struct {
	UserID  string
	Code    string
	Expires time.Time
}

// adminData is the data of the administration page.
type adminData struct {
	Users  []adminRow
	Issued *issuedCode
	Error  string
}

func (s *server) adminPage(w http.ResponseWriter, r *http.Request, sess *session, u *user) {
	s.renderAdmin(w, r, sess, u, http.StatusOK, adminData{})
}

// renderAdmin lists the users with their 2FA state around data.
func (s *server) renderAdmin(w http.ResponseWriter, r *http.Request, sess *session, admin *user, status int, data adminData) {
	ctx := r.Context()
	for _, u := range s.users.order {
		enrolled, err := s.manager.Enrolled(ctx, u.ID)
		if err != nil {
			s.fail(w, r, sess, "reading an enrollment", err)
			return
		}
		locked, err := s.manager.Locked(ctx, u.ID)
		if err != nil {
			s.fail(w, r, sess, "reading a lockout", err)
			return
		}
		data.Users = append(data.Users, adminRow{
			ID:       u.ID,
			Role:     u.Role,
			Enrolled: enrolled,
			Locked:   locked,
			Self:     u.ID == admin.ID,
		})
	}
	s.render(w, r, sess, status, "admin", data)
}

// formUser returns the user named by the form's "user" field, or writes
// the page with an error and returns nil.
func (s *server) formUser(w http.ResponseWriter, r *http.Request, sess *session, admin *user) *user {
	name := r.PostFormValue("user")
	target := s.users.lookup(name)
	if target == nil {
		s.renderAdmin(w, r, sess, admin, http.StatusUnprocessableEntity, adminData{Error: fmt.Sprintf("There is no user %q.", name)})
	}
	return target
}

// adminUnlock unlocks a user. The library then makes the user reset 2FA at
// the next sign-in.
func (s *server) adminUnlock(w http.ResponseWriter, r *http.Request, sess *session, admin *user) {
	target := s.formUser(w, r, sess, admin)
	if target == nil {
		return
	}
	if err := s.manager.UnlockByAdmin(r.Context(), target.ID, admin.ID); err != nil {
		s.fail(w, r, sess, "unlocking a user", err)
		return
	}
	sess.addNotice(notice{Text: fmt.Sprintf("Unlocked %s. They must reset 2FA when they next sign in.", target.ID)})
	s.redirect(w, r, sess, "/admin")
}

// adminBackupCode issues a backup code and shows it on this response only:
// it is not kept in the session, so a reload does not show it again.
func (s *server) adminBackupCode(w http.ResponseWriter, r *http.Request, sess *session, admin *user) {
	target := s.formUser(w, r, sess, admin)
	if target == nil {
		return
	}
	code, expires, err := s.manager.IssueBackupCode(r.Context(), twofactor.Actor{ID: admin.ID, Role: admin.Role}, target.ID)
	switch {
	case errors.Is(err, twofactor.ErrSelfIssue):
		s.renderAdmin(w, r, sess, admin, http.StatusUnprocessableEntity, adminData{Error: "You cannot issue a backup code for your own account; ask another administrator."})
		return
	case errors.Is(err, twofactor.ErrNotEnrolled):
		s.renderAdmin(w, r, sess, admin, http.StatusUnprocessableEntity, adminData{Error: fmt.Sprintf("%s has not set up two-factor sign-in, so a backup code would not help.", target.ID)})
		return
	case err != nil:
		s.fail(w, r, sess, "issuing a backup code", err)
		return
	}
	s.renderAdmin(w, r, sess, admin, http.StatusOK, adminData{Issued: &issuedCode{UserID: target.ID, Code: code, Expires: expires}})
}
