#!/usr/bin/env bash
# `make screenshots`: the README's screenshots (docs/screenshots/*.png, tracked)
# of the seeded demo (issue 19), so the README shows what a first look shows.
#   - a fresh release Herald in demo mode WITH its week of notifications
#     (HERALD_DEMO_SEED=1), on a throwaway SQLite database, 127.0.0.1, a free port;
#   - the example host app (examples/host-page) on a second free port, an origin
#     Herald allows, holding a service key made here (embed-host-page.png);
#   - end2end/screenshots.mjs drives Chromium through both and writes the PNGs.
# Both servers are stopped and the temp dir removed on every exit, failure or
# Ctrl-C included. cluster.png is not made here: `make cluster`, then
# end2end/cluster-try.mjs.
#
# Settings (environment):
#   HERALD_BIN   Herald binary (default ./target/release/herald; its hash.txt
#                beside it, the site in LEPTOS_SITE_ROOT or ./target/site)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

HERALD_BIN="${HERALD_BIN:-./target/release/herald}"
OUT=docs/screenshots

say() { printf '[screenshots] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
# shellcheck source=lib/server.sh
source scripts/lib/server.sh # wait_healthy, stop_server, show_log_on_failure

# A port nothing listens on now (the kernel's pick): the run never collides
# with `make run` on :3000 or the suite's server on :3100.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

[[ -x "$HERALD_BIN" ]] || die "$HERALD_BIN missing: make build"
[[ -d "${LEPTOS_SITE_ROOT:-target/site}/pkg" ]] || die "${LEPTOS_SITE_ROOT:-target/site}/pkg missing: make build"
[[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium missing: ./scripts/install-tools.sh --test"
[[ -d end2end/node_modules/@playwright/test ]] || die "Playwright missing: ./scripts/install-tools.sh --test"

WORK="$(mktemp -d -t herald-shots.XXXXXX)"
SERVER_PID=""
HOST_PID=""
cleanup() {
    local rc=$?
    if [[ -n "$HOST_PID" ]]; then
        kill "$HOST_PID" 2>/dev/null || true
        wait "$HOST_PID" 2>/dev/null || true
    fi
    stop_server
    show_log_on_failure "$rc" screenshots "$WORK/herald.log"
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

HERALD_PORT="$(free_port)"
HOST_PORT="$(free_port)"
[[ "$HOST_PORT" != "$HERALD_PORT" ]] || HOST_PORT="$(free_port)"
HERALD_URL="http://127.0.0.1:$HERALD_PORT"
HOST_URL="http://127.0.0.1:$HOST_PORT"
export DATABASE_URL="sqlite://$WORK/herald.db"
export HERALD_DEMO=1
# The seed runs once, on the empty log this fresh database has.
export HERALD_DEMO_SEED=1

say "starting $HERALD_BIN on $HERALD_URL (demo mode, seeded, fresh database)"
LEPTOS_SITE_ADDR="127.0.0.1:$HERALD_PORT" HERALD_ALLOWED_ORIGINS="$HOST_URL" RUST_LOG=warn \
    "$HERALD_BIN" >>"$WORK/herald.log" 2>&1 &
SERVER_PID=$!
wait_healthy "$HERALD_URL/healthz" || die "herald did not become healthy"

KEY="$("$HERALD_BIN" key add "screenshots-host" --scope users 2>>"$WORK/herald.log")"
say "starting the example host app on $HOST_URL"
HERALD_URL="$HERALD_URL" HERALD_KEY="$KEY" PORT="$HOST_PORT" \
    node examples/host-page/server.mjs >>"$WORK/host.log" 2>&1 &
HOST_PID=$!
# wait_healthy watches SERVER_PID for an early exit: the host's, here.
SERVER_PID="$HOST_PID" wait_healthy "$HOST_URL/healthz" || { cat "$WORK/host.log" >&2; die "the host app did not start"; }

(cd end2end && node screenshots.mjs "$HERALD_URL" "$HOST_URL" "../$OUT")

say "git status of $OUT:"
git status --short -- "$OUT"
