package twofactor

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

var pendingEpoch = time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)

func TestPendingAddGetRemove(t *testing.T) {
	var p pendingChallenges
	e := Enrollment{UserID: "u1", Secret: []byte("sealed"), Digits: 6, Period: 30}
	p.add("c1", e, pendingEpoch.Add(time.Minute), pendingEpoch)

	got, ok := p.get("c1")
	if !ok {
		t.Fatalf("get(c1) after add found nothing")
	}
	if got.UserID != e.UserID || !bytes.Equal(got.Secret, e.Secret) || got.Digits != e.Digits || got.Period != e.Period {
		t.Errorf("get(c1) = %+v, want %+v", got, e)
	}
	if _, ok := p.get("c2"); ok {
		t.Errorf("get(c2) found an enrollment that was never added")
	}
	if n := p.size.Load(); n != 1 {
		t.Errorf("size after one add = %d, want 1", n)
	}

	// Adding the same ID again keeps one entry.
	p.add("c1", e, pendingEpoch.Add(time.Minute), pendingEpoch)
	if n := p.size.Load(); n != 1 {
		t.Errorf("size after adding c1 twice = %d, want 1", n)
	}

	p.remove("c1")
	if _, ok := p.get("c1"); ok {
		t.Errorf("get(c1) after remove found an enrollment")
	}
	if n := p.size.Load(); n != 0 {
		t.Errorf("size after remove = %d, want 0", n)
	}
	p.remove("c1")
	if n := p.size.Load(); n != 0 {
		t.Errorf("size after removing c1 twice = %d, want 0", n)
	}
}

func TestPendingPruneForgetsPassedDeadlines(t *testing.T) {
	var p pendingChallenges
	now := pendingEpoch
	p.add("passed", Enrollment{UserID: "u1"}, now.Add(-time.Second), now)
	p.add("at deadline", Enrollment{UserID: "u2"}, now, now)
	p.add("live", Enrollment{UserID: "u3"}, now.Add(time.Nanosecond), now)

	p.prune(now)
	for _, id := range []string{"passed", "at deadline"} {
		if _, ok := p.get(id); ok {
			t.Errorf("prune kept %q, whose deadline is not after now", id)
		}
	}
	if _, ok := p.get("live"); !ok {
		t.Errorf("prune forgot the challenge whose deadline is after now")
	}
	if n := p.size.Load(); n != 1 {
		t.Errorf("size after prune = %d, want 1", n)
	}
}

func TestPendingPruneOncePerSecond(t *testing.T) {
	var p pendingChallenges
	now := pendingEpoch
	p.prune(now)
	p.add("c1", Enrollment{UserID: "u1"}, now.Add(-time.Minute), now)

	p.prune(now.Add(time.Second - time.Nanosecond))
	if _, ok := p.get("c1"); !ok {
		t.Errorf("prune ran less than a second after the last one")
	}
	p.prune(now.Add(time.Second))
	if _, ok := p.get("c1"); ok {
		t.Errorf("prune a second after the last one kept a passed challenge")
	}
}

// TestPendingBound fills the memory to maxPendingChallenges. A challenge
// added then is remembered only when prune frees room.
func TestPendingBound(t *testing.T) {
	var p pendingChallenges
	now := pendingEpoch
	deadline := now.Add(time.Minute)
	for i := range maxPendingChallenges {
		p.add(fmt.Sprintf("c%d", i), Enrollment{UserID: "u1"}, deadline, now)
	}
	if n := p.size.Load(); n != maxPendingChallenges {
		t.Fatalf("size after %d adds = %d", maxPendingChallenges, n)
	}

	p.add("over", Enrollment{UserID: "u1"}, deadline, now)
	if _, ok := p.get("over"); ok {
		t.Errorf("a challenge added at the bound with no passed deadline was remembered")
	}
	if n := p.size.Load(); n != maxPendingChallenges {
		t.Errorf("size after an add at the bound = %d, want %d", n, maxPendingChallenges)
	}

	later := deadline.Add(time.Second)
	p.add("after", Enrollment{UserID: "u1"}, later.Add(time.Minute), later)
	if _, ok := p.get("after"); !ok {
		t.Errorf("a challenge added at the bound after every deadline passed was not remembered")
	}
	if n := p.size.Load(); n != 1 {
		t.Errorf("size after the add pruned every passed challenge = %d, want 1", n)
	}
}
