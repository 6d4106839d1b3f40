package devicecookie_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twofactor-go/twofactor/devicecookie"
)

func TestSetAttributes(t *testing.T) {
	tests := []struct {
		name string
		opts devicecookie.Options
		want []string
		not  []string
	}{
		{"defaults", devicecookie.Options{}, []string{"twofactor_device=tok", "Path=/", "HttpOnly", "Secure", "SameSite=Lax", "Max-Age="}, []string{"Domain="}},
		{"insecure", devicecookie.Options{Insecure: true, Name: "dev", Path: "/app", SameSite: http.SameSiteStrictMode}, []string{"dev=tok", "Path=/app", "HttpOnly", "SameSite=Strict"}, []string{"Secure"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			devicecookie.Set(rec, "tok", time.Now().Add(14*24*time.Hour), tt.opts)
			got := rec.Header().Get("Set-Cookie")
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Set-Cookie %q lacks %q", got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("Set-Cookie %q contains %q", got, n)
				}
			}
		})
	}
}

func TestSetExpiryMatchesToken(t *testing.T) {
	rec := httptest.NewRecorder()
	expires := time.Now().Add(14 * 24 * time.Hour).Truncate(time.Second)
	devicecookie.Set(rec, "tok", expires, devicecookie.Options{})
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("%d cookies, want 1", len(cookies))
	}
	c := cookies[0]
	if !c.Expires.Equal(expires) {
		t.Errorf("Expires = %v, want %v", c.Expires, expires)
	}
	if d := time.Duration(c.MaxAge)*time.Second - 14*24*time.Hour; d > time.Second || d < -2*time.Second {
		t.Errorf("MaxAge = %d, want about 14 days", c.MaxAge)
	}
}

func TestReadAndClear(t *testing.T) {
	req := httptest.NewRequest("GET", "/", nil)
	if got := devicecookie.Read(req, devicecookie.Options{}); got != "" {
		t.Errorf("Read without a cookie = %q, want empty", got)
	}
	req.AddCookie(&http.Cookie{Name: devicecookie.DefaultName, Value: "tok"})
	if got := devicecookie.Read(req, devicecookie.Options{}); got != "tok" {
		t.Errorf("Read = %q, want %q", got, "tok")
	}
	rec := httptest.NewRecorder()
	devicecookie.Clear(rec, devicecookie.Options{})
	if got := rec.Header().Get("Set-Cookie"); !strings.Contains(got, "Max-Age=0") || !strings.Contains(got, "twofactor_device=") {
		t.Errorf("Clear Set-Cookie = %q, want an expired cookie", got)
	}
}
