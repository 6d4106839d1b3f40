package twofactor

import (
	"fmt"
	"strings"
)

// Messages are the texts that a [Result] carries for the user. A host
// replaces them to translate the pages; the logic does not read them.
type Messages struct {
	// IncorrectCode is shown after every wrong code.
	IncorrectCode string

	// AttemptsLeft is shown after a wrong code when few attempts remain.
	// It is a fmt format with one %d verb for the number left.
	AttemptsLeft string

	// Locked is shown when the account is locked.
	Locked string

	// TimedOut is shown when the time limit of the challenge has passed.
	TimedOut string
}

// EnglishMessages are the default messages.
var EnglishMessages = Messages{
	IncorrectCode: "Incorrect code, please try again.",
	AttemptsLeft:  "You have %d login attempt(s) before your account is locked",
	Locked:        "Your account is locked. Contact an administrator to unlock it.",
	TimedOut:      "Sign In Attempt Timed Out",
}

func (ms Messages) attemptsLeft(n int) string {
	return fmt.Sprintf(ms.AttemptsLeft, n)
}

// withDefaults returns the messages with every empty field taken from
// EnglishMessages, and checks that AttemptsLeft has exactly one %d verb.
func (ms *Messages) withDefaults() (Messages, error) {
	out := EnglishMessages
	if ms == nil {
		return out, nil
	}
	fields := []struct {
		dst *string
		src string
	}{
		{&out.IncorrectCode, ms.IncorrectCode},
		{&out.AttemptsLeft, ms.AttemptsLeft},
		{&out.Locked, ms.Locked},
		{&out.TimedOut, ms.TimedOut},
	}
	for _, f := range fields {
		if f.src != "" {
			*f.dst = f.src
		}
	}
	if strings.Count(out.AttemptsLeft, "%") != 1 || !strings.Contains(out.AttemptsLeft, "%d") {
		return out, fmt.Errorf("twofactor: Messages.AttemptsLeft %q needs exactly one %%d verb for the number of attempts", out.AttemptsLeft)
	}
	return out, nil
}
