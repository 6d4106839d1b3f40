package storetest

import (
	"context"
	"encoding/base32"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/internal/otpcode"
)

// newManager returns a Manager on s with a clock fixed at base.
func newManager(t *testing.T, s twofactor.Store) *twofactor.Manager {
	t.Helper()
	m, err := twofactor.New(twofactor.Config{
		Store:  s,
		Issuer: "Conformance",
		Keys:   []twofactor.EncryptionKey{{ID: "k1", Secret: make([]byte, 32)}},
		Now:    func() time.Time { return base },
	})
	must(t, "twofactor.New", err)
	return m
}

// enrollUser enrolls userID through m and returns the secret.
func enrollUser(t *testing.T, m *twofactor.Manager, userID string) []byte {
	t.Helper()
	key, err := m.StartSetup(ctx(t), userID, userID+"@example.com")
	must(t, "StartSetup", err)
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key.Secret)
	must(t, "decoding the secret", err)
	step, _ := otpcode.Step(base, 30)
	must(t, "ConfirmSetup", m.ConfirmSetup(ctx(t), userID, otpcode.Generate(secret, otpcode.SHA1, 6, step-1)))
	return secret
}

// begin starts a challenge for a password login of an agent.
func begin(t *testing.T, m *twofactor.Manager, userID string) string {
	t.Helper()
	d, err := m.Begin(ctx(t), twofactor.Login{UserID: userID, Role: twofactor.RoleAgent})
	must(t, "Begin", err)
	if d.Challenge == nil {
		t.Fatalf("Begin = %+v, want a challenge", d)
	}
	return d.Challenge.ID
}

// submitAll submits the input returned by input(i) n times at once, each
// on the challenge ids[i%len(ids)], and returns the results.
func submitAll(t *testing.T, m *twofactor.Manager, ids []string, n int, input func(i int) string) []twofactor.Result {
	t.Helper()
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]twofactor.Result, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			res, err := m.Submit(ctx(t), ids[i%len(ids)], input(i))
			if err != nil && err != twofactor.ErrChallengeClosed {
				t.Errorf("Submit: %v", err)
			}
			results[i] = res
		})
	}
	close(start)
	wg.Wait()
	return results
}

func managerCases() []Case {
	return []Case{
		{
			Name: "ManagerConcurrentWrongCodes",
			Rule: "however many wrong codes arrive at once on several challenges, at most the attempt limit are checked",
			Test: func(t *testing.T, s twofactor.Store) {
				var checked atomic.Int32
				m, err := twofactor.New(twofactor.Config{
					Store:       s,
					Issuer:      "Conformance",
					Unencrypted: true,
					Now:         func() time.Time { return base },
					Audit: func(_ context.Context, e twofactor.Event) {
						if e.Kind == twofactor.EventCodeRejected {
							checked.Add(1)
						}
					},
				})
				must(t, "twofactor.New", err)
				enrollUser(t, m, "u1")
				ids := []string{begin(t, m, "u1"), begin(t, m, "u1"), begin(t, m, "u1")}
				results := submitAll(t, m, ids, Concurrency+10, func(int) string { return "000000" })
				if got := checked.Load(); got != twofactor.DefaultMaxAttempts {
					t.Errorf("%d wrong codes were checked, want %d", got, twofactor.DefaultMaxAttempts)
				}
				for _, r := range results {
					if r.Succeeded() {
						t.Fatalf("a wrong code succeeded: %+v", r)
					}
				}
				if locked, err := m.Locked(ctx(t), "u1"); err != nil || !locked {
					t.Errorf("Locked = %v, %v, want true", locked, err)
				}
			},
		},
		{
			Name: "ManagerConcurrentRightCode",
			Rule: "of many concurrent submissions of one right code, exactly one succeeds",
			Test: func(t *testing.T, s twofactor.Store) {
				m := newManager(t, s)
				secret := enrollUser(t, m, "u1")
				step, _ := otpcode.Step(base, 30)
				code := otpcode.Generate(secret, otpcode.SHA1, 6, step)
				ids := make([]string, Concurrency)
				for i := range ids {
					ids[i] = begin(t, m, "u1")
				}
				results := submitAll(t, m, ids, Concurrency, func(int) string { return code })
				if n := succeeded(results); n != 1 {
					t.Errorf("%d submissions of one code succeeded, want 1", n)
				}
			},
		},
		{
			Name: "ManagerConcurrentBackupCode",
			Rule: "of many concurrent submissions of one backup code, exactly one succeeds",
			Test: func(t *testing.T, s twofactor.Store) {
				m := newManager(t, s)
				enrollUser(t, m, "u1")
				admin := twofactor.Actor{ID: "admin", Role: twofactor.RoleAdministrator}
				code, _, err := m.IssueBackupCode(ctx(t), admin, "u1")
				must(t, "IssueBackupCode", err)
				ids := make([]string, Concurrency)
				for i := range ids {
					ids[i] = begin(t, m, "u1")
				}
				results := submitAll(t, m, ids, Concurrency, func(int) string { return code })
				if n := succeeded(results); n != 1 {
					t.Errorf("%d submissions of one backup code succeeded, want 1", n)
				}
			},
		},
	}
}

func succeeded(rs []twofactor.Result) int {
	n := 0
	for _, r := range rs {
		if r.Succeeded() {
			n++
		}
	}
	return n
}
