package redisstore_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/redisstore"
)

// skipKnownBug skips the test unless TWOFACTOR_SHOW_BUGS is set.
func skipKnownBug(t *testing.T, bug string) {
	t.Helper()
	if bug != "" && os.Getenv("TWOFACTOR_SHOW_BUGS") == "" {
		t.Skip("known bug: " + bug)
	}
}

// newAttackStore returns a Store under a fresh prefix on the test server.
func newAttackStore(t *testing.T) *redisstore.Store {
	t.Helper()
	client := newClient(t, redisAddr(t))
	return newStore(t, client, newPrefix(t, client))
}

// TestAttackFarFutureExpiry stores records that expire far in the future,
// as a host that trusts devices for ever would, and reads them back
// before that time.
func TestAttackFarFutureExpiry(t *testing.T) {
	tests := []struct {
		name     string
		expires  time.Time
		knownBug string
	}{
		{"in 100 years", time.Now().AddDate(100, 0, 0), ""},
		{"maximum duration", time.Now().Add(math.MaxInt64), ""},
		{"year 9999", time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), ""},
		{"year 300000", time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC), "UnixMicro overflows int64 for times after year 294246, which the Manager's bounded durations never reach"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			skipKnownBug(t, tt.knownBug)
			s := newAttackStore(t)
			ctx := t.Context()
			mustDo(t, "PutSetup", s.PutSetup(ctx, twofactor.Setup{ID: "s1", UserID: "u1", Secret: []byte("x"), ExpiresAt: tt.expires}))
			mustDo(t, "PutBackupCode", s.PutBackupCode(ctx, twofactor.BackupCode{UserID: "u1", Hash: []byte("h"), ExpiresAt: tt.expires}))
			mustDo(t, "PutDevice", s.PutDevice(ctx, twofactor.Device{ID: "d1", UserID: "u1", TokenHash: []byte("t"), CreatedAt: base, ExpiresAt: tt.expires}))
			c := newChallenge(s, "u1", []byte{0xc1})
			c.Deadline, c.ExpiresAt = tt.expires, tt.expires
			mustDo(t, "CreateChallenge", s.CreateChallenge(ctx, c))

			if _, err := s.GetSetup(ctx, "u1", base); err != nil {
				t.Errorf("GetSetup before the expiry: %v", err)
			}
			if _, err := s.UseDevice(ctx, "u1", []byte("t"), base); err != nil {
				t.Errorf("UseDevice before the expiry: %v", err)
			}
			if _, err := s.GetChallenge(ctx, c.ID); err != nil {
				t.Errorf("GetChallenge before the expiry: %v", err)
			}
			if _, err := s.ReserveAttempt(ctx, c.ID, 5, base, twofactor.Verdict{}); err != nil {
				t.Errorf("ReserveAttempt before the expiry: %v", err)
			}
			if _, err := s.ConsumeBackupCode(ctx, c.ID, "u1", []byte("h"), base); err != nil {
				t.Errorf("ConsumeBackupCode before the expiry: %v", err)
			}
		})
	}
}

// TestAttackAcceptStepLargeSteps records steps beyond 2^53, where the Lua
// script's doubles no longer hold every integer. An equal or older step
// must fail, and a greater one must succeed.
func TestAttackAcceptStepLargeSteps(t *testing.T) {
	const big = int64(1) << 53
	tests := []struct {
		name     string
		last     int64
		step     int64
		want     error
		knownBug string
	}{
		{"equal", big + 1, big + 1, twofactor.ErrStepUsed, ""},
		{"older", big + 1, big, twofactor.ErrStepUsed, ""},
		{"maximum", math.MaxInt64, math.MaxInt64 - 1, twofactor.ErrStepUsed, ""},
		{"one greater", big, big + 1, nil, ""},
		{"more digits", 9, 10, nil, ""},
		{"fewer digits", 10, 9, twofactor.ErrStepUsed, ""},
		{"from negative", -1, 0, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			skipKnownBug(t, tt.knownBug)
			s := newAttackStore(t)
			ctx := t.Context()
			mustDo(t, "PutSetup", s.PutSetup(ctx, twofactor.Setup{ID: "s1", UserID: "u1", Secret: []byte("x"), ExpiresAt: base.Add(time.Hour)}))
			_, err := s.ConfirmSetup(ctx, "u1", "s1", tt.last, base)
			mustDo(t, "ConfirmSetup", err)
			c := startChallenge(t, s, "u1", []byte{0xc1})
			if err := s.AcceptStep(ctx, c.ID, "u1", tt.step); !errors.Is(err, tt.want) {
				t.Errorf("AcceptStep(%d) after %d error = %v, want %v", tt.step, tt.last, err, tt.want)
			}
		})
	}
}

