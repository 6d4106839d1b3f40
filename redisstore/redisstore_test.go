package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/redisstore"
	"github.com/twofactor-go/twofactor/storetest"
)

var _ twofactor.Store = (*redisstore.Store)(nil)

// base is a fixed instant in the past, so that every record these tests
// write has already expired by the wall clock.
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestConformance(t *testing.T) {
	client := newClient(t, redisAddr(t))
	storetest.Run(t, func(t *testing.T) twofactor.Store {
		return newStore(t, client, newPrefix(t, client))
	})
}

// TestConformanceCluster runs the suite on Redis Cluster, where a script
// or multi-key command whose keys span hash slots fails with CROSSSLOT.
func TestConformanceCluster(t *testing.T) {
	addrs := os.Getenv(clusterAddrEnv)
	if addrs == "" {
		t.Skipf("set %s to a comma-separated list of cluster nodes to run the Redis Cluster tests", clusterAddrEnv)
	}
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ",")})
	t.Cleanup(func() { client.Close() })
	if err := client.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("connecting to Redis Cluster at %s (from %s): %v", addrs, clusterAddrEnv, err)
	}
	storetest.Run(t, func(t *testing.T) twofactor.Store {
		return newStore(t, client, newPrefix(t, client))
	})
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	// The client is never used, so it sends nothing.
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer client.Close()
	tests := []struct {
		name   string
		client redis.UniversalClient
		opts   []redisstore.Option
		want   string
	}{
		{"nil client", nil, nil, "client is nil"},
		{"empty prefix", client, []redisstore.Option{redisstore.WithPrefix("")}, `key prefix ""`},
		{"brace in prefix", client, []redisstore.Option{redisstore.WithPrefix("app{1}")}, `key prefix "app{1}"`},
		{"short grace", client, []redisstore.Option{redisstore.WithExpiryGrace(time.Millisecond)}, "expiry grace is 1ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := redisstore.New(tt.client, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %v, want one containing %q", err, tt.want)
			}
			if s != nil {
				t.Errorf("New returned a Store with the error")
			}
		})
	}
}

// fillUser writes one record of every kind for the user. The challenge's
// ID has the random part 0xc1.
func fillUser(t *testing.T, s *redisstore.Store, userID string) {
	t.Helper()
	ctx := t.Context()
	setup := twofactor.Setup{ID: "s1", UserID: userID, Secret: []byte("sealed " + userID), Digits: 6, Period: 30, ExpiresAt: base.Add(time.Minute)}
	mustDo(t, "PutSetup", s.PutSetup(ctx, setup))
	_, err := s.ConfirmSetup(ctx, userID, "s1", 1, base)
	mustDo(t, "ConfirmSetup", err)
	mustDo(t, "PutSetup", s.PutSetup(ctx, setup))
	c := startChallenge(t, s, userID, []byte{0xc1})
	reserve(t, s, c.ID)
	mustDo(t, "PutBackupCode", s.PutBackupCode(ctx, twofactor.BackupCode{UserID: userID, Hash: []byte("h"), CreatedAt: base, ExpiresAt: base.Add(time.Hour)}))
	mustDo(t, "PutDevice", s.PutDevice(ctx, twofactor.Device{ID: "d1", UserID: userID, TokenHash: []byte{0xab, 0xcd}, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}))
}

