module github.com/twofactor-go/twofactor/examples/loginserver

go 1.26.0

require (
	github.com/chromedp/cdproto v0.160.1
	github.com/chromedp/chromedp v0.23.1
	github.com/jackc/pgx/v5 v5.13.0
	github.com/pquerna/otp v1.5.0
	github.com/redis/go-redis/v9 v9.23.0
	github.com/twofactor-go/twofactor v0.0.0
	golang.org/x/crypto v0.59.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)

require (
	github.com/boombuler/barcode v1.1.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/twofactor-go/twofactor/postgresstore v0.0.0
	github.com/twofactor-go/twofactor/redisstore v0.0.0
	golang.org/x/sys v0.50.0 // indirect
)

replace (
	github.com/twofactor-go/twofactor => ../../
	github.com/twofactor-go/twofactor/postgresstore => ../../postgresstore
	github.com/twofactor-go/twofactor/redisstore => ../../redisstore
)
