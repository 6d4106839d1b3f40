// Package devicecookie sets and reads the cookie that carries a trusted
// device token over HTTP. It is an optional helper: the twofactor package
// itself never touches HTTP, and a host may carry the token any other way.
//
// The cookie is HttpOnly, Secure unless [Options.Insecure] is set,
// SameSite=Lax by default, and expires with the token, so that a browser
// deletes it when the server would reject it anyway.
package devicecookie

import (
	"net/http"
	"time"
)

// DefaultName is the cookie name when [Options.Name] is empty.
const DefaultName = "twofactor_device"

// Options are the cookie attributes. The zero value is a secure default
// for a site served over HTTPS.
type Options struct {
	// Name of the cookie. Empty means DefaultName.
	Name string

	// Path of the cookie. Empty means "/".
	Path string

	// Domain of the cookie. Empty means the host that set it, without
	// subdomains.
	Domain string

	// SameSite mode. Zero means http.SameSiteLaxMode, which still sends
	// the cookie when the user follows a link to the sign-in page.
	SameSite http.SameSite

	// Insecure leaves out the Secure attribute, for development over
	// plain HTTP on localhost only.
	Insecure bool
}

func (o Options) cookie(value string) *http.Cookie {
	c := &http.Cookie{
		Name:     o.Name,
		Value:    value,
		Path:     o.Path,
		Domain:   o.Domain,
		HttpOnly: true,
		Secure:   !o.Insecure,
		SameSite: o.SameSite,
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Path == "" {
		c.Path = "/"
	}
	if c.SameSite == 0 {
		c.SameSite = http.SameSiteLaxMode
	}
	return c
}

// Set adds the cookie with a device token from
// twofactor.Result.DeviceToken, expiring at expires, which is
// twofactor.Result.DeviceExpires. The cookie's Max-Age is counted from
// time.Now, so a Manager on a test clock far from the wall clock gives a
// cookie that has already expired.
func Set(w http.ResponseWriter, token string, expires time.Time, o Options) {
	c := o.cookie(token)
	c.Expires = expires.UTC()
	c.MaxAge = max(int(time.Until(expires)/time.Second), 1)
	http.SetCookie(w, c)
}

// Read returns the device token from the request's cookie, or "" when
// there is none. Pass it as twofactor.Login.DeviceToken; the library checks
// it.
func Read(r *http.Request, o Options) string {
	c, err := r.Cookie(o.cookie("").Name)
	if err != nil {
		return ""
	}
	return c.Value
}

// Clear asks the browser to delete the cookie, for example when the user
// revokes the device or signs out everywhere.
func Clear(w http.ResponseWriter, o Options) {
	c := o.cookie("")
	c.MaxAge = -1
	c.Expires = time.Unix(0, 0)
	http.SetCookie(w, c)
}
