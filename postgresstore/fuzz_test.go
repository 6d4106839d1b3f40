package postgresstore_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/postgresstore"
)

// storableText reports whether PostgreSQL's text type in a UTF8 database
// can hold s: it must be valid UTF-8 without a NUL byte.
func storableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// newFuzzStore returns a migrated Store in a fresh schema named
// tf_fuzz_<random hex>. The fuzzing coordinator can stop a worker process
// before its cleanups run, which leaves the schema behind, so the prefix
// distinguishes such schemas from those of the other tests.
func newFuzzStore(f *testing.F) *postgresstore.Store {
	pool := newPool(f)
	s := postgresstore.New(pool, postgresstore.WithSchema(newPrefixedSchema(f, pool, "tf_fuzz_")))
	must(f, "Migrate", s.Migrate(context.Background()))
	return s
}

// storable returns s as text can hold it: invalid UTF-8 replaced by
// U+FFFD and NUL bytes removed.
func storable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// The fuzz targets clean up with context.Background because t.Context is
// canceled before cleanups run.

// FuzzBackupCodeRoundTrip checks that user IDs and hashes pass through the
// store unchanged, whatever their bytes, and that a value the server cannot
// store is an error rather than another record.
func FuzzBackupCodeRoundTrip(f *testing.F) {
	s := newFuzzStore(f)
	for _, seed := range []struct {
		userID string
		hash   []byte
	}{
		{"u1", []byte("hash")},
		{"é 用户", []byte{0, 1, 2, 0xff}},
		{"'; DROP TABLE backup_codes; --", nil},
		{`"quoted" \ backslash`, []byte{}},
		{"a\x00b", []byte("h")},
		{"\xff\xfe", []byte("h")},
		{strings.Repeat("x", 300), bytes.Repeat([]byte{7}, 64)},
	} {
		f.Add(seed.userID, seed.hash)
	}
	f.Fuzz(func(t *testing.T, userID string, hash []byte) {
		ctx := t.Context()
		c := twofactor.BackupCode{UserID: userID, Hash: hash, IssuedBy: "admin", CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
		err := s.PutBackupCode(ctx, c)
		if !storableText(userID) {
			if err == nil {
				t.Fatalf("PutBackupCode(%q) stored a user ID that text cannot hold", userID)
			}
			return
		}
		must(t, "PutBackupCode", err)
		t.Cleanup(func() { must(t, "DeleteBackupCode", s.DeleteBackupCode(context.Background(), userID)) })

		// Each run's challenges get random IDs, because the runs share the
		// schema.
		challenge := startChallenge(t, s, randomHex(t, 16), userID, 0)
		other := startChallenge(t, s, randomHex(t, 16), userID+"x", 0)
		if _, err := s.ConsumeBackupCode(ctx, other.ID, userID+"x", hash, base); !errors.Is(err, twofactor.ErrNotFound) {
			t.Errorf("ConsumeBackupCode of another user error = %v, want ErrNotFound", err)
		}
		if _, err := s.ConsumeBackupCode(ctx, challenge.ID, userID+"x", hash, base); !errors.Is(err, twofactor.ErrNotFound) {
			t.Errorf("ConsumeBackupCode by another user on the challenge error = %v, want ErrNotFound", err)
		}
		got, err := s.ConsumeBackupCode(ctx, challenge.ID, userID, hash, base)
		must(t, "ConsumeBackupCode", err)
		if got.UserID != userID || !bytes.Equal(got.Hash, hash) || got.IssuedBy != "admin" {
			t.Errorf("ConsumeBackupCode = %q, %x, %q, want %q, %x, %q", got.UserID, got.Hash, got.IssuedBy, userID, hash, "admin")
		}
		again := startChallenge(t, s, randomHex(t, 16), userID, 0)
		if _, err := s.ConsumeBackupCode(ctx, again.ID, userID, hash, base); !errors.Is(err, twofactor.ErrNotFound) {
			t.Errorf("second ConsumeBackupCode error = %v, want ErrNotFound", err)
		}
	})
}

// FuzzListEnrollmentsOrder checks that ListEnrollments pages in Go's
// byte-wise string order, whatever the user IDs.
func FuzzListEnrollmentsOrder(f *testing.F) {
	s := newFuzzStore(f)
	for _, seed := range [][2]string{
		{"a", "b"}, {"B", "a"}, {"é", "z"}, {"a", "a"}, {"ab", "a"}, {"", "x"}, {"\u00e9", "e\u0301"}, {"𝔘", "\uffff"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		// Make the input storable rather than skip it, so that most runs
		// reach the server; FuzzBackupCodeRoundTrip covers the rest.
		a, b = storable(a), storable(b)
		if a == "" || b == "" {
			// The Manager rejects empty user IDs, and an empty after
			// means the start of the list.
			t.Skip("empty user ID")
		}
		ctx := t.Context()
		ids := []string{a}
		if b != a {
			ids = append(ids, b)
		}
		for _, id := range ids {
			enroll(t, s, id)
			t.Cleanup(func() { must(t, "DeleteEnrollment", s.DeleteEnrollment(context.Background(), id)) })
		}

		list, err := s.ListEnrollments(ctx, "", 10)
		must(t, "ListEnrollments", err)
		slices.Sort(ids)
		if got := userIDs(list); !slices.Equal(got, ids) {
			t.Errorf("ListEnrollments = %q, want %q", got, ids)
		}
		list, err = s.ListEnrollments(ctx, a, 10)
		must(t, "ListEnrollments after a", err)
		var want []string
		if b > a {
			want = []string{b}
		}
		if got := userIDs(list); !slices.Equal(got, want) {
			t.Errorf("ListEnrollments after %q = %q, want %q", a, got, want)
		}
	})
}

func userIDs(list []twofactor.Enrollment) []string {
	var ids []string
	for _, e := range list {
		ids = append(ids, e.UserID)
	}
	return ids
}
