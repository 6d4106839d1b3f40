package redisstore

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twofactor-go/twofactor"
)

func TestExpiryTTL(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	const grace = 5 * time.Minute
	tests := []struct {
		name    string
		expires time.Time
		want    time.Duration
	}{
		{"future", now.Add(time.Hour), time.Hour + grace},
		{"now", now, grace},
		{"past", now.Add(-300 * 24 * time.Hour), grace},
		{"zero time", time.Time{}, grace},
	}
	for _, tt := range tests {
		if got := expiryTTL(tt.expires, now, grace); got != tt.want {
			t.Errorf("%s: expiryTTL = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMilliseconds(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want int64
	}{
		{time.Second, 1000},
		{time.Second + time.Microsecond, 1001},
		{time.Nanosecond, 1},
	}
	for _, tt := range tests {
		if got := milliseconds(tt.in); got != tt.want {
			t.Errorf("milliseconds(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestParseRecordReply(t *testing.T) {
	tests := []struct {
		name      string
		reply     any
		want      record
		wantFound bool
		wantErr   string
	}{
		{"not found", []any{int64(0)}, nil, false, ""},
		{"found", []any{int64(1), "a", "1", "b", "x"}, record{"a": "1", "b": "x"}, true, ""},
		{"nil value left out", []any{int64(1), "a", nil}, record{}, true, ""},
		{"not a list", "OK", nil, false, "unexpected script reply string"},
		{"empty list", []any{}, nil, false, "unexpected script reply"},
		{"status not an integer", []any{"1"}, nil, false, "unexpected script status string"},
		{"odd pairs", []any{int64(1), "a"}, nil, false, "2 items"},
		{"field not a string", []any{int64(1), int64(2), "x"}, nil, false, "unexpected field name int64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found, err := parseRecordReply(tt.reply)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("error = %v", err)
			}
			if found != tt.wantFound || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, %v, want %v, %v", got, found, tt.want, tt.wantFound)
			}
		})
	}
}

func TestParseReserveReply(t *testing.T) {
	challenge := []any{"user", "alice", "state", "2"}
	account := []any{"failures", "2", "generation", "1"}
	enrollment := []any{"secret", "sealed", "last_step", "7"}
	tests := []struct {
		name    string
		reply   any
		want    reserveReply
		wantErr string
	}{
		{"not found", []any{int64(0)}, reserveReply{}, ""},
		{"reserved", []any{int64(1), int64(1), int64(0), int64(0), challenge, account, enrollment}, reserveReply{
			found: true, reserved: true,
			challenge:  record{"user": "alice", "state": "2"},
			account:    record{"failures": "2", "generation": "1"},
			enrollment: record{"secret": "sealed", "last_step": "7"},
		}, ""},
		{"accepted", []any{int64(1), int64(1), int64(1), int64(1), challenge, account, enrollment}, reserveReply{
			found: true, reserved: true, judged: true, accepted: true,
			challenge:  record{"user": "alice", "state": "2"},
			account:    record{"failures": "2", "generation": "1"},
			enrollment: record{"secret": "sealed", "last_step": "7"},
		}, ""},
		{"not reserved, not enrolled, no account", []any{int64(1), int64(0), int64(0), int64(0), challenge, []any{}, []any{}}, reserveReply{
			found: true, challenge: record{"user": "alice", "state": "2"}, account: record{}, enrollment: record{},
		}, ""},
		{"not a list", "OK", reserveReply{}, "unexpected script reply string"},
		{"empty list", []any{}, reserveReply{}, "unexpected script reply"},
		{"status not an integer", []any{"1", int64(1), int64(0), int64(0), challenge, account, enrollment}, reserveReply{}, "starting with string"},
		{"unknown status", []any{int64(2), int64(1), int64(0), int64(0), challenge, account, enrollment}, reserveReply{}, "unexpected script reply of 7 items"},
		{"negative status", []any{int64(-1)}, reserveReply{}, "unexpected script reply of 1 items"},
		{"not found with records", []any{int64(0), int64(0), int64(0), int64(0), challenge, account, enrollment}, reserveReply{}, "unexpected script reply of 7 items"},
		{"found without enrollment", []any{int64(1), int64(1), int64(0), int64(0), challenge, account}, reserveReply{}, "unexpected script reply of 6 items"},
		{"flag not an integer", []any{int64(1), int64(1), "1", int64(0), challenge, account, enrollment}, reserveReply{}, "unexpected flag string"},
		{"flag out of range", []any{int64(1), int64(1), int64(0), int64(2), challenge, account, enrollment}, reserveReply{}, "unexpected flag int64"},
		{"record not a list", []any{int64(1), int64(0), int64(0), int64(0), "user", account, enrollment}, reserveReply{}, "unexpected record string"},
		{"odd record", []any{int64(1), int64(0), int64(0), int64(0), challenge, []any{"failures"}, enrollment}, reserveReply{}, "has 1 items, want an even number"},
		{"field not a string", []any{int64(1), int64(0), int64(0), int64(0), challenge, []any{int64(1), "2"}, enrollment}, reserveReply{}, "unexpected field name int64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseReserveReply(tt.reply)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("error = %v", err)
			}
			if got.found != tt.want.found || got.reserved != tt.want.reserved ||
				got.judged != tt.want.judged || got.accepted != tt.want.accepted {
				t.Errorf("found, reserved, judged, accepted = %v, %v, %v, %v, want %v, %v, %v, %v",
					got.found, got.reserved, got.judged, got.accepted,
					tt.want.found, tt.want.reserved, tt.want.judged, tt.want.accepted)
			}
			for _, r := range []struct {
				name      string
				got, want record
			}{
				{"challenge", got.challenge, tt.want.challenge},
				{"account", got.account, tt.want.account},
				{"enrollment", got.enrollment, tt.want.enrollment},
			} {
				if fmt.Sprint(r.got) != fmt.Sprint(r.want) || (r.got == nil) != (r.want == nil) {
					t.Errorf("%s = %#v, want %#v", r.name, r.got, r.want)
				}
			}
		})
	}
}

