package twofactor

import (
	"context"
	"errors"
	"fmt"
)

// rotateBatch is the number of enrollments read per store call.
const rotateBatch = 100

// RotateKeys encrypts every stored secret that was encrypted under another
// key than the first of [Config.Keys], or stored unencrypted, under that
// first key, and returns how many it changed. It can be run again after an
// interruption: secrets already under the first key are left alone.
//
// Pending set-ups are not rotated. They expire within the set-up timeout,
// so keep an old key in Config.Keys at least that long after rotating.
func (m *Manager) RotateKeys(ctx context.Context) (int, error) {
	if m.secrets.ring == nil {
		return 0, errors.New("twofactor: Config.Keys is empty, so there is no key to rotate to")
	}
	changed := 0
	after := ""
	for {
		batch, err := m.store.ListEnrollments(ctx, after, rotateBatch)
		if err != nil {
			return changed, fmt.Errorf("twofactor: listing enrollments after %q failed: %w", after, err)
		}
		for _, e := range batch {
			ok, err := m.rotateOne(ctx, e)
			if err != nil {
				return changed, err
			}
			if ok {
				changed++
			}
		}
		if len(batch) < rotateBatch {
			return changed, nil
		}
		after = batch[len(batch)-1].UserID
	}
}

// rotateOne encrypts one enrollment's secret under the primary key, and
// reports whether it changed it. A secret changed concurrently, by a reset
// or another rotation, is left as it is.
func (m *Manager) rotateOne(ctx context.Context, e Enrollment) (bool, error) {
	if !m.secrets.needsRotation(e.Secret) {
		return false, nil
	}
	secret, err := m.secrets.openAny(e.UserID, e.Secret)
	if err != nil {
		return false, fmt.Errorf("twofactor: rotating the secret of user %q: %w", e.UserID, err)
	}
	sealed, err := m.secrets.seal(e.UserID, secret)
	if err != nil {
		return false, err
	}
	err = m.store.ReplaceSecret(ctx, e.UserID, e.Secret, sealed)
	if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("twofactor: storing the rotated secret of user %q failed: %w", e.UserID, err)
	}
	return true, nil
}
