package twofactor

import (
	"hash/maphash"
	"sync"
)

// The memory of begun challenges is split into pendingShards parts with a
// lock each, and each part remembers at most pendingPerShard challenges. A
// remembered challenge took about 400 bytes of heap with an 8-byte user ID
// and 1 KB with a 256-byte one, so the bound of 32,768 challenges is about
// 13 to 32 MB.
const (
	pendingShards   = 64
	pendingPerShard = 512
)

// pendingChallenges remembers, for each challenge that this Manager began,
// the enrollment that Begin read. Submit checks an app code against it
// before the store call, and passes the result as a [Verdict], so that the
// one call can finish the submission. A submission to a challenge that
// another Manager began, or that is not remembered any more, makes a
// second store call instead. The enrollment's secret stays sealed.
//
// The store applies a verdict only while the enrollment still has the
// secret the code was checked against, so a remembered enrollment that a
// reset replaced can cost a store call but never accept a code.
//
// Each shard keeps its challenges in the order they began, and a new one
// pushes out the oldest when the shard is full. An abandoned challenge is
// thus kept until pendingPerShard newer challenges of its shard began,
// which also bounds the memory of challenges that timed out.
type pendingChallenges struct {
	seed   maphash.Seed
	shards [pendingShards]pendingShard
}

type pendingShard struct {
	mu      sync.Mutex
	entries map[string]Enrollment // by challenge ID
	order   []string              // challenge IDs in the order added, as a ring
	next    int                   // the index in order of the next add
}

func newPendingChallenges() *pendingChallenges {
	return &pendingChallenges{seed: maphash.MakeSeed()}
}

func (p *pendingChallenges) shard(id string) *pendingShard {
	return &p.shards[maphash.String(p.seed, id)%pendingShards]
}

// add remembers the enrollment of the challenge with the ID, in place of
// the oldest challenge of its shard when the shard is full.
func (p *pendingChallenges) add(id string, e Enrollment) {
	sh := p.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.entries == nil {
		sh.entries = make(map[string]Enrollment)
		sh.order = make([]string, pendingPerShard)
	}
	if _, ok := sh.entries[id]; ok {
		sh.entries[id] = e
		return
	}
	// A slot in use holds the oldest challenge, which may have been
	// removed already.
	delete(sh.entries, sh.order[sh.next])
	sh.order[sh.next] = id
	sh.next = (sh.next + 1) % pendingPerShard
	sh.entries[id] = e
}

// get returns the enrollment remembered for the challenge with the ID.
func (p *pendingChallenges) get(id string) (Enrollment, bool) {
	sh := p.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.entries[id]
	return e, ok
}

// remove deletes the challenge with the ID.
func (p *pendingChallenges) remove(id string) {
	sh := p.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	delete(sh.entries, id)
}

// count returns the number of challenges remembered.
func (p *pendingChallenges) count() int {
	n := 0
	for i := range p.shards {
		sh := &p.shards[i]
		sh.mu.Lock()
		n += len(sh.entries)
		sh.mu.Unlock()
	}
	return n
}
