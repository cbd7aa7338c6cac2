#!/usr/bin/env bash
# Table 6 of `make bench`: the page in a real Chromium. A release Herald on a
# fresh demo database (127.0.0.1 only); alice signs in, loads / with an empty
# cache, then again in the same browser context; end2end/page-bytes.mjs
# prints the bundle's bytes over the wire on each visit (target: 0 on the
# repeat one) and each bundle file's size as brotli, gzip and identity. A
# few seconds.
#
# Settings (environment):
#   PAGE_PORT    Herald's port                      (default 3204)
#   HERALD_BIN   Herald binary                      (default ./target/release/herald;
#                its hash.txt beside it, the site in LEPTOS_SITE_ROOT or target/site)
#   OUT_DIR      if set, the JSON results and the table are copied there
#
# Exit status: 0 measured, 3 measured but the repeat visit downloaded some of
# the bundle again, 1 on any other error.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PAGE_PORT="${PAGE_PORT:-3204}"
HERALD_BIN="${HERALD_BIN:-./target/release/herald}"
OUT_DIR="${OUT_DIR:-}"

log() { printf '\n[bench-page] %s\n' "$*" >&2; }
die() { printf '[bench-page] error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib/server.sh
source scripts/lib/server.sh

[[ -x "$HERALD_BIN" ]] || die "$HERALD_BIN missing: make build"
[[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium missing: ./scripts/install-tools.sh --test"
[[ -d end2end/node_modules/@playwright/test ]] || die "Playwright missing: ./scripts/install-tools.sh --test"
port_in_use "$PAGE_PORT" && die "127.0.0.1:$PAGE_PORT is already in use (set PAGE_PORT)"

run_in_workdir bench-page

log "starting $HERALD_BIN on 127.0.0.1:$PAGE_PORT (demo accounts, fresh database)"
DATABASE_URL="sqlite://$WORK/herald.db" HERALD_DEMO=1 HERALD_DEMO_SEED=0 RUST_LOG=warn \
    LEPTOS_SITE_ADDR="127.0.0.1:$PAGE_PORT" "$HERALD_BIN" >>"$WORK/herald.log" 2>&1 &
SERVER_PID=$!
wait_healthy "http://127.0.0.1:$PAGE_PORT/healthz" || die "herald did not become healthy"

rc=0
(cd end2end && node page-bytes.mjs "http://127.0.0.1:$PAGE_PORT" "$WORK/page.json") | tee "$WORK/table.md" || rc=$?

if [[ -n "$OUT_DIR" && -s "$WORK/page.json" ]]; then
    mkdir -p "$OUT_DIR"
    cp "$WORK/page.json" "$WORK/table.md" "$OUT_DIR/"
    log "results copied to $OUT_DIR"
fi
exit "$rc"
