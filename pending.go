package twofactor

import (
	"sync"
	"sync/atomic"
	"time"
)

// maxPendingChallenges bounds the challenges that a Manager remembers. At
// about 200 bytes each, the bound is near 13 MB. A challenge begun while the
// bound is reached is not remembered, and its submissions take the second
// store call.
const maxPendingChallenges = 1 << 16

// pendingChallenges remembers, for each challenge that this Manager began,
// the enrollment that Begin read. Submit checks an app code against it
// before the store call, and passes the result as a [Verdict], so that the
// one call can finish the submission. A submission to a challenge that
// another Manager began, or that is not remembered, makes a second store
// call instead. The enrollment's secret stays sealed.
//
// The store applies a verdict only while the enrollment still has the
// secret the code was checked against, so a remembered enrollment that a
// reset replaced can cost a store call but never accept a code.
type pendingChallenges struct {
	entries   sync.Map // challenge ID -> pendingChallenge
	size      atomic.Int64
	adds      atomic.Uint64
	lastPrune atomic.Int64 // Unix nanoseconds of the Manager's clock
}

// pruneEvery is the number of adds between two prunes while the bound is
// not reached, so that abandoned challenges do not stay until it is.
const pruneEvery = 4096

type pendingChallenge struct {
	enrollment Enrollment
	deadline   time.Time
}

// add remembers the enrollment of the challenge with the ID until its
// deadline. Every pruneEvery adds, and whenever the bound is reached, it
// first prunes the challenges whose deadline passed.
func (p *pendingChallenges) add(id string, e Enrollment, deadline, now time.Time) {
	if p.adds.Add(1)%pruneEvery == 0 || p.size.Load() >= maxPendingChallenges {
		p.prune(now)
	}
	if p.size.Load() >= maxPendingChallenges {
		return
	}
	if _, loaded := p.entries.LoadOrStore(id, pendingChallenge{enrollment: e, deadline: deadline}); !loaded {
		p.size.Add(1)
	}
}

// get returns the enrollment remembered for the challenge with the ID.
func (p *pendingChallenges) get(id string) (Enrollment, bool) {
	v, ok := p.entries.Load(id)
	if !ok {
		return Enrollment{}, false
	}
	return v.(pendingChallenge).enrollment, true
}

// remove deletes the challenge with the ID.
func (p *pendingChallenges) remove(id string) {
	if _, ok := p.entries.LoadAndDelete(id); ok {
		p.size.Add(-1)
	}
}

// prune deletes every challenge whose deadline is at or before now, unless
// it ran less than a second before. It also runs when the clock was set
// back.
func (p *pendingChallenges) prune(now time.Time) {
	last := p.lastPrune.Load()
	if since := now.UnixNano() - last; since >= 0 && since < int64(time.Second) {
		return
	}
	if !p.lastPrune.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	p.entries.Range(func(id, v any) bool {
		if !now.Before(v.(pendingChallenge).deadline) {
			p.remove(id.(string))
		}
		return true
	})
}
