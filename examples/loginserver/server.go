package main

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/devicecookie"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// issuer names the demo in authenticator apps.
const issuer = "Login Server Demo"

// maxFormBytes bounds the body of a POST request.
const maxFormBytes = 64 << 10

// serverConfig is the configuration of newServer.
type serverConfig struct {
	Store  twofactor.Store
	Users  *userDirectory
	Logger *slog.Logger

	// Now returns the current time of the Manager and the sessions. Nil
	// means time.Now; tests pass a twofactortest.Clock.
	Now func() time.Time
}

// server is the HTTP handler of the demo.
type server struct {
	manager  *twofactor.Manager
	messages twofactor.Messages
	users    *userDirectory
	sessions *sessionStore
	pages    map[string]*template.Template
	log      *slog.Logger
	now      func() time.Time
	mux      *http.ServeMux

	// deviceCookie leaves out the Secure attribute because the demo
	// serves plain HTTP on a loopback address.
	deviceCookie devicecookie.Options
}

// newServer builds the Manager and the routes.
func newServer(cfg serverConfig) (*server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	manager, err := twofactor.New(twofactor.Config{
		Store:       cfg.Store,
		Issuer:      issuer,
		Unencrypted: true,
		Audit:       twofactor.SlogAudit(cfg.Logger),
		Now:         cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &server{
		manager:      manager,
		messages:     twofactor.EnglishMessages,
		users:        cfg.Users,
		sessions:     newSessionStore(cfg.Now),
		pages:        pages,
		log:          cfg.Logger,
		now:          cfg.Now,
		mux:          http.NewServeMux(),
		deviceCookie: devicecookie.Options{Insecure: true},
	}
	s.routes()
	return s, nil
}

func (s *server) routes() {
	s.handle("GET /{$}", public, s.homePage)
	s.handle("GET /login", public, s.loginPage)
	s.handle("POST /login", public, s.passwordLogin)
	s.handle("POST /login/sso", public, s.ssoLogin)
	s.handle("GET /login/code", codePending, s.codePage)
	s.handle("POST /login/code", codePending, s.submitCode)
	s.handle("POST /logout", public, s.logout)
	s.handle("GET /setup", signedInResetAllowed, s.setupPage)
	s.handle("POST /setup", signedInResetAllowed, s.confirmSetup)
	s.handle("POST /setup/off", signedIn, s.turnOff)
	s.handle("GET /devices", signedIn, s.devicesPage)
	s.handle("POST /devices/revoke", signedIn, s.revokeDevice)
	s.handle("GET /admin", administrator, s.adminPage)
	s.handle("POST /admin/unlock", administrator, s.adminUnlock)
	s.handle("POST /admin/backup-code", administrator, s.adminBackupCode)

	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
}

// ServeHTTP sets the security headers of every response and logs the
// request.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", rec.status),
		slog.Duration("duration", time.Since(start)))
}

// statusRecorder keeps the status code for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// access is who may use a route.
type access int

const (
	// public routes are open to every visitor.
	public access = iota
	// codePending routes need a login waiting for a code.
	codePending
	// signedIn routes need a signed-in user who is not required to reset
	// 2FA first.
	signedIn
	// signedInResetAllowed routes need a signed-in user, including one
	// who must reset 2FA.
	signedInResetAllowed
	// administrator routes need a signed-in administrator.
	administrator
)

// handlerFunc handles a request with the browser's session, which it may
// change and must save through render or redirect. u is the signed-in user,
// or nil on public and codePending routes when nobody is signed in.
type handlerFunc func(w http.ResponseWriter, r *http.Request, sess *session, u *user)

// handle registers h for the pattern behind the session, CSRF and access
// checks.
func (s *server) handle(pattern string, acc access, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		sess, ok := s.startSession(w, r)
		if !ok {
			return
		}
		u, ok := s.authorize(w, r, &sess, acc)
		if !ok {
			return
		}
		h(w, r, &sess, u)
	})
}

// startSession loads the browser's session. A GET without one gets a new
// session. A POST must carry the session's CSRF token, so one without a
// session or with a wrong token is rejected.
func (s *server) startSession(w http.ResponseWriter, r *http.Request) (session, bool) {
	sess, found := s.sessions.load(r)
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			s.renderError(w, r, &session{}, http.StatusBadRequest, "The form could not be read. Go back and try again.")
			return session{}, false
		}
		if !found || !sess.validCSRF(r.PostFormValue("csrf")) {
			s.log.Warn("rejected a form without a valid CSRF token", "path", r.URL.Path, "session", found)
			s.renderError(w, r, &session{}, http.StatusForbidden, "This form has expired. Go back, reload the page and try again.")
			return session{}, false
		}
		return sess, true
	}
	if found {
		return sess, true
	}
	sess, err := s.sessions.create()
	if err != nil {
		s.log.Error("creating a session failed", "err", err)
		s.renderError(w, r, &session{}, http.StatusServiceUnavailable, "The server is busy. Try again later.")
		return session{}, false
	}
	setSessionCookie(w, sess.id)
	return sess, true
}

