package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/internal/otpcode"
)

// RunInstances checks that lockout, replay protection and backup codes
// hold across two application instances that share one store. newPair
// returns two independent Store values, each with its own connections,
// on the same fresh data; the suite builds a Manager on each.
//
// A store that keeps its data in the process, such as memstore, passes
// trivially by returning the same value twice.
func RunInstances(t *testing.T, newPair func(t *testing.T) (twofactor.Store, twofactor.Store)) {
	t.Helper()
	for _, c := range instanceCases() {
		t.Run(c.name, func(t *testing.T) {
			sa, sb := newPair(t)
			pair := []*instance{newInstance(t, sa), newInstance(t, sb)}
			defer func() {
				if t.Failed() {
					t.Logf("rule: %s", c.rule)
				}
			}()
			c.test(t, pair)
		})
	}
}

// instance is one application instance: a Manager and the count of wrong
// codes it checked.
type instance struct {
	manager  *twofactor.Manager
	rejected atomic.Int32
}

func newInstance(t *testing.T, s twofactor.Store) *instance {
	t.Helper()
	in := &instance{}
	m, err := twofactor.New(twofactor.Config{
		Store:  s,
		Issuer: "Instances",
		Keys:   []twofactor.EncryptionKey{{ID: "k1", Secret: make([]byte, 32)}},
		Now:    func() time.Time { return base },
		Audit: func(_ context.Context, e twofactor.Event) {
			if e.Kind == twofactor.EventCodeRejected {
				in.rejected.Add(1)
			}
		},
	})
	must(t, "twofactor.New", err)
	in.manager = m
	return in
}

type instanceCase struct {
	name, rule string
	test       func(t *testing.T, pair []*instance)
}

func instanceCases() []instanceCase {
	return []instanceCase{
		{
			name: "WrongCodesAcrossInstances",
			rule: "50 concurrent wrong codes split across two instances check no more than the attempt limit",
			test: func(t *testing.T, pair []*instance) {
				enrollUser(t, pair[0].manager, "u1")
				var ids []string
				for i := range 4 {
					ids = append(ids, begin(t, pair[i%2].manager, "u1"))
				}
				results := submitAcross(t, pair, ids, Concurrency, "000000")
				if n := succeeded(results); n != 0 {
					t.Errorf("%d wrong codes succeeded, want 0", n)
				}
				checked := pair[0].rejected.Load() + pair[1].rejected.Load()
				if checked != twofactor.DefaultMaxAttempts {
					t.Errorf("%d wrong codes were checked (%d and %d), want %d",
						checked, pair[0].rejected.Load(), pair[1].rejected.Load(), twofactor.DefaultMaxAttempts)
				}
				for i, in := range pair {
					if locked, err := in.manager.Locked(ctx(t), "u1"); err != nil || !locked {
						t.Errorf("Locked on instance %d = %v, %v, want true", i, locked, err)
					}
				}
			},
		},
		{
			name: "CodeAcceptedOnce",
			rule: "a code accepted on one instance is refused on the other",
			test: func(t *testing.T, pair []*instance) {
				secret := enrollUser(t, pair[0].manager, "u1")
				step, _ := otpcode.Step(base, 30)
				code := otpcode.Generate(secret, otpcode.SHA1, 6, step)
				res, err := pair[0].manager.Submit(ctx(t), begin(t, pair[0].manager, "u1"), code)
				must(t, "Submit on the first instance", err)
				if !res.Succeeded() {
					t.Fatalf("Submit on the first instance = %+v, want success", res)
				}
				res, err = pair[1].manager.Submit(ctx(t), begin(t, pair[1].manager, "u1"), code)
				must(t, "Submit on the second instance", err)
				if res.Succeeded() {
					t.Errorf("the code was accepted again on the second instance")
				}
			},
		},
		{
			name: "BackupCodeSpentOnce",
			rule: "a backup code is spent once across instances",
			test: func(t *testing.T, pair []*instance) {
				enrollUser(t, pair[0].manager, "u1")
				admin := twofactor.Actor{ID: "admin", Role: twofactor.RoleAdministrator}
				code, _, err := pair[0].manager.IssueBackupCode(ctx(t), admin, "u1")
				must(t, "IssueBackupCode", err)
				ids := make([]string, 20)
				for i := range ids {
					ids[i] = begin(t, pair[i%2].manager, "u1")
				}
				if n := succeeded(submitAcross(t, pair, ids, len(ids), code)); n != 1 {
					t.Errorf("%d submissions of one backup code succeeded, want 1", n)
				}
			},
		},
	}
}

// submitAcross submits input n times at once, alternating between the
// instances and spreading over the challenges, and returns the results.
func submitAcross(t *testing.T, pair []*instance, ids []string, n int, input string) []twofactor.Result {
	t.Helper()
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]twofactor.Result, n)
	)
	for i := range n {
		m := pair[i%len(pair)].manager
		wg.Go(func() {
			<-start
			res, err := m.Submit(ctx(t), ids[i%len(ids)], input)
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
