// Package storetest is a conformance suite for implementations of
// [twofactor.Store].
//
// A store's own tests call [Run] with a function that returns a fresh,
// empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) twofactor.Store { return memstore.New() })
//	}
//
// Each case states one rule of the store contract and runs on its own
// store. The concurrency cases start 50 or more goroutines at once, so run
// them with -race. Times in the cases are whole microseconds, the finest
// precision that the suite expects a store to keep.
//
// The cases create most challenges themselves, for the users they need.
// On a store that implements [twofactor.ChallengeIDMaker], they form the
// IDs of those challenges with it, so that each challenge lies where the
// store expects the challenges of its user.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
)

// Case is one rule of the store contract and the test of it.
type Case struct {
	// Name is the subtest name.
	Name string

	// Rule is the part of the contract under test, for failure messages.
	Rule string

	// Test runs the case against a fresh store.
	Test func(t *testing.T, s twofactor.Store)
}

// Concurrency is the number of goroutines the concurrency cases start.
const Concurrency = 50

// base is the fixed instant the cases start from.
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Run runs every case in [Cases] as a subtest, each on the store that
// newStore returns for it.
func Run(t *testing.T, newStore func(t *testing.T) twofactor.Store) {
	t.Helper()
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			s := newStore(t)
			defer func() {
				if t.Failed() {
					t.Logf("rule: %s", c.Rule)
				}
			}()
			c.Test(t, s)
		})
	}
}

// Cases returns the conformance cases, grouped by interface.
func Cases() []Case {
	var cs []Case
	cs = append(cs, enrollmentCases()...)
	cs = append(cs, attemptCases()...)
	cs = append(cs, challengeCases()...)
	cs = append(cs, verdictCases()...)
	cs = append(cs, backupCodeCases()...)
	cs = append(cs, deviceCases()...)
	cs = append(cs, raceCases()...)
	cs = append(cs, expiryCases()...)
	cs = append(cs, managerCases()...)
	return cs
}

func ctx(t *testing.T) context.Context { return t.Context() }

// must fails the test when err is not nil.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
