module github.com/twofactor-go/twofactor

go 1.26.0

require (
	github.com/boombuler/barcode v1.1.0
	github.com/pquerna/otp v1.5.0
	golang.org/x/crypto v0.59.0
)

require golang.org/x/sys v0.50.0 // indirect
