package keyuri_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/pquerna/otp"

	"github.com/twofactor-go/twofactor/internal/keyuri"
)

// testSecret is the RFC 4226 test key "12345678901234567890" in base32.
const testSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

var roundTripNames = []struct {
	name  string
	value string
}{
	{"plain", "Acme"},
	{"space", "Acme Corp"},
	{"ampersand", "Smith & Sons"},
	{"plus", "a+b"},
	{"slash", "a/b"},
	{"percent", "100% secure"},
	{"percent escape", "a%20b"},
	{"hash", "a#b"},
	{"question mark", "a?b"},
	{"equals", "a=b"},
	{"at", "alice@example.com"},
	{"latin accents", "Zoë Müller"},
	{"CJK", "東京"},
	{"emoji", "🔐 Vault"},
	{"mixed", "a b+c&d/e%f#g"},
	{"unreserved", "A-z.0_9~"},
	{"leading space", " x "},
}

// namePairs returns the issuer and account name pairs tested for value: the
// value in each field alone and in both.
func namePairs(value string) [][2]string {
	return [][2]string{
		{value, "alice@example.com"},
		{"Acme", value},
		{value, value},
	}
}

// parsedURI is a key URI split into its parts, decoded in the three ways
// that apps use.
type parsedURI struct {
	pathIssuer, pathAccount     string // Go's url.Parse path decoding
	strictIssuer, strictAccount string // url.PathUnescape of the raw label
	formQuery                   url.Values
	strictQuery                 map[string]string
}

func parseKeyURI(t *testing.T, uri string) parsedURI {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", uri, err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" {
		t.Fatalf("url.Parse(%q) scheme, host = %q, %q; want otpauth, totp", uri, u.Scheme, u.Host)
	}
	var p parsedURI

	path := strings.TrimPrefix(u.Path, "/")
	var ok bool
	p.pathIssuer, p.pathAccount, ok = strings.Cut(path, ":")
	if !ok {
		t.Fatalf("decoded path %q of %q has no ':'", u.Path, uri)
	}

	rawLabel, _, _ := strings.Cut(strings.TrimPrefix(uri, "otpauth://totp/"), "?")
	label, err := url.PathUnescape(rawLabel)
	if err != nil {
		t.Fatalf("url.PathUnescape(%q): %v", rawLabel, err)
	}
	p.strictIssuer, p.strictAccount, ok = strings.Cut(label, ":")
	if !ok {
		t.Fatalf("label %q of %q has no ':'", label, uri)
	}

	p.formQuery, err = url.ParseQuery(u.RawQuery)
	if err != nil {
		t.Fatalf("url.ParseQuery(%q): %v", u.RawQuery, err)
	}
	p.strictQuery = parseQueryStrict(t, u.RawQuery)
	return p
}

// parseQueryStrict splits a raw query on '&' and '=' and decodes each value
// with url.PathUnescape, where '+' stays a plus sign. Like url.ParseQuery,
// it reads a parameter without '=' as a key with an empty value. For a key
// that appears twice, the first value wins.
func parseQueryStrict(t *testing.T, rawQuery string) map[string]string {
	t.Helper()
	values := make(map[string]string)
	for pair := range strings.SplitSeq(rawQuery, "&") {
		key, rawValue, _ := strings.Cut(pair, "=")
		value, err := url.PathUnescape(rawValue)
		if err != nil {
			t.Fatalf("url.PathUnescape(%q): %v", rawValue, err)
		}
		if _, ok := values[key]; !ok {
			values[key] = value
		}
	}
	return values
}

func TestBuildRoundTrip(t *testing.T) {
	for _, tc := range roundTripNames {
		for _, pair := range namePairs(tc.value) {
			issuer, account := pair[0], pair[1]
			t.Run(tc.name+"/"+issuer+":"+account, func(t *testing.T) {
				uri, err := keyuri.Build(keyuri.Params{Issuer: issuer, AccountName: account, Secret: testSecret})
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				checkURIChars(t, uri)
				p := parseKeyURI(t, uri)

				checkEqual(t, "url.Parse path issuer", p.pathIssuer, issuer)
				checkEqual(t, "url.Parse path account", p.pathAccount, account)
				checkEqual(t, "strict label issuer", p.strictIssuer, issuer)
				checkEqual(t, "strict label account", p.strictAccount, account)
				checkEqual(t, "form query issuer", p.formQuery.Get("issuer"), issuer)
				checkEqual(t, "strict query issuer", p.strictQuery["issuer"], issuer)
				checkEqual(t, "form query secret", p.formQuery.Get("secret"), testSecret)
				checkEqual(t, "strict query secret", p.strictQuery["secret"], testSecret)
				if n := strings.Count(uri, "&") + 1; n != 2 {
					t.Errorf("query of %q has %d parameters; want 2 (secret, issuer)", uri, n)
				}
			})
		}
	}
}