func mustDo(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// newChallenge returns a code-pending challenge of the user at account
// generation 0, with the ID that s forms from random. Its deadline is 10
// minutes and its expiry 70 minutes after base.
func newChallenge(s *redisstore.Store, userID string, random []byte) twofactor.Challenge {
	return twofactor.Challenge{
		ID:        s.NewChallengeID(userID, random),
		UserID:    userID,
		Role:      twofactor.RoleAgent,
		State:     twofactor.StateCodePending,
		CreatedAt: base,
		Deadline:  base.Add(10 * time.Minute),
		ExpiresAt: base.Add(70 * time.Minute),
	}
}

// startChallenge stores the challenge that newChallenge returns.
func startChallenge(t *testing.T, s *redisstore.Store, userID string, random []byte) twofactor.Challenge {
	t.Helper()
	c := newChallenge(s, userID, random)
	mustDo(t, "CreateChallenge", s.CreateChallenge(t.Context(), c))
	return c
}

// reserve reserves one attempt on the challenge at base, with the limit
// 10, and fails the test unless the call reserves one.
func reserve(t *testing.T, s *redisstore.Store, challengeID string) twofactor.Attempt {
	t.Helper()
	a, err := s.ReserveAttempt(t.Context(), challengeID, 10, base, twofactor.Verdict{})
	mustDo(t, "ReserveAttempt", err)
	if !a.Reserved {
		t.Fatalf("ReserveAttempt(%q) reserved nothing: %+v", challengeID, a)
	}
	return a
}

func TestKeyLayout(t *testing.T) {
	client := newClient(t, redisAddr(t))
	prefix := newPrefix(t, client)
	s := newStore(t, client, prefix)
	fillUser(t, s, "u1")

	got := scanKeys(t, client, prefix)
	slices.Sort(got)
	// base64url("u1") is "dTE". The challenge ID's random part is the byte
	// 0xc1, "c1" in hex, and base64url("c1") is "YzE".
	var want []string
	for _, suffix := range []string{
		"enrollments",
		"{u:dTE}:account",
		"{u:dTE}:backup",
		"{u:dTE}:challenge:YzE",
		"{u:dTE}:device:abcd",
		"{u:dTE}:devices",
		"{u:dTE}:enrollment",
		"{u:dTE}:setup",
	} {
		want = append(want, prefix+":"+suffix)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("keys =\n%v\nwant\n%v", got, want)
	}
}

func TestUserIDsWithKeySyntax(t *testing.T) {
	client := newClient(t, redisAddr(t))
	prefix := newPrefix(t, client)
	s := newStore(t, client, prefix)
	users := []string{"a", "a}", "a}:{b", "{a}", "a:enrollment", "ü*?[x]"}
	for _, u := range users {
		fillUser(t, s, u)
	}

	// Every key of a user shares one hash tag, and no two users share one.
	tagUsers := map[string]string{}
	for _, key := range scanKeys(t, client, prefix) {
		if key == prefix+":enrollments" {
			continue
		}
		tag := hashTag(key)
		if !strings.HasPrefix(tag, "u:") {
			t.Errorf("key %q has hash tag %q, want one starting with u:", key, tag)
		}
		tagUsers[tag] = key
	}
	if len(tagUsers) != len(users) {
		t.Errorf("%d users have %d hash tags, want one each: %v", len(users), len(tagUsers), tagUsers)
	}

	// Each user reads back only their own records.
	for _, u := range users {
		e, err := s.GetEnrollment(t.Context(), u)
		mustDo(t, "GetEnrollment", err)
		if string(e.Secret) != "sealed "+u {
			t.Errorf("GetEnrollment(%q) secret = %q, want %q", u, e.Secret, "sealed "+u)
		}
		ds, err := s.ListDevices(t.Context(), u, base)
		mustDo(t, "ListDevices", err)
		if len(ds) != 1 || ds[0].UserID != u {
			t.Errorf("ListDevices(%q) = %+v, want the user's one device", u, ds)
		}
	}
	list, err := s.ListEnrollments(t.Context(), "", 100)
	mustDo(t, "ListEnrollments", err)
	var ids []string
	for _, e := range list {
		ids = append(ids, e.UserID)
	}
	wantIDs := slices.Clone(users)
	slices.Sort(wantIDs)
	if fmt.Sprint(ids) != fmt.Sprint(wantIDs) {
		t.Errorf("ListEnrollments = %q, want %q", ids, wantIDs)
	}
}

// pttl returns the remaining time to live of key: -1 for none, -2 for a
// missing key.
func pttl(t *testing.T, client *redis.Client, key string) time.Duration {
	t.Helper()
	d, err := client.PTTL(t.Context(), key).Result()
	if err != nil {
		t.Fatalf("PTTL %s: %v", key, err)
	}
	return d
}

func TestExpiryTTLs(t *testing.T) {
	client := newClient(t, redisAddr(t))
	prefix := newPrefix(t, client)
	const grace = 2 * time.Minute
	s := newStore(t, client, prefix, redisstore.WithExpiryGrace(grace))
	ctx := t.Context()
	now := time.Now()
	future := now.Add(time.Hour)
	past := base

	mustDo(t, "PutSetup", s.PutSetup(ctx, twofactor.Setup{ID: "s", UserID: "future", ExpiresAt: future}))
	mustDo(t, "PutSetup", s.PutSetup(ctx, twofactor.Setup{ID: "s", UserID: "past", ExpiresAt: past}))
	for _, userID := range []string{"future", "past"} {
		c := twofactor.Challenge{ID: s.NewChallengeID(userID, []byte{0xc1}), UserID: userID, ExpiresAt: future}
		if userID == "past" {
			c.ExpiresAt = past
		}
		mustDo(t, "CreateChallenge", s.CreateChallenge(ctx, c))
	}
	mustDo(t, "PutBackupCode", s.PutBackupCode(ctx, twofactor.BackupCode{UserID: "future", ExpiresAt: future}))
	mustDo(t, "PutBackupCode", s.PutBackupCode(ctx, twofactor.BackupCode{UserID: "past", ExpiresAt: past}))
	mustDo(t, "PutDevice", s.PutDevice(ctx, twofactor.Device{ID: "d", UserID: "future", TokenHash: []byte{1}, ExpiresAt: future}))
	mustDo(t, "PutDevice", s.PutDevice(ctx, twofactor.Device{ID: "d", UserID: "past", TokenHash: []byte{1}, ExpiresAt: past}))
	mustDo(t, "Unlock", s.Unlock(ctx, "future", base, false))

	// base64url of "future" is "ZnV0dXJl", of "past" "cGFzdA".
	keyFuture := func(kind string) string { return prefix + ":{u:ZnV0dXJl}:" + kind }
	keyPast := func(kind string) string { return prefix + ":{u:cGFzdA}:" + kind }
	// A TTL measured after the write is at most the one set, and the test
	// takes well under a minute to get here.
	tests := []struct {
		key      string
		min, max time.Duration
	}{
		{keyFuture("setup"), time.Hour + grace - time.Minute, time.Hour + grace},
		{keyPast("setup"), grace - time.Minute, grace},
		{keyFuture("challenge:YzE"), time.Hour + grace - time.Minute, time.Hour + grace},
		{keyPast("challenge:YzE"), grace - time.Minute, grace},
		{keyFuture("backup"), time.Hour + grace - time.Minute, time.Hour + grace},
		{keyPast("backup"), grace - time.Minute, grace},
		{keyFuture("device:01"), time.Hour + grace - time.Minute, time.Hour + grace},
		{keyFuture("devices"), time.Hour + grace - time.Minute, time.Hour + grace},
		{keyPast("device:01"), grace - time.Minute, grace},
		{keyPast("devices"), grace - time.Minute, grace},
		{keyFuture("account"), -1, -1},
	}
	for _, tt := range tests {
		if got := pttl(t, client, tt.key); got < tt.min || got > tt.max {
			t.Errorf("PTTL %s = %v, want between %v and %v", tt.key, got, tt.min, tt.max)
		}
	}
}

func TestEnrollmentHasNoTTL(t *testing.T) {
	client := newClient(t, redisAddr(t))
	prefix := newPrefix(t, client)
	s := newStore(t, client, prefix)
	fillUser(t, s, "u1")
	for _, key := range []string{prefix + ":{u:dTE}:enrollment", prefix + ":enrollments"} {
		if got := pttl(t, client, key); got != -1 {
			t.Errorf("PTTL %s = %v, want -1 (no TTL)", key, got)
		}
	}
}

func TestDeviceIndexPruned(t *testing.T) {
	client := newClient(t, redisAddr(t))
	prefix := newPrefix(t, client)
	s := newStore(t, client, prefix)
	ctx := t.Context()
	index := prefix + ":{u:dTE}:devices"
	device := func(i int, created time.Time) twofactor.Device {
		return twofactor.Device{ID: fmt.Sprint(i), UserID: "u1", TokenHash: []byte{byte(i)}, CreatedAt: created, ExpiresAt: created.Add(time.Hour)}
	}
	for i := range 5 {
		mustDo(t, "PutDevice", s.PutDevice(ctx, device(i, base)))
	}
	if n := client.ZCard(ctx, index).Val(); n != 5 {
		t.Fatalf("index has %d members, want 5", n)
	}

	// A device created a grace period after the first five expired drops
	// them.
	mustDo(t, "PutDevice", s.PutDevice(ctx, device(5, base.Add(time.Hour+redisstore.DefaultExpiryGrace))))
	if n := client.ZCard(ctx, index).Val(); n != 1 {
		t.Errorf("index has %d members after adding a device, want 1", n)
	}

	// Listing a grace period after every device expired drops the rest.
	list, err := s.ListDevices(ctx, "u1", base.Add(2*time.Hour+2*redisstore.DefaultExpiryGrace))
	mustDo(t, "ListDevices", err)
	if len(list) != 0 {
		t.Errorf("ListDevices after expiry = %+v, want none", list)
	}
	if n := client.ZCard(ctx, index).Val(); n != 0 {
		t.Errorf("index has %d members after listing, want 0", n)
	}
}

func TestDeviceOutsideIndexRevoked(t *testing.T) {
	client := newClient(t, redisAddr(t))
	prefix := newPrefix(t, client)
	s := newStore(t, client, prefix)
	ctx := t.Context()
	d := twofactor.Device{ID: "d1", UserID: "u1", TokenHash: []byte{7}, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	mustDo(t, "PutDevice", s.PutDevice(ctx, d))
	if err := client.ZRem(ctx, prefix+":{u:dTE}:devices", "07").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseDevice(ctx, "u1", d.TokenHash, base); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("UseDevice of a device outside the index error = %v, want ErrNotFound", err)
	}
}

func TestListEnrollmentsSkipsStaleIndexMembers(t *testing.T) {
	client := newClient(t, redisAddr(t))
	prefix := newPrefix(t, client)
	s := newStore(t, client, prefix)
	ctx := t.Context()
	for _, u := range []string{"b", "d", "f"} {
		fillUser(t, s, u)
	}
	stale := []redis.Z{{Member: "a"}, {Member: "c"}, {Member: "e"}}
	if err := client.ZAdd(ctx, prefix+":enrollments", stale...).Err(); err != nil {
		t.Fatal(err)
	}

	page, err := s.ListEnrollments(ctx, "", 2)
	mustDo(t, "ListEnrollments", err)
	if got := userIDs(page); got != "[b d]" {
		t.Errorf("first page = %s, want [b d]", got)
	}
	page, err = s.ListEnrollments(ctx, "d", 2)
	mustDo(t, "ListEnrollments", err)
	if got := userIDs(page); got != "[f]" {
		t.Errorf("second page = %s, want [f]", got)
	}
	members, err := client.ZRange(ctx, prefix+":enrollments", 0, -1).Result()
	mustDo(t, "ZRANGE", err)
	if fmt.Sprint(members) != "[b d f]" {
		t.Errorf("index after listing = %v, want [b d f]", members)
	}
}

func userIDs(es []twofactor.Enrollment) string {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.UserID
	}
	return fmt.Sprint(ids)
}

