package main

import "strings"

// browserNames maps a User-Agent product token to a browser name. Order
// matters: Edge and Opera also send "Chrome/", and Chrome also sends
// "Safari/".
var browserNames = []struct{ token, name string }{
	{"Edg/", "Edge"},
	{"OPR/", "Opera"},
	{"Firefox/", "Firefox"},
	{"HeadlessChrome/", "Chrome"},
	{"Chrome/", "Chrome"},
	{"Chromium/", "Chromium"},
	{"Safari/", "Safari"},
}

// systemNames maps a User-Agent platform token to an operating system.
// Android sends "Linux" too, and iOS sends "Mac OS X".
var systemNames = []struct{ token, name string }{
	{"Android", "Android"},
	{"iPhone", "iOS"},
	{"iPad", "iPadOS"},
	{"CrOS", "ChromeOS"},
	{"Windows", "Windows"},
	{"Mac OS X", "macOS"},
	{"Linux", "Linux"},
}

// deviceLabel names the browser for the trusted-devices list, such as
// "Firefox on Linux". The label is made only of fixed names, so nothing
// the client sends reaches the page or the store unchecked.
func deviceLabel(userAgent string) string {
	browser := firstMatch(userAgent, browserNames)
	system := firstMatch(userAgent, systemNames)
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "Browser on " + system
	}
	return "Unknown browser"
}

func firstMatch(s string, table []struct{ token, name string }) string {
	for _, e := range table {
		if strings.Contains(s, e.token) {
			return e.name
		}
	}
	return ""
}