func checkEqual(t *testing.T, decoding, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q; want %q", decoding, got, want)
	}
}

// checkURIChars fails if uri contains a character that one of the two
// decodings would read differently or that a QR reader could mangle.
func checkURIChars(t *testing.T, uri string) {
	t.Helper()
	for i := 0; i < len(uri); i++ {
		c := uri[i]
		if c == ' ' || c == '+' || c < 0x20 || c >= 0x7f {
			t.Errorf("URI %q contains byte %q at %d; want it percent-encoded", uri, c, i)
		}
	}
}

func TestBuildExactURI(t *testing.T) {
	tests := []struct {
		name   string
		params keyuri.Params
		want   string
	}{
		{
			name:   "defaults omitted",
			params: keyuri.Params{Issuer: "Acme", AccountName: "alice@example.com", Secret: testSecret},
			want:   "otpauth://totp/Acme:alice%40example.com?secret=" + testSecret + "&issuer=Acme",
		},
		{
			name: "explicit defaults omitted",
			params: keyuri.Params{Issuer: "Acme", AccountName: "alice", Secret: testSecret,
				Algorithm: "SHA1", Digits: 6, Period: 30},
			want: "otpauth://totp/Acme:alice?secret=" + testSecret + "&issuer=Acme",
		},
		{
			name: "all non-default",
			params: keyuri.Params{Issuer: "Acme", AccountName: "alice", Secret: testSecret,
				Algorithm: "SHA256", Digits: 8, Period: 60},
			want: "otpauth://totp/Acme:alice?secret=" + testSecret + "&issuer=Acme&algorithm=SHA256&digits=8&period=60",
		},
		{
			name:   "SHA512 only",
			params: keyuri.Params{Issuer: "Acme", AccountName: "alice", Secret: testSecret, Algorithm: "SHA512"},
			want:   "otpauth://totp/Acme:alice?secret=" + testSecret + "&issuer=Acme&algorithm=SHA512",
		},
		{
			name:   "digits only",
			params: keyuri.Params{Issuer: "Acme", AccountName: "alice", Secret: testSecret, Digits: 8},
			want:   "otpauth://totp/Acme:alice?secret=" + testSecret + "&issuer=Acme&digits=8",
		},
		{
			name:   "period only",
			params: keyuri.Params{Issuer: "Acme", AccountName: "alice", Secret: testSecret, Period: 15},
			want:   "otpauth://totp/Acme:alice?secret=" + testSecret + "&issuer=Acme&period=15",
		},
		{
			name:   "escaped names",
			params: keyuri.Params{Issuer: "Zoë & Co", AccountName: "a b+c", Secret: "MZXW6"},
			want:   "otpauth://totp/Zo%C3%AB%20%26%20Co:a%20b%2Bc?secret=MZXW6&issuer=Zo%C3%AB%20%26%20Co",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := keyuri.Build(tc.params)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if got != tc.want {
				t.Errorf("Build =\n  %s\nwant\n  %s", got, tc.want)
			}
		})
	}
}