// TestAttackDevicePrunedBeforeExpiry stores a device whose CreatedAt is
// after the expiry of another device of the user, as an instance whose
// clock runs ahead would, and lists the devices at such a now. Within the
// expiry grace the other device stays usable at a now before its own
// expiry; past the grace the index may drop it.
func TestAttackDevicePrunedBeforeExpiry(t *testing.T) {
	s := newAttackStore(t)
	ctx := t.Context()
	expires := base.Add(time.Hour)
	ahead := expires.Add(redisstore.DefaultExpiryGrace - time.Second)
	mustDo(t, "PutDevice", s.PutDevice(ctx, twofactor.Device{ID: "a", UserID: "u1", TokenHash: []byte("a"), CreatedAt: base, ExpiresAt: expires}))
	mustDo(t, "PutDevice", s.PutDevice(ctx, twofactor.Device{ID: "b", UserID: "u1", TokenHash: []byte("b"), CreatedAt: ahead, ExpiresAt: ahead.Add(time.Hour)}))
	if _, err := s.ListDevices(ctx, "u1", ahead); err != nil {
		t.Fatalf("ListDevices: %v", err)
	}
	if _, err := s.UseDevice(ctx, "u1", []byte("a"), base.Add(time.Minute)); err != nil {
		t.Errorf("UseDevice of the unexpired device after a write and a list with a clock %v ahead: %v", ahead.Sub(base.Add(time.Minute)), err)
	}

	// Past the grace, the index drops the expired member.
	later := expires.Add(redisstore.DefaultExpiryGrace)
	mustDo(t, "PutDevice", s.PutDevice(ctx, twofactor.Device{ID: "c", UserID: "u1", TokenHash: []byte("c"), CreatedAt: later, ExpiresAt: later.Add(time.Hour)}))
	if _, err := s.UseDevice(ctx, "u1", []byte("a"), base.Add(time.Minute)); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("UseDevice of a device that expired a grace period before the last write: error = %v, want ErrNotFound", err)
	}
}