// authorize returns the signed-in user and reports whether acc lets the
// request through. When it does not, it has already written the response.
func (s *server) authorize(w http.ResponseWriter, r *http.Request, sess *session, acc access) (*user, bool) {
	var u *user
	if sess.signedIn {
		u = s.users.lookup(sess.userID)
	}
	switch acc {
	case public:
		return u, true
	case codePending:
		if sess.challengeID == "" {
			s.redirect(w, r, sess, "/login")
			return nil, false
		}
		return u, true
	}
	if u == nil {
		s.redirect(w, r, sess, "/login")
		return nil, false
	}
	if sess.mustReset && acc != signedInResetAllowed {
		s.redirect(w, r, sess, "/setup")
		return nil, false
	}
	if acc == administrator && !u.IsAdmin() {
		s.renderError(w, r, sess, http.StatusForbidden, "Only administrators may open this page.")
		return nil, false
	}
	return u, true
}

// view is the data that every page template receives.
type view struct {
	Page    string // the template's name, also set on <body data-page>
	Issuer  string
	User    *user // nil when nobody is signed in
	CSRF    string
	Notices []notice
	Data    any // the page's own data
}

// parsePages parses each page template together with the layout.
func parsePages() (map[string]*template.Template, error) {
	names := []string{"home", "login", "code", "locked", "timedout", "setup", "devices", "admin", "error"}
	funcs := template.FuncMap{"formatTime": formatTime}
	pages := make(map[string]*template.Template, len(names))
	for _, name := range names {
		t, err := template.New("base.html").Funcs(funcs).ParseFS(templateFS, "templates/base.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// formatTime writes t in UTC to the minute.
func formatTime(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 MST") }

// render saves the session and writes the page. The session's notices are
// shown on this page and then dropped.
func (s *server) render(w http.ResponseWriter, r *http.Request, sess *session, status int, name string, data any) {
	v := view{Page: name, Issuer: issuer, CSRF: sess.csrfToken, Notices: sess.notices, Data: data}
	if sess.signedIn {
		v.User = s.users.lookup(sess.userID)
	}
	sess.notices = nil
	s.sessions.save(*sess)

	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "base.html", v); err != nil {
		s.log.Error("rendering a page failed", "page", name, "err", err)
		http.Error(w, "Internal server error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if _, err := buf.WriteTo(w); err != nil {
		s.log.Debug("writing a page failed", "page", name, "err", err)
	}
}

// redirect saves the session and sends the browser to path with 303 See
// Other, so that a reload does not send a form again.
func (s *server) redirect(w http.ResponseWriter, r *http.Request, sess *session, path string) {
	s.sessions.save(*sess)
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// errorData is the data of the error page.
type errorData struct{ Message string }

// renderError shows message on the error page.
func (s *server) renderError(w http.ResponseWriter, r *http.Request, sess *session, status int, message string) {
	s.render(w, r, sess, status, "error", errorData{Message: message})
}

// fail logs an unexpected error and shows a generic error page. The
// library's errors name users and records but never secrets or codes.
func (s *server) fail(w http.ResponseWriter, r *http.Request, sess *session, action string, err error) {
	s.log.Error(action+" failed", "path", r.URL.Path, "user", sess.userID, "err", err)
	s.renderError(w, r, sess, http.StatusInternalServerError, "Something went wrong. Try again; if it keeps happening, tell an administrator.")
}

// homeData is the data of the home page.
type homeData struct {
	Enrolled    bool
	CodePending bool
}

func (s *server) homePage(w http.ResponseWriter, r *http.Request, sess *session, u *user) {
	if u != nil && sess.mustReset {
		s.redirect(w, r, sess, "/setup")
		return
	}
	data := homeData{CodePending: sess.challengeID != ""}
	if u != nil {
		enrolled, err := s.manager.Enrolled(r.Context(), u.ID)
		if err != nil {
			s.fail(w, r, sess, "reading the enrollment", err)
			return
		}
		data.Enrolled = enrolled
	}
	s.render(w, r, sess, http.StatusOK, "home", data)
}

// isChallengeGone reports whether err means that the login challenge can
// take no more codes, so the user must start the sign-in again.
func isChallengeGone(err error) bool {
	return errors.Is(err, twofactor.ErrChallengeNotFound) ||
		errors.Is(err, twofactor.ErrChallengeClosed) ||
		errors.Is(err, twofactor.ErrNotEnrolled)
}
