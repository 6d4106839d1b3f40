package twofactor_test

import (
	"context"
	"fmt"
	"time"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/memstore"
	"github.com/twofactor-go/twofactor/twofactortest"
)

// This example enrolls a user and signs them in, as a login handler would.
// A real host takes the code from a form; here it is computed the way an
// authenticator app computes it.
func Example() {
	ctx := context.Background()
	clock := twofactortest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	m, err := twofactor.New(twofactor.Config{
		Store:  memstore.New(),
		Issuer: "Acme Support",
		Keys:   []twofactor.EncryptionKey{{ID: "2026-03", Secret: []byte("an example key of 32 bytes long!")}},
		Now:    clock.Now,
	})
	if err != nil {
		panic(err)
	}

	// Set-up: show key.URI as a QR code, then confirm with the app's code.
	key, err := m.StartSetup(ctx, "alice", "alice@example.com")
	if err != nil {
		panic(err)
	}
	app := func() string {
		code, err := twofactortest.GenerateCode(key, clock.Now())
		if err != nil {
			panic(err)
		}
		return code
	}
	if err := m.ConfirmSetup(ctx, "alice", app()); err != nil {
		panic(err)
	}

	// Sign-in, after the host has checked the password.
	clock.Advance(time.Minute)
	d, err := m.Begin(ctx, twofactor.Login{UserID: "alice", Role: twofactor.RoleAgent})
	if err != nil {
		panic(err)
	}
	fmt.Println("code required:", d.Required, d.Reason)

	res, err := m.Submit(ctx, d.Challenge.ID, app())
	if err != nil {
		panic(err)
	}
	fmt.Println("signed in:", res.Succeeded())
	// Output:
	// code required: true code required
	// signed in: true
}