// TestAttackUserIDsIsolated gives users whose IDs contain key syntax,
// NUL bytes or invalid UTF-8 one record of each kind, and checks that no
// operation of one user reads or changes the records of another, and that
// no user signs in on the challenge of another.
func TestAttackUserIDsIsolated(t *testing.T) {
	ids := []string{
		"u", "u}", "{u}", "u:devices", "u:*", "*", "u\x00", "u\x00:x", "\xff", "\xc3(",
		"dTE", "e\u0301", "\u00e9", strings.Repeat("u", 4096),
	}
	s := newAttackStore(t)
	ctx := t.Context()
	challenges := make([]string, len(ids))
	for i, id := range ids {
		mustDo(t, "PutSetup", s.PutSetup(ctx, twofactor.Setup{ID: "s", UserID: id, Secret: []byte(id), ExpiresAt: base.Add(time.Hour)}))
		_, err := s.ConfirmSetup(ctx, id, "s", 1, base)
		mustDo(t, "ConfirmSetup", err)
		mustDo(t, "PutDevice", s.PutDevice(ctx, twofactor.Device{ID: "d", UserID: id, TokenHash: []byte{byte(i)}, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}))
		mustDo(t, "PutBackupCode", s.PutBackupCode(ctx, twofactor.BackupCode{UserID: id, Hash: []byte{byte(i)}, ExpiresAt: base.Add(time.Hour)}))
		// Every challenge has the same random part, so only the user in
		// its ID distinguishes them.
		challenges[i] = startChallenge(t, s, id, []byte{0xc1}).ID
	}

	for i, id := range ids {
		next := (i + 1) % len(ids)
		other, ownHash, otherHash := ids[next], []byte{byte(i)}, []byte{byte(next)}
		if _, err := s.UseDevice(ctx, id, otherHash, base); !errors.Is(err, twofactor.ErrNotFound) {
			t.Errorf("UseDevice(%q) with the device hash of %q error = %v, want ErrNotFound", id, other, err)
		}
		if _, err := s.ConsumeBackupCode(ctx, challenges[i], id, otherHash, base); !errors.Is(err, twofactor.ErrNotFound) {
			t.Errorf("ConsumeBackupCode(%q) with the code hash of %q error = %v, want ErrNotFound", id, other, err)
		}
		if _, err := s.ConsumeBackupCode(ctx, challenges[next], id, ownHash, base); !errors.Is(err, twofactor.ErrNotFound) {
			t.Errorf("ConsumeBackupCode(%q) on the challenge of %q error = %v, want ErrNotFound", id, other, err)
		}
		if err := s.AcceptStep(ctx, challenges[next], id, 5); !errors.Is(err, twofactor.ErrNotFound) {
			t.Errorf("AcceptStep(%q) on the challenge of %q error = %v, want ErrNotFound", id, other, err)
		}
		reserve(t, s, challenges[i])
		mustDo(t, "DeleteDevice", s.DeleteDevice(ctx, id, "d"))
		mustDo(t, "AcceptStep", s.AcceptStep(ctx, challenges[i], id, 5))
		if next == 0 {
			continue
		}
		d, err := s.UseDevice(ctx, other, otherHash, base)
		if err != nil || d.UserID != other {
			t.Errorf("UseDevice(%q) after DeleteDevice(%q) = %q, %v; want its own device", other, id, d.UserID, err)
		}
		e, err := s.GetEnrollment(ctx, other)
		mustDo(t, "GetEnrollment", err)
		if e.LastStep != 1 || string(e.Secret) != other {
			t.Errorf("enrollment of %q after AcceptStep(%q) has LastStep %d and secret %q, want 1 and %q", other, id, e.LastStep, e.Secret, other)
		}
		a, err := s.GetAccount(ctx, other)
		mustDo(t, "GetAccount", err)
		if a.Failures != 0 {
			t.Errorf("Failures of %q after ReserveAttempt(%q) = %d, want 0", other, id, a.Failures)
		}
		c, err := s.GetChallenge(ctx, challenges[next])
		mustDo(t, "GetChallenge", err)
		if c.State != twofactor.StateCodePending || c.UserID != other {
			t.Errorf("challenge of %q after the calls of %q is %v of %q, want code-pending of %q", other, id, c.State, c.UserID, other)
		}
	}

	list, err := s.ListEnrollments(ctx, "", len(ids)+1)
	mustDo(t, "ListEnrollments", err)
	if len(list) != len(ids) {
		t.Errorf("ListEnrollments returned %d enrollments, want %d", len(list), len(ids))
	}
	for i := 1; i < len(list); i++ {
		if list[i-1].UserID >= list[i].UserID {
			t.Errorf("ListEnrollments has %q before %q, want byte order", list[i-1].UserID, list[i].UserID)
		}
	}
}

// TestAttackDeleteDevicesDuringPut stores devices from many goroutines
// while DeleteDevices runs. Once DeleteDevices returns, a device whose
// PutDevice returned before it started must be unusable.
func TestAttackDeleteDevicesDuringPut(t *testing.T) {
	s := newAttackStore(t)
	ctx := t.Context()
	mustDo(t, "PutDevice", s.PutDevice(ctx, twofactor.Device{ID: "d0", UserID: "u1", TokenHash: []byte{0}, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 1; i <= 20; i++ {
		wg.Go(func() {
			<-start
			d := twofactor.Device{ID: fmt.Sprint("d", i), UserID: "u1", TokenHash: []byte{byte(i)}, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
			mustDo(t, "PutDevice", s.PutDevice(ctx, d))
		})
	}
	close(start)
	mustDo(t, "DeleteDevices", s.DeleteDevices(ctx, "u1"))
	if _, err := s.UseDevice(ctx, "u1", []byte{0}, base); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("UseDevice after DeleteDevices error = %v, want ErrNotFound", err)
	}
	wg.Wait()
	list, err := s.ListDevices(ctx, "u1", base)
	mustDo(t, "ListDevices", err)
	for _, d := range list {
		if _, err := s.UseDevice(ctx, "u1", d.TokenHash, base); err != nil {
			t.Errorf("device %q is listed but UseDevice fails: %v", d.ID, err)
		}
	}
}
