package twofactor

import (
	"bytes"
	"fmt"
	"testing"
)

func TestPendingAddGetRemove(t *testing.T) {
	p := newPendingChallenges()
	e := Enrollment{UserID: "u1", Secret: []byte("sealed"), Digits: 6, Period: 30}
	p.add("c1", e)

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
	if n := p.count(); n != 1 {
		t.Errorf("count after one add = %d, want 1", n)
	}

	// Adding the same ID again keeps one entry, with the new enrollment.
	e2 := e
	e2.Secret = []byte("sealed again")
	p.add("c1", e2)
	if n := p.count(); n != 1 {
		t.Errorf("count after adding c1 twice = %d, want 1", n)
	}
	if got, _ := p.get("c1"); !bytes.Equal(got.Secret, e2.Secret) {
		t.Errorf("get(c1) after the second add has secret %q, want %q", got.Secret, e2.Secret)
	}

	p.remove("c1")
	if _, ok := p.get("c1"); ok {
		t.Errorf("get(c1) after remove found an enrollment")
	}
	if n := p.count(); n != 0 {
		t.Errorf("count after remove = %d, want 0", n)
	}
	p.remove("c1")
	if n := p.count(); n != 0 {
		t.Errorf("count after removing c1 twice = %d, want 0", n)
	}
}

// TestPendingBound adds twice as many challenges as the memory holds. The
// newest are remembered, the oldest pushed out, and the count never passes
// the bound.
func TestPendingBound(t *testing.T) {
	p := newPendingChallenges()
	const bound = pendingShards * pendingPerShard
	const adds = 2 * bound
	for i := range adds {
		p.add(fmt.Sprintf("c%d", i), Enrollment{UserID: "u1"})
	}
	if n := p.count(); n > bound {
		t.Errorf("count after %d adds = %d, want at most %d", adds, n, bound)
	}
	// Every shard took about 2*pendingPerShard adds, far more than it
	// holds, so its first challenges are gone; the last ones of all are
	// still there.
	for i := range 100 {
		if _, ok := p.get(fmt.Sprintf("c%d", i)); ok {
			t.Errorf("challenge c%d, among the oldest, is still remembered", i)
		}
		if id := fmt.Sprintf("c%d", adds-1-i); !p.has(id) {
			t.Errorf("challenge %s, among the newest, is not remembered", id)
		}
	}
}

// TestPendingRemovedSlot removes a challenge and fills its shard, so that
// the ring slot of the removed challenge is reused without harm.
func TestPendingRemovedSlot(t *testing.T) {
	p := newPendingChallenges()
	p.add("first", Enrollment{UserID: "u1"})
	p.remove("first")
	sh := p.shard("first")
	added := 0
	for i := 0; added < pendingPerShard; i++ {
		id := fmt.Sprintf("c%d", i)
		if p.shard(id) == sh {
			p.add(id, Enrollment{UserID: "u1"})
			added++
		}
	}
	if n := len(sh.entries); n != pendingPerShard {
		t.Errorf("shard holds %d challenges after %d adds past a removed one, want %d", n, pendingPerShard, pendingPerShard)
	}
}

func (p *pendingChallenges) has(id string) bool {
	_, ok := p.get(id)
	return ok
}
