#!/usr/bin/env bash
# `make example`: Herald's bell on another origin, to try by hand.
#   Herald (demo mode, a throwaway database)   http://127.0.0.1:$HERALD_PORT (3000)
#   the example host app (examples/host-page)  http://127.0.0.1:$EXAMPLE_PORT (3001)
# Herald allows the host's origin (HERALD_ALLOWED_ORIGINS); the host holds a
# service key (scope `users`) made here with `herald key add`, and mints user
# tokens with it. Ctrl-C stops both and removes the temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/lib/server.sh
source scripts/lib/server.sh # port_in_use, wait_healthy, stop_server

HERALD_PORT=${HERALD_PORT:-3000}
EXAMPLE_PORT=${EXAMPLE_PORT:-3001}
HERALD_BIN=${HERALD_BIN:-$ROOT/target/release/herald}
say() { printf '[example] %s\n' "$*"; }

for port in "$HERALD_PORT" "$EXAMPLE_PORT"; do
    if port_in_use "$port"; then
        say "127.0.0.1:$port is taken (HERALD_PORT=… EXAMPLE_PORT=… pick others)" >&2
        exit 1
    fi
done
[ -f clients/js/dist/herald-inbox.js ] || { say "clients/js/dist is missing: make js-build" >&2; exit 1; }

TMP=$(mktemp -d)
SERVER_PID=""
HOST_PID=""
cleanup() {
    [ -n "$HOST_PID" ] && kill "$HOST_PID" 2>/dev/null || true
    stop_server
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export DATABASE_URL="sqlite://$TMP/herald.db"
export HERALD_DEMO=1
HERALD_URL="http://127.0.0.1:$HERALD_PORT"
EXAMPLE_ORIGIN="http://127.0.0.1:$EXAMPLE_PORT"

say "starting Herald on $HERALD_URL (allowing $EXAMPLE_ORIGIN)"
LEPTOS_SITE_ADDR="127.0.0.1:$HERALD_PORT" HERALD_ALLOWED_ORIGINS="$EXAMPLE_ORIGIN" \
    "$HERALD_BIN" >"$TMP/herald.log" 2>&1 &
SERVER_PID=$!
wait_healthy "$HERALD_URL/healthz" || { tail -n 20 "$TMP/herald.log" >&2; exit 1; }

KEY=$("$HERALD_BIN" key add "example-host-$$" --scope users)
say "made a service key (scope users) for the host app"

HERALD_URL="$HERALD_URL" HERALD_KEY="$KEY" PORT="$EXAMPLE_PORT" \
    node examples/host-page/server.mjs &
HOST_PID=$!
SERVER_PID_SAVED=$SERVER_PID
SERVER_PID=$HOST_PID wait_healthy "$EXAMPLE_ORIGIN/healthz" || exit 1
SERVER_PID=$SERVER_PID_SAVED

say "open $EXAMPLE_ORIGIN/?as=alice  (the host app, another origin, with Herald's bell)"
say "send from $HERALD_URL/admin  (admin / herald-demo)  — Ctrl-C stops both"
wait "$HOST_PID"
