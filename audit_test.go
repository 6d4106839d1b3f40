package twofactor_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/memstore"
	"github.com/twofactor-go/twofactor/twofactortest"
)

// TestNothingSecretEmitted runs every flow with a JSON slog audit sink and
// then searches all events, log output and errors for each secret value
// used: TOTP secrets, codes, backup codes, device tokens, challenge IDs and
// the key.
func TestNothingSecretEmitted(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	encKey := twofactor.EncryptionKey{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")}
	failing := twofactortest.NewFailingStore(memstore.New())
	kit := twofactortest.New(t, twofactor.Config{
		Store: failing,
		Keys:  []twofactor.EncryptionKey{encKey},
		Audit: twofactor.SlogAudit(logger),
	})
	ctx := t.Context()
	var secrets, errs []string
	record := func(err error) {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}

	key := kit.Enroll(t, "u1")
	secrets = append(secrets, key.Secret, key.URI)
	code := twofactortest.Code(t, key, kit.Clock.Now())
	secrets = append(secrets, code)
	res, err := kit.Manager.Submit(ctx, beginChallenge(t, kit, "u1"), code, twofactor.TrustDevice("Firefox"))
	record(err)
	secrets = append(secrets, res.DeviceToken)

	// Wrong codes up to the lock, then an unlock.
	id := beginChallenge(t, kit, "u1")
	secrets = append(secrets, id)
	for i := range 5 {
		wrong := fmt.Sprintf("%06d", 314159+i)
		secrets = append(secrets, wrong)
		_, err := kit.Manager.Submit(ctx, id, wrong)
		record(err)
	}
	record(kit.Manager.UnlockByAdmin(ctx, "u1", "admin"))

	// A backup code, used once and then replayed.
	backup, _, err := kit.Manager.IssueBackupCode(ctx, admin, "u1")
	record(err)
	secrets = append(secrets, backup, strings.ReplaceAll(backup, "-", ""))
	for range 2 {
		_, err := kit.Manager.Submit(ctx, beginChallenge(t, kit, "u1"), backup)
		record(err)
	}

	// Failures of the store, of the clock and of confirmation. The Manager
	// that began a challenge judges the code in ReserveAttempt. A second
	// instance records it with AcceptStep or ConsumeBackupCode.
	other := secondInstance(t, kit, twofactor.Config{
		Keys:  []twofactor.EncryptionKey{encKey},
		Audit: twofactor.SlogAudit(logger),
	})
	kit.Clock.Advance(time.Minute)
	code = twofactortest.Code(t, key, kit.Clock.Now())
	backup, _, err = kit.Manager.IssueBackupCode(ctx, admin, "u1")
	record(err)
	secrets = append(secrets, code, backup, strings.ReplaceAll(backup, "-", ""))
	storeFailures := []struct {
		submitter *twofactortest.Kit
		methods   []string
	}{
		{kit, []string{"ReserveAttempt"}},
		{other, []string{"AcceptStep", "ConsumeBackupCode"}},
	}
	for _, sf := range storeFailures {
		for _, input := range []string{code, backup} {
			id := beginChallenge(t, kit, "u1")
			secrets = append(secrets, id)
			failing.Fail(nil, sf.methods...)
			_, err := sf.submitter.Manager.Submit(ctx, id, input)
			failing.Heal()
			record(err)
		}
	}
	reset, err := kit.Manager.StartSetup(ctx, "u1", "u1@example.com")
	record(err)
	secrets = append(secrets, reset.Secret)
	record(kit.Manager.ConfirmSetup(ctx, "u1", "999999"))
	late := beginChallenge(t, kit, "u1")
	secrets = append(secrets, late)
	kit.Clock.Set(time.Time{})
	_, err = kit.Manager.Submit(ctx, late, code)
	record(err)
	record(kit.Manager.TurnOff(ctx, "u1", "u1"))

	// The errors: four store failures, the wrong confirming code and the
	// clock before 1970.
	events := append(kit.Events.All(), other.Events.All()...)
	if len(events) < 15 || logs.Len() == 0 || len(errs) < 6 {
		t.Logf("errors: %q", errs)
		t.Fatalf("the run emitted too little to check: %d events, %d log bytes, %d errors",
			len(events), logs.Len(), len(errs))
	}
	var emitted strings.Builder
	emitted.WriteString(logs.String())
	for _, e := range events {
		fmt.Fprintf(&emitted, "%v %+v %#v\n", e, e, e)
	}
	for _, e := range errs {
		emitted.WriteString(e + "\n")
	}
	raw, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key.Secret)
	forms := []string{string(encKey.Secret), hex.EncodeToString(encKey.Secret), base64.StdEncoding.EncodeToString(encKey.Secret),
		hex.EncodeToString(raw), base64.StdEncoding.EncodeToString(raw)}
	for _, s := range secrets {
		if s == "" {
			t.Fatalf("a secret of the run is empty")
		}
		forms = append(forms, s)
	}
	out := emitted.String()
	for _, s := range forms {
		if strings.Contains(out, s) {
			t.Errorf("emitted output contains the secret value %q", s)
		}
	}
}

func TestSlogAuditLevels(t *testing.T) {
	var logs bytes.Buffer
	audit := twofactor.SlogAudit(slog.New(slog.NewJSONHandler(&logs, nil)))
	audit(context.Background(), twofactor.Event{Kind: twofactor.EventLocked, UserID: "u1", Failures: 5})
	audit(context.Background(), twofactor.Event{Kind: twofactor.EventEnrolled, UserID: "u1", Actor: "u1"})
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2", len(lines))
	}
	if !strings.Contains(lines[0], `"level":"WARN"`) || !strings.Contains(lines[0], `"failures":5`) {
		t.Errorf("lock line = %s, want WARN with failures", lines[0])
	}
	if !strings.Contains(lines[1], `"level":"INFO"`) || !strings.Contains(lines[1], `"kind":"enrolled"`) {
		t.Errorf("enrolled line = %s, want INFO with the kind", lines[1])
	}
}