// TestParseReserveReplyHidesValues checks that an error about a reply
// does not quote its field values, which include the sealed secret.
func TestParseReserveReplyHidesValues(t *testing.T) {
	const secret = "sealed-secret-bytes"
	challenge := []any{"user", "alice"}
	replies := []any{
		[]any{int64(1), int64(1), int64(0), int64(0), challenge, []any{"failures", "1"}, []any{"secret", secret, "alg"}},
		[]any{int64(1), int64(1), int64(0), int64(0), challenge, []any{"failures", "1"}, secret},
		[]any{int64(1), int64(1), int64(0), int64(0), challenge, []any{"failures", "1"}, []any{int64(7), secret}},
		[]any{int64(1), secret, int64(0), int64(0), challenge, []any{}, []any{"secret", secret}},
	}
	for i, reply := range replies {
		_, err := parseReserveReply(reply)
		if err == nil {
			t.Errorf("reply %d: no error", i)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("reply %d: error %q contains a field value", i, err)
		}
	}
}

// FuzzParseReserveReply checks that any reply of the shape that Redis can
// return is parsed or rejected without a panic, and that a parsed reply
// is either "not found" with no records or "found" with all three.
func FuzzParseReserveReply(f *testing.F) {
	f.Add(int64(1), int64(1), int64(0), int64(0), 4, 4, 4, "failures", "1")
	f.Add(int64(1), int64(1), int64(1), int64(1), 2, 0, 0, "generation", "x")
	f.Add(int64(0), int64(0), int64(0), int64(0), -1, -1, -1, "", "")
	f.Add(int64(5), int64(3), int64(-1), int64(2), 3, 1, 2, "a", "b")
	f.Fuzz(func(t *testing.T, status, reserved, judged, accepted int64, challengeLen, accountLen, enrollmentLen int, name, value string) {
		fields := func(n int) []any {
			n = min(n, 8)
			items := make([]any, n)
			for i := range items {
				items[i] = name
				if i%2 == 1 {
					items[i] = value
				}
			}
			return items
		}
		reply := []any{status}
		if challengeLen >= 0 {
			reply = append(reply, reserved, judged, accepted)
		}
		for _, n := range []int{challengeLen, accountLen, enrollmentLen} {
			if n >= 0 {
				reply = append(reply, fields(n))
			}
		}
		got, err := parseReserveReply(reply)
		if err != nil {
			return
		}
		if got.found != (status == 1) {
			t.Errorf("status %d: found = %v", status, got.found)
		}
		if got.reserved != (got.found && reserved == 1) || got.judged != (got.found && judged == 1) ||
			got.accepted != (got.found && accepted == 1) {
			t.Errorf("flags %d, %d, %d: parsed as %v, %v, %v", reserved, judged, accepted, got.reserved, got.judged, got.accepted)
		}
		records := got.challenge != nil && got.account != nil && got.enrollment != nil
		if records != got.found {
			t.Errorf("status %d: records %v, %v, %v", status, got.challenge, got.account, got.enrollment)
		}
	})
}

