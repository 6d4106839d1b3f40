//go:build !race

package otpcode_test

const raceEnabled = false