func TestBuildRejects(t *testing.T) {
	valid := keyuri.Params{Issuer: "Acme", AccountName: "alice", Secret: testSecret}
	tests := []struct {
		name    string
		modify  func(p *keyuri.Params)
		wantErr string
	}{
		{"issuer colon", func(p *keyuri.Params) { p.Issuer = "Acme:Corp" },
			`twofactor: issuer "Acme:Corp" contains ':'; remove it`},
		{"account colon", func(p *keyuri.Params) { p.AccountName = "alice:admin" },
			`twofactor: account name "alice:admin" contains ':'; remove it`},
		{"issuer empty", func(p *keyuri.Params) { p.Issuer = "" },
			"twofactor: issuer is missing; set Params.Issuer"},
		{"account empty", func(p *keyuri.Params) { p.AccountName = "" },
			"twofactor: account name is missing; set Params.AccountName"},
		{"issuer newline", func(p *keyuri.Params) { p.Issuer = "Acme\nCorp" },
			`twofactor: issuer "Acme\nCorp" contains a control character; remove it`},
		{"account DEL", func(p *keyuri.Params) { p.AccountName = "alice\x7f" },
			`twofactor: account name "alice\x7f" contains a control character; remove it`},
		{"account C1 control", func(p *keyuri.Params) { p.AccountName = "alice\u0085" },
			`twofactor: account name "alice\u0085" contains a control character; remove it`},
		{"issuer invalid UTF-8", func(p *keyuri.Params) { p.Issuer = "Acme\xff" },
			`twofactor: issuer "Acme\xff" is not valid UTF-8`},
		{"account invalid UTF-8", func(p *keyuri.Params) { p.AccountName = "\xc3" },
			`twofactor: account name "\xc3" is not valid UTF-8`},
		{"secret empty", func(p *keyuri.Params) { p.Secret = "" },
			"twofactor: secret is missing; set Params.Secret"},
		{"algorithm MD5", func(p *keyuri.Params) { p.Algorithm = "MD5" },
			`twofactor: algorithm "MD5" is not supported; use SHA1, SHA256 or SHA512`},
		{"algorithm lower case", func(p *keyuri.Params) { p.Algorithm = "sha256" },
			`twofactor: algorithm "sha256" is not supported; use SHA1, SHA256 or SHA512`},
		{"digits 5", func(p *keyuri.Params) { p.Digits = 5 },
			"twofactor: digits 5 is out of range; use 6 to 10"},
		{"digits 11", func(p *keyuri.Params) { p.Digits = 11 },
			"twofactor: digits 11 is out of range; use 6 to 10"},
		{"digits negative", func(p *keyuri.Params) { p.Digits = -6 },
			"twofactor: digits -6 is out of range; use 6 to 10"},
		{"period negative", func(p *keyuri.Params) { p.Period = -30 },
			"twofactor: period -30 is negative; use a positive number of seconds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := valid
			tc.modify(&p)
			uri, err := keyuri.Build(p)
			if err == nil {
				t.Fatalf("Build(%+v) = %q, nil; want error %q", p, uri, tc.wantErr)
			}
			if err.Error() != tc.wantErr {
				t.Errorf("Build error = %q; want %q", err, tc.wantErr)
			}
		})
	}
}

func TestBuildRejectsSecret(t *testing.T) {
	tests := []struct {
		name   string
		secret string
	}{
		{"lower case", "gezdgnbvgy3tqojq"},
		{"padding", "MZXW6==="},
		{"digit 1", "MZXW1"},
		{"digit 8", "MZXW8YTB"},
		{"space", "MZXW 6YTB"},
		{"length 1", "M"},
		{"length 3", "MZX"},
		{"length 6", "MZXW6Y"},
		{"length 9", "MZXW6YTBM"},
		{"nonzero trailing bits", "MZXW7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := keyuri.Params{Issuer: "Acme", AccountName: "alice", Secret: tc.secret}
			uri, err := keyuri.Build(p)
			if err == nil {
				t.Fatalf("Build with secret %q = %q, nil; want error", tc.secret, uri)
			}
			if !strings.HasPrefix(err.Error(), "twofactor: secret is not") {
				t.Errorf("Build error = %q; want prefix %q", err, "twofactor: secret is not")
			}
			if strings.Contains(err.Error(), tc.secret) {
				t.Errorf("Build error %q contains the secret", err)
			}
		})
	}
}

func TestBuildAcceptsSecretLengths(t *testing.T) {
	// Canonical encodings of 1 to 5 bytes end at each valid length.
	for _, secret := range []string{"ME", "MFRA", "MFRGG", "MFRGGZA", "MFRGGZDF", "MFRGGZDFMY"} {
		p := keyuri.Params{Issuer: "Acme", AccountName: "alice", Secret: secret}
		if _, err := keyuri.Build(p); err != nil {
			t.Errorf("Build with secret of length %d: %v", len(secret), err)
		}
	}
}