// stored returns the record that Redis keeps for the HSET arguments pairs.
func stored(pairs []any) record {
	r := record{}
	for i := 0; i < len(pairs); i += 2 {
		var v string
		switch x := pairs[i+1].(type) {
		case []byte:
			v = string(x)
		default:
			v = fmt.Sprint(x)
		}
		r[pairs[i].(string)] = v
	}
	return r
}

func TestDecodeRejectsInvalidFields(t *testing.T) {
	valid := stored(encodeChallenge(twofactor.Challenge{ID: "c", State: twofactor.StateCodePending}))
	tests := []struct {
		field, value, want string
	}{
		{"state", "256", `field "state"`},
		{"trust", "yes", `field "trust" is "yes", want 0 or 1`},
		{"created", "1.5", `field "created"`},
		{"user", "", ""},
	}
	for _, tt := range tests {
		r := record{}
		for k, v := range valid {
			r[k] = v
		}
		r[tt.field] = tt.value
		_, err := decodeChallenge("c", r)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s=%q: error = %v, want none", tt.field, tt.value, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s=%q: error = %v, want one containing %q", tt.field, tt.value, err, tt.want)
		}
	}
	delete(valid, "deadline")
	if _, err := decodeChallenge("c", valid); err == nil || !strings.Contains(err.Error(), `field "deadline" is missing`) {
		t.Errorf("missing deadline: error = %v, want a missing field error", err)
	}
}

func TestDecodeAccountOptionalFields(t *testing.T) {
	a, err := decodeAccount(record{"failures": "3"})
	if err != nil {
		t.Fatal(err)
	}
	if a != (twofactor.Account{Failures: 3}) {
		t.Errorf("decodeAccount = %+v, want only 3 failures", a)
	}
	if _, err := decodeAccount(record{"reset": "2"}); err == nil {
		t.Errorf("decodeAccount with reset 2: no error")
	}
}

// FuzzRecordRoundTrip checks that every record kind decodes to what was
// encoded, for any bytes and times.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add("id", []byte("secret"), uint8(1), 6, 30, int64(1234), int64(1772366400000000), true)
	f.Add("", []byte{}, uint8(255), -1, 0, int64(-1), int64(-62135596800000000), false)
	f.Fuzz(func(t *testing.T, id string, secret []byte, small uint8, digits, period int, step, usec int64, flag bool) {
		at := time.UnixMicro(usec).UTC()
		setup := twofactor.Setup{ID: id, UserID: "u", Secret: secret, Algorithm: twofactor.Algorithm(small), Digits: digits, Period: period, ExpiresAt: at}
		gotSetup, err := decodeSetup("u", stored(encodeSetup(setup)))
		if err != nil || !equalSetup(gotSetup, setup) {
			t.Errorf("setup round trip = %+v, %v, want %+v", gotSetup, err, setup)
		}
		c := twofactor.Challenge{ID: "c", UserID: id, Role: twofactor.Role(small), State: twofactor.State(small), TrustAllowed: flag, Generation: step, CreatedAt: at, Deadline: at, ExpiresAt: at}
		gotChallenge, err := decodeChallenge("c", stored(encodeChallenge(c)))
		if err != nil || gotChallenge != c {
			t.Errorf("challenge round trip = %+v, %v, want %+v", gotChallenge, err, c)
		}
		b := twofactor.BackupCode{UserID: "u", Hash: secret, IssuedBy: id, CreatedAt: at, ExpiresAt: at}
		gotBackup, err := decodeBackupCode("u", stored(encodeBackupCode(b)))
		if err != nil || !bytes.Equal(gotBackup.Hash, b.Hash) || gotBackup.IssuedBy != id || !gotBackup.ExpiresAt.Equal(at) {
			t.Errorf("backup code round trip = %+v, %v, want %+v", gotBackup, err, b)
		}
		d := twofactor.Device{ID: id, UserID: "u", TokenHash: secret, Label: id, CreatedAt: at, LastUsed: at, ExpiresAt: at}
		gotDevice, err := decodeDevice("u", stored(encodeDevice(d)))
		if err != nil || gotDevice.ID != id || !bytes.Equal(gotDevice.TokenHash, secret) || gotDevice.Label != id || !gotDevice.LastUsed.Equal(at) {
			t.Errorf("device round trip = %+v, %v, want %+v", gotDevice, err, d)
		}
	})
}

