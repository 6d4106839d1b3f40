package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

func TestGroupKey(t *testing.T) {
	tests := []struct{ key, want string }{
		{"", ""},
		{"AB", "AB"},
		{"ABCD", "ABCD"},
		{"ABCDE", "ABCD E"},
		{"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP"},
	}
	for _, tt := range tests {
		if got := groupKey(tt.key); got != tt.want {
			t.Errorf("groupKey(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

func TestDeviceLabel(t *testing.T) {
	tests := []struct{ userAgent, want string }{
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/140.0.0.0 Safari/537.36", "Chrome on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 Edg/140.0.0.0", "Edge on Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari on macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iOS"},
		{"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36", "Chrome on Android"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"},
		{"curl/8.5.0 (Linux)", "Browser on Linux"},
		{"Go-http-client/1.1", "Unknown browser"},
		{"", "Unknown browser"},
	}
	for _, tt := range tests {
		if got := deviceLabel(tt.userAgent); got != tt.want {
			t.Errorf("deviceLabel(%q) = %q, want %q", tt.userAgent, got, tt.want)
		}
	}
}

// FuzzDeviceLabel checks that any User-Agent gives a short label made only
// of the fixed names.
func FuzzDeviceLabel(f *testing.F) {
	f.Add("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	f.Add("Edg/ OPR/ Chrome/ Android")
	f.Add("<script>alert(1)</script>")
	f.Add("\x00\xff")
	f.Fuzz(func(t *testing.T, userAgent string) {
		got := deviceLabel(userAgent)
		if got == "" || len(got) > 40 || !utf8.ValidString(got) {
			t.Fatalf("deviceLabel(%q) = %q, want a short non-empty label", userAgent, got)
		}
		if !knownLabel(got) {
			t.Fatalf("deviceLabel(%q) = %q, which is not made of the fixed names", userAgent, got)
		}
	})
}

// knownLabel reports whether label is one that deviceLabel can build from
// its tables.
func knownLabel(label string) bool {
	if label == "Unknown browser" {
		return true
	}
	browser, system, found := strings.Cut(label, " on ")
	if !found {
		return hasName(browserNames, label)
	}
	return (browser == "Browser" || hasName(browserNames, browser)) && hasName(systemNames, system)
}

func hasName(table []struct{ token, name string }, name string) bool {
	return slices.ContainsFunc(table, func(e struct{ token, name string }) bool { return e.name == name })
}

func TestOpenStore(t *testing.T) {
	tests := []struct {
		kind, dsn string
		wantErr   []string // parts of the error; nil means success
	}{
		{"memory", "", nil},
		{"memory", "postgres://127.0.0.1/db", []string{"takes no -dsn"}},
		{"postgres", "", []string{"-dsn"}},
		{"redis", "", []string{"-dsn"}},
		{"mysql", "", []string{`"mysql"`, "memory, postgres, redis"}},
		{"", "", []string{`""`, "memory"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind+" "+tt.dsn, func(t *testing.T) {
			st, closeStore, err := openStore(tt.kind, tt.dsn)
			if tt.wantErr == nil {
				if err != nil || st == nil {
					t.Fatalf("openStore(%q, %q) = %v, %v; want a store", tt.kind, tt.dsn, st, err)
				}
				closeStore()
				return
			}
			if err == nil {
				closeStore()
				t.Fatalf("openStore(%q, %q) succeeded, want an error", tt.kind, tt.dsn)
			}
			for _, part := range tt.wantErr {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("openStore(%q, %q) error %q lacks %q", tt.kind, tt.dsn, err, part)
				}
			}
		})
	}
}

func TestNewDemoUsers(t *testing.T) {
	users, creds, err := newDemoUsers("", bcrypt.MinCost)
	if err != nil {
		t.Fatalf("newDemoUsers: %v", err)
	}
	wantIDs := []string{"alice", "sam", "ada", "bob"}
	seen := map[string]bool{}
	for i, c := range creds {
		if c.ID != wantIDs[i] {
			t.Errorf("user %d = %q, want %q", i, c.ID, wantIDs[i])
		}
		if len(c.Password) < 16 || seen[c.Password] {
			t.Errorf("password of %q is short or repeated", c.ID)
		}
		seen[c.Password] = true
		if _, ok := users.authenticate(c.ID, c.Password); !ok {
			t.Errorf("authenticate(%q, its password) failed", c.ID)
		}
		if _, ok := users.authenticate(c.ID, c.Password+"x"); ok {
			t.Errorf("authenticate(%q, a wrong password) succeeded", c.ID)
		}
	}
	if u := users.lookup("ada"); u == nil || !u.IsAdmin() {
		t.Errorf("ada is not an administrator")
	}
}

func TestRunPrintsBannerAndServes(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdout, stdoutWriter := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-demo-password", "pw"}, stdoutWriter, t.Output())
		stdoutWriter.Close()
	}()

	var banner []string
	scanner := bufio.NewScanner(stdout)
	for scanner.Scan() {
		banner = append(banner, scanner.Text())
		if strings.HasPrefix(scanner.Text(), "WARNING") {
			break
		}
	}
	go io.Copy(io.Discard, stdout) // the writer may still flush a final newline
	text := strings.Join(banner, "\n")
	url, found := strings.CutPrefix(banner[0], "Login server demo: ")
	if !found || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line %q, want the server URL", banner[0])
	}
	for _, want := range []string{"alice  agent", "sam    super-agent", "ada    administrator", "bob    agent", "stored unencrypted"} {
		if !strings.Contains(text, want) {
			t.Errorf("banner lacks %q:\n%s", want, text)
		}
	}

	resp, err := http.Get(url + "login")
	if err != nil {
		t.Fatalf("GET /login: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /login: status %d, want 200", resp.StatusCode)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run after cancel = %v, want nil", err)
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-store", "postgres"}, "needs -dsn"},
		{[]string{"-store", "mysql"}, `unknown store "mysql"; use one of: memory, postgres, redis`},
		{[]string{"-dsn", "x"}, "takes no -dsn"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-addr", "127.0.0.1:bad"}, `listening on "127.0.0.1:bad" failed`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			err := run(t.Context(), tt.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
	if err := run(t.Context(), []string{"-h"}, io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("run(-h) = %v, want flag.ErrHelp", err)
	}
}
