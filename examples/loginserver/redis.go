package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/twofactor-go/twofactor"
	"github.com/twofactor-go/twofactor/redisstore"
)

func init() { storeOpeners["redis"] = openRedisStore }

// openRedisStore connects to the Redis server of dsn, either a URL such as
// redis://127.0.0.1:6379/0 or a plain host:port. Redis expires records by
// itself, so there is nothing to run in the background.
func openRedisStore(dsn string) (twofactor.Store, func(), error) {
	if dsn == "" {
		return nil, nil, fmt.Errorf("twofactor: the redis store needs -dsn, for example 127.0.0.1:6379")
	}
	opts := &redis.Options{Addr: dsn}
	if strings.Contains(dsn, "://") {
		var err error
		if opts, err = redis.ParseURL(dsn); err != nil {
			return nil, nil, fmt.Errorf("twofactor: invalid Redis URL: %w", err)
		}
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("twofactor: connecting to Redis at %s failed: %w", opts.Addr, err)
	}
	st, err := redisstore.New(client)
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	return st, func() { client.Close() }, nil
}
