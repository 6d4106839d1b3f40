package main

import (
	"net/http"

	"github.com/twofactor-go/twofactor"
)

// devicesData is the data of the trusted-devices page.
type devicesData struct {
	Devices []twofactor.Device
}

func (s *server) devicesPage(w http.ResponseWriter, r *http.Request, sess *session, u *user) {
	devices, err := s.manager.Devices(r.Context(), u.ID)
	if err != nil {
		s.fail(w, r, sess, "listing trusted devices", err)
		return
	}
	s.render(w, r, sess, http.StatusOK, "devices", devicesData{Devices: devices})
}

// revokeDevice stops one of the user's devices from skipping the code step.
// The library deletes only a device of the given user, so a device ID of
// another user in the form changes nothing.
func (s *server) revokeDevice(w http.ResponseWriter, r *http.Request, sess *session, u *user) {
	id := r.PostFormValue("device")
	if id == "" {
		s.renderError(w, r, sess, http.StatusBadRequest, "No device was chosen. Go back and try again.")
		return
	}
	if err := s.manager.RevokeDevice(r.Context(), u.ID, id, u.ID); err != nil {
		s.fail(w, r, sess, "revoking a device", err)
		return
	}
	sess.addNotice(notice{Text: "The browser is no longer trusted. It will be asked for a code at its next sign-in."})
	s.redirect(w, r, sess, "/devices")
}
