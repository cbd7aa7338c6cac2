#!/usr/bin/env bash
# Soak test: mixed load on loopback against Herald's release binary for
# SOAK_SECS (default 30 minutes), then the verdict: RSS over time, requests by
# kind and status, lost notifications (must be 0). The mix and its rates are
# documented at the top of bench/src/bin/soak.rs and printed by the run.
#
#   bash scripts/soak.sh                      # 30 minutes
#   SOAK_SECS=120 bash scripts/soak.sh        # a quick try (warm-up point scaled)
#
# Settings (environment):
#   SOAK_SECS    seconds of load                        (default 1800)
#   SOAK_USERS   accounts (one stream each, two for every 4th) (default 200)
#   PING_SECS    Herald's keep-alive period             (default 15)
#   HERALD_PORT  port on 127.0.0.1                      (default 3203)
#   HERALD_BIN   Herald binary                          (default ./target/release/herald)
#   OUT_DIR      if set, the report and Herald's log are copied there
#
# Herald runs with its default limits (sign-in failures, publishing, stream
# caps), on a fresh SQLite database in a temporary directory, without demo
# mode: the accounts are created with `herald user add --password-stdin`.
# Exit status: 0 pass, 3 the run completed but failed (see the report), 1 any
# other error.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PWD/tools/node_modules/.bin:$PATH"

SOAK_SECS="${SOAK_SECS:-1800}"
SOAK_USERS="${SOAK_USERS:-200}"
PING_SECS="${PING_SECS:-15}"
HERALD_PORT="${HERALD_PORT:-3203}"
HERALD_BIN="${HERALD_BIN:-./target/release/herald}"
OUT_DIR="${OUT_DIR:-}"
SOAK_BIN=bench/target/release/soak

log() { printf '[soak] %s\n' "$*" >&2; }
die() { printf '[soak] error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib/server.sh
source scripts/lib/server.sh # (the script has cd-ed to the repository root)

for v in SOAK_SECS SOAK_USERS PING_SECS HERALD_PORT; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
((SOAK_SECS >= 30)) || die "SOAK_SECS must be at least 30"

keep_results() {
    if [[ -n "$OUT_DIR" && -d "$WORK" ]]; then
        mkdir -p "$OUT_DIR"
        cp "$WORK"/report.md "$WORK"/herald.log "$OUT_DIR"/ 2>/dev/null || true
    fi
}
run_in_workdir soak

port_in_use "$HERALD_PORT" && die "127.0.0.1:$HERALD_PORT is already in use (set HERALD_PORT)"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# a. The soak client and Herald's release build.
log "building bench/ (soak)"
cargo build --release --quiet --manifest-path bench/Cargo.toml --bin soak
if [[ ! -x "$HERALD_BIN" ]]; then
    log "$HERALD_BIN missing: cargo leptos build --release"
    cargo leptos build --release
fi
"$HERALD_BIN" user add --help >/dev/null 2>&1 ||
    die "$HERALD_BIN has no 'user add' command: rebuild it (cargo leptos build --release)"

# b. A fresh database with the soak's accounts.
DATA="$WORK/data"
mkdir -p "$DATA"
export DATABASE_URL="sqlite://$DATA/herald.db"
HERALD_JWT_SECRET="$(random_secret)"
export HERALD_JWT_SECRET
export HERALD_PING_SECS="$PING_SECS"
export LEPTOS_SITE_ADDR="127.0.0.1:$HERALD_PORT"
export RUST_LOG="${RUST_LOG:-warn}"
unset HERALD_DEMO
SOAK_PASSWORD="$(random_secret)"
export SOAK_PASSWORD

add_user() { # name password [--admin]
    printf '%s' "$2" | "$HERALD_BIN" user add "$1" ${3:-} --password-stdin >>"$WORK/users.log" 2>&1 ||
        { tail -n 5 "$WORK/users.log" >&2; die "herald user add $1 failed"; }
}
log "creating $SOAK_USERS users, soak-admin and soak-decoy"
add_user soak-admin "$SOAK_PASSWORD" --admin
# Nobody knows the decoy's password: bad sign-ins aim there, so the real
# accounts are never throttled.
add_user soak-decoy "$(random_secret)"
for i in $(seq "$SOAK_USERS"); do
    add_user "soak$i" "$SOAK_PASSWORD"
done

# c. Serve, then load.
"$HERALD_BIN" >>"$WORK/herald.log" 2>&1 &
SERVER_PID=$!
wait_healthy "http://$LEPTOS_SITE_ADDR/healthz" ||
    die "herald did not become healthy (exited, or no answer /healthz within 30 s)"
log "herald pid $SERVER_PID on $LEPTOS_SITE_ADDR; load for $SOAK_SECS s (load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs)"

started=$(date +%s)
set +e
"$SOAK_BIN" --base-url "http://$LEPTOS_SITE_ADDR" --duration "$SOAK_SECS" --server-pid "$SERVER_PID" \
    --users "$SOAK_USERS" --user-prefix soak --admin soak-admin --decoy soak-decoy |
    tee "$WORK/report.md"
soak_rc=${PIPESTATUS[0]}
set -e
kill -0 "$SERVER_PID" 2>/dev/null || die "herald died during the soak"
stop_server
# Herald's log may be coloured: strip the escapes before counting.
sed -E 's/\x1b\[[0-9;]*m//g' "$WORK/herald.log" >"$WORK/herald.plain.log"
warnings=$(grep -c -E '(WARN|ERROR) ' "$WORK/herald.plain.log" || true)
printf '\n[soak] wall time %d s; herald log: %s warning/error lines' "$(($(date +%s) - started))" "$warnings" | tee -a "$WORK/report.md"
if ((warnings > 0)); then
    printf '; most frequent:\n' | tee -a "$WORK/report.md"
    grep -E '(WARN|ERROR) ' "$WORK/herald.plain.log" | sed -E 's/^[^ ]+ +//; s/[0-9]+/N/g' | cut -c1-200 |
        sort | uniq -c | sort -rn | head -n 8 | tee -a "$WORK/report.md"
else
    printf '\n' | tee -a "$WORK/report.md"
fi
exit "$soak_rc"
