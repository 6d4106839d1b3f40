package main

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"
)

const (
	// sessionCookieName is the cookie that carries the session ID.
	sessionCookieName = "loginserver_session"

	// sessionIdleTimeout ends a session that made no request for this long.
	sessionIdleTimeout = 8 * time.Hour

	// maxSessions bounds the memory that sessions take. When the store is
	// full even after dropping idle sessions, a new session replaces the
	// least recently seen one without a user, so that anonymous requests
	// cannot lock new visitors out. Only when every session has a user do
	// new visitors get an error page.
	maxSessions = 100_000
)

// errTooManySessions is returned when the session store is full.
var errTooManySessions = errors.New("twofactor: too many sessions; try again later")

// notice is a one-time message shown at the top of the next page, with an
// optional link.
type notice struct {
	Text     string
	Link     string
	LinkText string
}

// session is the server-side state of one browser. The browser holds only
// the random ID, so no secret, code or challenge ID ever reaches it.
type session struct {
	id        string
	csrfToken string
	lastSeen  time.Time

	// userID is the user who passed the password or SSO step. The user is
	// signed in only when signedIn is set too.
	userID   string
	signedIn bool

	// challengeID is the login challenge waiting for a code, if any, and
	// trustAllowed reports whether it may trust the browser.
	challengeID  string
	trustAllowed bool

	// mustReset is set when an administrator's unlock requires the user to
	// set up 2FA again before using any other page.
	mustReset bool

	notices []notice
}

// addNotice queues a message for the next page.
func (s *session) addNotice(n notice) { s.notices = append(s.notices, n) }

// clearLogin clears the signed-in user and any login in progress.
func (s *session) clearLogin() {
	s.userID = ""
	s.signedIn = false
	s.challengeID = ""
	s.trustAllowed = false
	s.mustReset = false
}

// validCSRF reports whether token is the session's CSRF token, comparing in
// constant time.
func (s *session) validCSRF(token string) bool {
	return s.csrfToken != "" && subtle.ConstantTimeCompare([]byte(s.csrfToken), []byte(token)) == 1
}

// sessionStore keeps sessions in memory by ID. Handlers work on copies
// and save them back, so two requests of one browser never share memory.
type sessionStore struct {
	mu   sync.Mutex
	byID map[string]session
	now  func() time.Time
}

func newSessionStore(now func() time.Time) *sessionStore {
	return &sessionStore{byID: make(map[string]session), now: now}
}

// load returns a copy of the session named by the request's cookie, if it
// exists and is not idle for too long.
func (st *sessionStore) load(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookieName)
	if err != nil {
		return session{}, false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.byID[c.Value]
	if !ok {
		return session{}, false
	}
	if st.idle(s) {
		delete(st.byID, s.id)
		return session{}, false
	}
	s.notices = slices.Clone(s.notices)
	return s, true
}

func (st *sessionStore) idle(s session) bool {
	return !st.now().Before(s.lastSeen.Add(sessionIdleTimeout))
}

// create stores a new empty session.
func (st *sessionStore) create() (session, error) {
	s := session{id: rand.Text(), csrfToken: rand.Text(), lastSeen: st.now()}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.byID) >= maxSessions {
		st.dropIdle()
	}
	if len(st.byID) >= maxSessions && !st.dropOldestAnonymous() {
		return session{}, errTooManySessions
	}
	st.byID[s.id] = s
	return s, nil
}

// dropOldestAnonymous deletes the least recently seen session that has no
// user, and reports whether there was one. The caller holds st.mu.
func (st *sessionStore) dropOldestAnonymous() bool {
	oldest, found := session{}, false
	for _, s := range st.byID {
		if s.userID == "" && (!found || s.lastSeen.Before(oldest.lastSeen)) {
			oldest, found = s, true
		}
	}
	if found {
		delete(st.byID, oldest.id)
	}
	return found
}

// dropIdle deletes idle sessions. The caller holds st.mu.
func (st *sessionStore) dropIdle() {
	for id, s := range st.byID {
		if st.idle(s) {
			delete(st.byID, id)
		}
	}
}

// save stores s under its ID if that ID still exists, so that a request
// still running when the user signs out, or when the ID is rotated, cannot
// bring the old session back.
func (st *sessionStore) save(s session) {
	if s.id == "" {
		return
	}
	s.lastSeen = st.now()
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.byID[s.id]; ok {
		st.byID[s.id] = s
	}
}

// delete removes the session with the ID.
func (st *sessionStore) delete(id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.byID, id)
}

// rotate gives s a new ID and CSRF token, stores it under the new ID and
// deletes the old one, so that an ID that an attacker planted before
// sign-in is worthless after it. The caller saves s and sends the new
// cookie.
func (st *sessionStore) rotate(s *session) {
	old := s.id
	s.id = rand.Text()
	s.csrfToken = rand.Text()
	s.lastSeen = st.now()
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.byID, old)
	st.byID[s.id] = *s
}

// setSessionCookie sends the session cookie. It has no Secure attribute
// because the demo serves plain HTTP on a loopback address; a real site
// served over HTTPS sets Secure.
func setSessionCookie(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookieName,
		Value:    id,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
}

// clearSessionCookie sends an expired session cookie, which the browser
// deletes.
func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookieName,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
}