// TestBuildPquernaParse checks that github.com/pquerna/otp v1.5.0, whose
// parser uses Go's url package, reads back every field.
func TestBuildPquernaParse(t *testing.T) {
	options := []struct {
		algorithm     string
		digits        int
		period        int
		wantAlgorithm otp.Algorithm
		wantDigits    otp.Digits
		wantPeriod    uint64
	}{
		{"", 0, 0, otp.AlgorithmSHA1, otp.DigitsSix, 30},
		{"SHA256", 8, 60, otp.AlgorithmSHA256, otp.DigitsEight, 60},
		{"SHA512", 7, 15, otp.AlgorithmSHA512, otp.Digits(7), 15},
	}
	for _, tc := range roundTripNames {
		for _, pair := range namePairs(tc.value) {
			for _, opt := range options {
				p := keyuri.Params{
					Issuer: pair[0], AccountName: pair[1], Secret: testSecret,
					Algorithm: opt.algorithm, Digits: opt.digits, Period: opt.period,
				}
				uri, err := keyuri.Build(p)
				if err != nil {
					t.Fatalf("Build(%+v): %v", p, err)
				}
				key, err := otp.NewKeyFromURL(uri)
				if err != nil {
					t.Fatalf("otp.NewKeyFromURL(%q): %v", uri, err)
				}
				if got := key.Type(); got != "totp" {
					t.Errorf("%s: Type() = %q; want totp", uri, got)
				}
				if got := key.Issuer(); got != p.Issuer {
					t.Errorf("%s: Issuer() = %q; want %q", uri, got, p.Issuer)
				}
				if got := key.AccountName(); got != p.AccountName {
					t.Errorf("%s: AccountName() = %q; want %q", uri, got, p.AccountName)
				}
				if got := key.Secret(); got != testSecret {
					t.Errorf("%s: Secret() = %q; want %q", uri, got, testSecret)
				}
				if got := key.Algorithm(); got != opt.wantAlgorithm {
					t.Errorf("%s: Algorithm() = %v; want %v", uri, got, opt.wantAlgorithm)
				}
				if got := key.Digits(); got != opt.wantDigits {
					t.Errorf("%s: Digits() = %v; want %v", uri, got, opt.wantDigits)
				}
				if got := key.Period(); got != opt.wantPeriod {
					t.Errorf("%s: Period() = %d; want %d", uri, got, opt.wantPeriod)
				}
			}
		}
	}
}

func FuzzBuild(f *testing.F) {
	for _, tc := range roundTripNames {
		f.Add(tc.value, "alice@example.com")
	}
	f.Add("Acme:Corp", "alice")
	f.Add("Acme", "a\x00b")
	f.Add("\xff", "\u0085")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, issuer, account string) {
		uri, err := keyuri.Build(keyuri.Params{Issuer: issuer, AccountName: account, Secret: testSecret})
		if err != nil {
			if validName(issuer) && validName(account) {
				t.Fatalf("Build(%q, %q): %v; want success for valid names", issuer, account, err)
			}
			return
		}
		if !validName(issuer) || !validName(account) {
			t.Fatalf("Build(%q, %q) = %q; want error for invalid name", issuer, account, uri)
		}
		checkURIChars(t, uri)
		p := parseKeyURI(t, uri)
		checkEqual(t, "url.Parse path issuer", p.pathIssuer, issuer)
		checkEqual(t, "url.Parse path account", p.pathAccount, account)
		checkEqual(t, "strict label issuer", p.strictIssuer, issuer)
		checkEqual(t, "strict label account", p.strictAccount, account)
		checkEqual(t, "form query issuer", p.formQuery.Get("issuer"), issuer)
		checkEqual(t, "strict query issuer", p.strictQuery["issuer"], issuer)
		checkEqual(t, "strict query secret", p.strictQuery["secret"], testSecret)
	})
}

// validName reports whether Build must accept s as an issuer or account
// name. It restates the rules independently of the package.
func validName(s string) bool {
	if s == "" || !utf8ValidNoControl(s) {
		return false
	}
	return !strings.Contains(s, ":")
}

func utf8ValidNoControl(s string) bool {
	for i, r := range s {
		if r == '\uFFFD' && !strings.HasPrefix(s[i:], "\uFFFD") {
			return false // invalid UTF-8 byte
		}
		if r < 0x20 || (0x7f <= r && r <= 0x9f) {
			return false
		}
	}
	return true
}
