package postgresstore_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/postgresstore"
)

func TestDeleteExpired(t *testing.T) {
	s := newStore(t, newPool(t))
	ctx := t.Context()
	now := base
	// A time before every expiry, so that reads at it see whether a record
	// was deleted rather than whether it expired.
	past := now.Add(-48 * time.Hour)

	// One expired and one live record of each kind with an expiry.
	must(t, "PutSetup", s.PutSetup(ctx, twofactor.Setup{ID: "s", UserID: "u1", ExpiresAt: now}))
	must(t, "PutSetup", s.PutSetup(ctx, twofactor.Setup{ID: "s", UserID: "u2", ExpiresAt: now.Add(time.Microsecond)}))
	must(t, "CreateChallenge", s.CreateChallenge(ctx, twofactor.Challenge{ID: "c1", UserID: "u1", ExpiresAt: now.Add(-time.Hour)}))
	// The live challenge c2 is also where u1's backup code is tried.
	startChallenge(t, s, "c2", "u1", 0)
	must(t, "PutBackupCode", s.PutBackupCode(ctx, twofactor.BackupCode{UserID: "u1", Hash: []byte("h"), ExpiresAt: now}))
	must(t, "PutBackupCode", s.PutBackupCode(ctx, twofactor.BackupCode{UserID: "u2", Hash: []byte("h"), ExpiresAt: now.Add(time.Hour)}))
	must(t, "PutDevice", s.PutDevice(ctx, twofactor.Device{ID: "d1", UserID: "u1", TokenHash: []byte("h1"), ExpiresAt: now.Add(-time.Microsecond)}))
	must(t, "PutDevice", s.PutDevice(ctx, twofactor.Device{ID: "d2", UserID: "u1", TokenHash: []byte("h2"), ExpiresAt: now.Add(time.Hour)}))
	// Live challenges for u2's backup code and for a failure of u3.
	startChallenge(t, s, "c3", "u2", 0)
	startChallenge(t, s, "c4", "u3", 0)
	// Records without an expiry stay.
	enroll(t, s, "u3")
	reserve(t, s, "c4", 5)

	n, err := s.DeleteExpired(ctx, now)
	must(t, "DeleteExpired", err)
	if n != 4 {
		t.Errorf("DeleteExpired = %d, want 4", n)
	}

	expiredRecords := []struct {
		name string
		err  error
	}{
		{"set-up u1", errOf(s.GetSetup(ctx, "u1", past))},
		{"challenge c1", errOf(s.GetChallenge(ctx, "c1"))},
		{"backup code u1", errOf(s.ConsumeBackupCode(ctx, "c2", "u1", []byte("h"), past))},
		{"device d1", errOf(s.UseDevice(ctx, "u1", []byte("h1"), past))},
	}
	for _, g := range expiredRecords {
		if !errors.Is(g.err, twofactor.ErrNotFound) {
			t.Errorf("expired %s: error = %v, want ErrNotFound", g.name, g.err)
		}
	}
	liveRecords := []struct {
		name string
		err  error
	}{
		{"set-up u2", errOf(s.GetSetup(ctx, "u2", past))},
		{"challenge c2", errOf(s.GetChallenge(ctx, "c2"))},
		{"backup code u2", errOf(s.ConsumeBackupCode(ctx, "c3", "u2", []byte("h"), past))},
		{"device d2", errOf(s.UseDevice(ctx, "u1", []byte("h2"), past))},
		{"enrollment u3", errOf(s.GetEnrollment(ctx, "u3"))},
	}
	for _, k := range liveRecords {
		if k.err != nil {
			t.Errorf("live %s: %v", k.name, k.err)
		}
	}
	if a, err := s.GetAccount(ctx, "u3"); err != nil || a.Failures != 1 {
		t.Errorf("account u3 = %+v, %v, want 1 failure", a, err)
	}

	n, err = s.DeleteExpired(ctx, now)
	must(t, "second DeleteExpired", err)
	if n != 0 {
		t.Errorf("second DeleteExpired = %d, want 0", n)
	}
}

// errOf returns the error of a two-result call.
func errOf[T any](_ T, err error) error { return err }

// recordHandler is a slog.Handler that passes every record to a channel,
// and drops records while the channel is full.
type recordHandler struct {
	records chan slog.Record
}

func newRecordHandler() *recordHandler {
	return &recordHandler{records: make(chan slog.Record, 64)}
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case h.records <- r.Clone():
	default:
	}
	return nil
}

func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }

// next returns the next record at level, skipping others.
func (h *recordHandler) next(t *testing.T, level slog.Level) slog.Record {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case r := <-h.records:
			if r.Level == level {
				return r
			}
		case <-timeout:
			t.Fatalf("no %v record logged within 30 s", level)
		}
	}
}

func attr(r slog.Record, key string) slog.Value {
	var v slog.Value
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value
			return false
		}
		return true
	})
	return v
}

// runCleanup starts RunCleanup with a one-millisecond interval and returns
// a function that stops it and waits for it to return.
func runCleanup(t *testing.T, s *postgresstore.Store, logger *slog.Logger) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { s.RunCleanup(ctx, time.Millisecond, logger) })
	return func() {
		cancel()
		wg.Wait()
	}
}

func TestRunCleanupDeletes(t *testing.T) {
	s := newStore(t, newPool(t))
	ctx := t.Context()
	// RunCleanup uses the wall clock, so the expiries are far from it.
	longAgo := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	farAhead := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	must(t, "PutSetup", s.PutSetup(ctx, twofactor.Setup{ID: "s", UserID: "old", ExpiresAt: longAgo}))
	must(t, "PutSetup", s.PutSetup(ctx, twofactor.Setup{ID: "s", UserID: "new", ExpiresAt: farAhead}))

	h := newRecordHandler()
	stop := runCleanup(t, s, slog.New(h))
	r := h.next(t, slog.LevelDebug)
	stop()

	if got := attr(r, "count"); got.Kind() != slog.KindInt64 || got.Int64() != 1 {
		t.Errorf("first Debug record count = %v, want 1", got)
	}
	if _, err := s.GetSetup(ctx, "old", longAgo.Add(-time.Hour)); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("expired set-up: error = %v, want ErrNotFound", err)
	}
	if _, err := s.GetSetup(ctx, "new", longAgo); err != nil {
		t.Errorf("live set-up: %v", err)
	}
}

// TestRunCleanupLogsErrors changes the default logger, so it must not run
// in parallel with other tests.
func TestRunCleanupLogsErrors(t *testing.T) {
	pool := newPool(t)
	s := postgresstore.New(pool)
	pool.Close()

	h := newRecordHandler()
	defaultLogger := slog.Default()
	slog.SetDefault(slog.New(h))
	t.Cleanup(func() { slog.SetDefault(defaultLogger) })

	stop := runCleanup(t, s, nil)
	first := h.next(t, slog.LevelError)
	secondRecord := h.next(t, slog.LevelError)
	stop()

	for i, r := range []slog.Record{first, secondRecord} {
		want := int64(i + 1)
		if got := attr(r, "failures_in_row"); got.Kind() != slog.KindInt64 || got.Int64() != want {
			t.Errorf("error record %d failures_in_row = %v, want %d", i+1, got, want)
		}
		if err, ok := attr(r, "err").Any().(error); !ok || err == nil {
			t.Errorf("error record %d has no err attribute", i+1)
		}
	}
}
