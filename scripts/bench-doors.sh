#!/usr/bin/env bash
# What the embeddable bell's doors cost under a crowd (issue 18): Herald's
# release binary on a fresh SQLite database, a `users` key made with the
# CLI, then bench/'s `doors` (see its top comment): user tokens for USERS
# provisioned users, then at each level of concurrency (each request on a
# connection of its own) `GET /api/me` as the baseline, ticket requests,
# streams opened with those tickets, and as many ticket requests from one
# user (the per-user cap). Prints a Markdown table, the ratios against the
# baseline, and the level where a door breaks. Then the rows left at rest.
#
#   bash scripts/bench-doors.sh
#   LEVELS=500,1000 USERS=200 bash scripts/bench-doors.sh
#
# Settings (environment): LEVELS (default 500,1000,2000,4000,8000,16000), USERS
# (1000), HERALD_PORT (3206), HERALD_BIN (./target/release/herald).
# Exit status: 0 measured, 3 measured but a check failed, 1 any other error.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"

LEVELS="${LEVELS:-500,1000,2000,4000,8000,16000}"
USERS="${USERS:-1000}"
HERALD_PORT="${HERALD_PORT:-3206}"
HERALD_BIN="${HERALD_BIN:-./target/release/herald}"

log() { printf '[bench-doors] %s\n' "$*" >&2; }
die() { printf '[bench-doors] error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib/server.sh
source scripts/lib/server.sh

run_in_workdir bench-doors

port_in_use "$HERALD_PORT" && die "127.0.0.1:$HERALD_PORT is already in use (set HERALD_PORT)"
if [[ ! -x "$HERALD_BIN" ]]; then
    log "$HERALD_BIN missing: cargo build --release --features ssr --bin herald"
    cargo build --release --features ssr --bin herald
fi
log "building bench/ (doors)"
(cd bench && cargo build --release --quiet --bin doors)

export DATABASE_URL="sqlite://$WORK/herald.db"
export LEPTOS_SITE_ADDR="127.0.0.1:$HERALD_PORT"
export HERALD_JWT_SECRET="$(random_secret)"
export HERALD_ALLOWED_ORIGINS="http://127.0.0.1:1"
export RUST_LOG=warn
# Enough descriptors for the top level's connections, on both sides.
ulimit -n "$(ulimit -Hn)"
DOORS_KEY="$("$HERALD_BIN" key add doors --scope users | grep -o 'hrld_[0-9a-f_]*' | head -1)"
[[ -n "$DOORS_KEY" ]] || die "herald key add printed no key"
export DOORS_KEY

"$HERALD_BIN" >"$WORK/herald.log" 2>&1 &
SERVER_PID=$!
wait_healthy "http://$LEPTOS_SITE_ADDR/healthz" || die "herald did not become healthy"

set +e
bench/target/release/doors --url "http://$LEPTOS_SITE_ADDR" --pid "$SERVER_PID" \
    --users "$USERS" --levels "$LEVELS"
rc=$?
set -e
[[ $rc -eq 0 || $rc -eq 3 ]] || die "doors failed with status $rc"

echo
echo "Rows at rest right after the run (tickets expire in 30 s and are swept; user tokens in HERALD_USER_TOKEN_SECS):"
echo "- stream_tickets: $(sqlite3 "$WORK/herald.db" 'SELECT COUNT(*) FROM stream_tickets')"
echo "- sessions of user tokens: $(sqlite3 "$WORK/herald.db" 'SELECT COUNT(*) FROM sessions WHERE key_id IS NOT NULL')"
exit "$rc"