func equalSetup(a, b twofactor.Setup) bool {
	return a.ID == b.ID && a.UserID == b.UserID && bytes.Equal(a.Secret, b.Secret) && a.Algorithm == b.Algorithm &&
		a.Digits == b.Digits && a.Period == b.Period && a.ExpiresAt.Equal(b.ExpiresAt)
}

// FuzzDecodeRecord checks that decoding any stored field values returns a
// record or an error, and never panics.
func FuzzDecodeRecord(f *testing.F) {
	f.Add("1", "x", "-5", "9223372036854775808")
	f.Add("", "1", "0", "1e3")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		r := record{
			"id": a, "secret": b, "alg": c, "digits": d, "period": a, "expires": b,
			"last_step": c, "confirmed": d, "failures": a, "generation": b, "unlocked": c, "reset": d,
			"user": a, "role": b, "state": c, "trust": d, "created": a, "deadline": b,
			"hash": c, "issued_by": d, "label": a, "last_used": b,
		}
		decodeSetup("u", r)
		decodeEnrollment("u", r)
		decodeAccount(r)
		decodeChallenge("c", r)
		decodeBackupCode("u", r)
		decodeDevice("u", r)
		if _, err := decodeEnrollment("u", r); err == nil {
			// A decoded enrollment must have come from valid integers.
			if _, perr := r.int64("last_step"); perr != nil {
				t.Errorf("decodeEnrollment accepted last_step %q", c)
			}
		}
	})
}

// FuzzUserKey checks that any user ID yields keys, its challenges' keys
// among them, whose Redis Cluster hash tag is exactly the encoded ID, so
// that one user's keys share a slot and IDs with '{', '}' or ':' cannot
// collide.
func FuzzUserKey(f *testing.F) {
	f.Add("u1", "c1")
	f.Add("a}:{b", "}{")
	f.Add("", "")
	s, err := New(newUnusedClient(f), WithPrefix("app"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, userID, challengeID string) {
		for _, kind := range []string{"enrollment", "setup", "account", "backup", "devices", "device:" + deviceMember([]byte(userID))} {
			key := s.userKey(userID, kind)
			checkTag(t, key, "u:", userID)
			if !strings.HasSuffix(key, "}:"+kind) {
				t.Errorf("key %q does not end in the kind %q", key, kind)
			}
		}
		id := s.NewChallengeID(userID, []byte(challengeID))
		key, owner, ok := s.challengeKey(id)
		if userID == "" {
			if ok {
				t.Errorf("challengeKey(%q) accepted an ID without a user", id)
			}
			return
		}
		if !ok || owner != userID {
			t.Fatalf("challengeKey(%q) = %q, %q, %v, want the key of user %q", id, key, owner, ok, userID)
		}
		checkTag(t, key, "u:", userID)
	})
}

// checkTag checks that key's hash tag is kind followed by the encoded id.
func checkTag(t *testing.T, key, kind, id string) {
	t.Helper()
	open := strings.IndexByte(key, '{')
	end := strings.IndexByte(key[open+1:], '}')
	if open < 0 || end < 0 {
		t.Fatalf("key %q has no hash tag", key)
	}
	tag := key[open+1 : open+1+end]
	encoded, ok := strings.CutPrefix(tag, kind)
	if !ok {
		t.Fatalf("hash tag %q of key %q does not start with %q", tag, key, kind)
	}
	decoded, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil || string(decoded) != id {
		t.Errorf("hash tag %q of key %q decodes to %q, %v, want %q", tag, key, decoded, err, id)
	}
}

// newUnusedClient returns a client that the test never sends a command
// through, so it never connects.
func newUnusedClient(tb testing.TB) *redis.Client {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	tb.Cleanup(func() { client.Close() })
	return client
}
