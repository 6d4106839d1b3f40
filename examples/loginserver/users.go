package main

import (
	"crypto/rand"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/twofactor-go/twofactor"
)

// user is a demo account. A real host would read it from its user database.
type user struct {
	ID    string
	Role  twofactor.Role
	Email string
	hash  []byte // bcrypt hash of the password
}

// IsAdmin reports whether the user may use the administration page.
func (u *user) IsAdmin() bool { return u.Role == twofactor.RoleAdministrator }

// credential is a demo user's name, role and password in clear, printed once
// at start-up so that a developer can sign in.
type credential struct {
	ID       string
	Role     twofactor.Role
	Password string
}

// userDirectory is the fixed set of demo users. It is read-only after
// newDemoUsers returns, so it needs no lock.
type userDirectory struct {
	byID  map[string]*user
	order []*user

	// dummyHash is compared against when the username is unknown, so that
	// a wrong username takes as long as a wrong password.
	dummyHash []byte
}

// demoAccounts are the users of the demo: two agents, a super-agent and an
// administrator.
var demoAccounts = []struct {
	id   string
	role twofactor.Role
}{
	{"alice", twofactor.RoleAgent},
	{"sam", twofactor.RoleSuperAgent},
	{"ada", twofactor.RoleAdministrator},
	{"bob", twofactor.RoleAgent},
}

// newDemoUsers creates the demo users with bcrypt hashes of the given
// cost. An empty password gives each user its own random password.
func newDemoUsers(password string, cost int) (*userDirectory, []credential, error) {
	dir := &userDirectory{byID: make(map[string]*user)}
	creds := make([]credential, 0, len(demoAccounts))
	for _, a := range demoAccounts {
		pw := password
		if pw == "" {
			pw = rand.Text()
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
		if err != nil {
			return nil, nil, fmt.Errorf("twofactor: hashing the password of demo user %q failed: %w", a.id, err)
		}
		u := &user{ID: a.id, Role: a.role, Email: a.id + "@example.com", hash: hash}
		dir.byID[u.ID] = u
		dir.order = append(dir.order, u)
		creds = append(creds, credential{ID: a.id, Role: a.role, Password: pw})
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), cost)
	if err != nil {
		return nil, nil, fmt.Errorf("twofactor: hashing the placeholder password failed: %w", err)
	}
	dir.dummyHash = dummy
	return dir, creds, nil
}

// lookup returns the user with the ID, or nil.
func (d *userDirectory) lookup(id string) *user { return d.byID[id] }

// authenticate returns the user whose name and password match. bcrypt
// compares in constant time, and an unknown name is compared against a
// placeholder hash, so the response time does not tell whether a username
// exists.
func (d *userDirectory) authenticate(name, password string) (*user, bool) {
	u := d.byID[name]
	hash := d.dummyHash
	if u != nil {
		hash = u.hash
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	if u == nil || err != nil {
		return nil, false
	}
	return u, true
}