// TestNoAccountRecordCreated runs, in order, the calls that may change the
// failure count of a user without an account record, and checks that
// none of them creates one.
func TestNoAccountRecordCreated(t *testing.T) {
	client := newClient(t, redisAddr(t))
	prefix := newPrefix(t, client)
	s := newStore(t, client, prefix)
	ctx := t.Context()
	setup := twofactor.Setup{ID: "s1", UserID: "u1", Secret: []byte("sealed"), Digits: 6, Period: 30, ExpiresAt: base.Add(time.Minute)}
	code := twofactor.BackupCode{UserID: "u1", Hash: []byte("h"), CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	// AcceptStep and ConsumeBackupCode each close the challenge on which
	// they succeed, so each sign-in gets its own.
	challenges := make([]twofactor.Challenge, 3)
	for i := range challenges {
		challenges[i] = startChallenge(t, s, "u1", []byte{byte(i)})
	}
	steps := []struct {
		name    string
		call    func() error
		wantErr error
	}{
		{"ReserveAttempt before enrolling", func() error {
			a, err := s.ReserveAttempt(ctx, challenges[0].ID, 5, base, twofactor.Verdict{})
			if err == nil && a.Reserved {
				return errors.New("reserved an attempt for a user who is not enrolled")
			}
			return err
		}, nil},
		{"PutSetup", func() error { return s.PutSetup(ctx, setup) }, nil},
		{"ConfirmSetup", func() error { _, err := s.ConfirmSetup(ctx, "u1", "s1", 1, base); return err }, nil},
		{"AcceptStep", func() error { return s.AcceptStep(ctx, challenges[0].ID, "u1", 2) }, nil},
		{"AcceptStep of a used step", func() error { return s.AcceptStep(ctx, challenges[1].ID, "u1", 2) }, twofactor.ErrStepUsed},
		{"PutBackupCode", func() error { return s.PutBackupCode(ctx, code) }, nil},
		{"ConsumeBackupCode", func() error {
			_, err := s.ConsumeBackupCode(ctx, challenges[2].ID, "u1", code.Hash, base)
			return err
		}, nil},
	}
	// base64url("u1") is "dTE".
	account := prefix + ":{u:dTE}:account"
	for _, step := range steps {
		if err := step.call(); !errors.Is(err, step.wantErr) {
			t.Fatalf("%s error = %v, want %v", step.name, err, step.wantErr)
		}
		n, err := client.Exists(ctx, account).Result()
		mustDo(t, "EXISTS", err)
		if n != 0 {
			t.Errorf("after %s the account key exists, want no account record", step.name)
		}
	}
}

// deadAddr returns a loopback address on which nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestUnreachableServerFails(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: deadAddr(t), MaxRetries: -1, DialerRetries: 1, DialTimeout: time.Second})
	defer client.Close()
	s := newStore(t, client, "unreachable")
	ctx := t.Context()
	d := twofactor.Device{ID: "d", UserID: "u1", TokenHash: []byte{1}}
	// A well-formed challenge ID, so that each call reaches the server.
	c := newChallenge(s, "u1", []byte{0xc1})
	calls := []struct {
		name string
		call func() error
	}{
		{"GetEnrollment", func() error { _, err := s.GetEnrollment(ctx, "u1"); return err }},
		{"PutSetup", func() error { return s.PutSetup(ctx, twofactor.Setup{UserID: "u1"}) }},
		{"GetSetup", func() error { _, err := s.GetSetup(ctx, "u1", base); return err }},
		{"ConfirmSetup", func() error { _, err := s.ConfirmSetup(ctx, "u1", "s", 1, base); return err }},
		{"DeleteEnrollment", func() error { return s.DeleteEnrollment(ctx, "u1") }},
		{"AcceptStep", func() error { return s.AcceptStep(ctx, c.ID, "u1", 1) }},
		{"ListEnrollments", func() error { _, err := s.ListEnrollments(ctx, "", 10); return err }},
		{"ReplaceSecret", func() error { return s.ReplaceSecret(ctx, "u1", nil, nil) }},
		{"ReserveAttempt", func() error { _, err := s.ReserveAttempt(ctx, c.ID, 5, base, twofactor.Verdict{}); return err }},
		{"ReleaseAttempt", func() error { return s.ReleaseAttempt(ctx, "u1") }},
		{"GetAccount", func() error { _, err := s.GetAccount(ctx, "u1"); return err }},
		{"Unlock", func() error { return s.Unlock(ctx, "u1", base, false) }},
		{"ClearResetRequired", func() error { return s.ClearResetRequired(ctx, "u1") }},
		{"CreateChallenge", func() error { return s.CreateChallenge(ctx, c) }},
		{"GetChallenge", func() error { _, err := s.GetChallenge(ctx, c.ID); return err }},
		{"UpdateChallenge", func() error {
			return s.UpdateChallenge(ctx, c.ID, twofactor.StateCodePending, twofactor.StateLocked)
		}},
		{"PutBackupCode", func() error { return s.PutBackupCode(ctx, twofactor.BackupCode{UserID: "u1"}) }},
		{"ConsumeBackupCode", func() error { _, err := s.ConsumeBackupCode(ctx, c.ID, "u1", []byte("h"), base); return err }},
		{"DeleteBackupCode", func() error { return s.DeleteBackupCode(ctx, "u1") }},
		{"PutDevice", func() error { return s.PutDevice(ctx, d) }},
		{"UseDevice", func() error { _, err := s.UseDevice(ctx, "u1", d.TokenHash, base); return err }},
		{"ListDevices", func() error { _, err := s.ListDevices(ctx, "u1", base); return err }},
		{"DeleteDevice", func() error { return s.DeleteDevice(ctx, "u1", "d") }},
		{"DeleteDevices", func() error { return s.DeleteDevices(ctx, "u1") }},
	}
	sentinels := []error{twofactor.ErrNotFound, twofactor.ErrStepUsed, twofactor.ErrConflict}
	for _, c := range calls {
		err := c.call()
		if err == nil {
			t.Errorf("%s on an unreachable server returned no error", c.name)
			continue
		}
		if !strings.HasPrefix(err.Error(), "twofactor/redisstore: "+c.name+" failed") {
			t.Errorf("%s error = %q, want it to start with %q", c.name, err, "twofactor/redisstore: "+c.name+" failed")
		}
		for _, sentinel := range sentinels {
			if errors.Is(err, sentinel) {
				t.Errorf("%s error = %v, which is the sentinel %v", c.name, err, sentinel)
			}
		}
	}
}

func TestCanceledContextFails(t *testing.T) {
	client := newClient(t, redisAddr(t))
	s := newStore(t, client, newPrefix(t, client))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	id := s.NewChallengeID("u1", []byte{0xc1})
	if _, err := s.ReserveAttempt(ctx, id, 5, base, twofactor.Verdict{}); !errors.Is(err, context.Canceled) {
		t.Errorf("ReserveAttempt with a canceled context error = %v, want context.Canceled", err)
	}
	if _, err := s.GetEnrollment(ctx, "u1"); !errors.Is(err, context.Canceled) {
		t.Errorf("GetEnrollment with a canceled context error = %v, want context.Canceled", err)
	}
}
