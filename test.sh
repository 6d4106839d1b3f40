#!/usr/bin/env bash
# Runs go vet and the tests, with the race detector, in every module of
# the repository. Tests that need PostgreSQL, Redis, oathtool, zbarimg or
# Chromium skip with a message naming what enables them, unless CI=true.
set -euo pipefail
cd "$(dirname "$0")"

modules=(. postgresstore redisstore examples/loginserver)
status=0
for module in "${modules[@]}"; do
	[ -f "$module/go.mod" ] || continue
	echo "== $module"
	if ! (cd "$module" && go vet ./... && go test -race -count=1 "$@" ./...); then
		status=1
	fi
done
exit $status
