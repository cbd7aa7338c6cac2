#!/usr/bin/env bash
# Broadcast cost by number of registered users: for each size N, a fresh
# SQLite database with N accounts, Herald's release binary on it, K
# broadcasts to everyone through POST /api/sse/broadcast; prints a Markdown
# table of request time, database growth, bytes and rows written per
# broadcast, against the floor measured in the same invocation: one
# transaction inserting one row of the same content. With the event log
# (docs/event-log.md) a broadcast is one log entry: flat in N. About a
# minute, most of it seeding the million accounts.
#
#   bash scripts/bench-broadcast.sh                          # 1k … 1M users, 20 broadcasts each
#   SIZES="1000 10000" bash scripts/bench-broadcast.sh
#
# Settings (environment):
#   SIZES         registered users per run        (default "1000 10000 100000 1000000")
#   BROADCASTS    broadcasts per size              (default 20)
#   SIZE_TIMEOUT  seconds allowed for one size's setup, run and floor (default 1200)
#   HERALD_PORT   port on 127.0.0.1                (default 3204)
#   HERALD_BIN    Herald binary                    (default ./target/release/herald)
#   OUT_DIR       if set, the JSON results and the table are copied there
#
# The N accounts are inserted with sqlite3 in one statement, all sharing the
# admin's argon2 hash (N argon2 runs would take hours at 1M); the admin is
# created with `herald user add --admin --password-stdin`, which also applies
# Herald's migrations to the empty database (store::open runs them, as
# serving does). A size whose estimated disk use exceeds the free space is
# skipped. Exit status: 0 when every size was measured, 3 when some were
# skipped or timed out, 1 on any other error.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"

SIZES="${SIZES:-1000 10000 100000 1000000}"
BROADCASTS="${BROADCASTS:-20}"
SIZE_TIMEOUT="${SIZE_TIMEOUT:-1200}"
HERALD_PORT="${HERALD_PORT:-3204}"
HERALD_BIN="${HERALD_BIN:-./target/release/herald}"
OUT_DIR="${OUT_DIR:-}"

log() { printf '[bench-broadcast] %s\n' "$*" >&2; }
die() { printf '[bench-broadcast] error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib/server.sh
source scripts/lib/server.sh # (the script has cd-ed to the repository root)

for v in BROADCASTS SIZE_TIMEOUT HERALD_PORT; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
[[ -n "${SIZES// /}" ]] || die "SIZES is empty"
for n in $SIZES; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "SIZES must be positive integers, got '$n'"
done

run_in_workdir bench-broadcast

port_in_use "$HERALD_PORT" && die "127.0.0.1:$HERALD_PORT is already in use (set HERALD_PORT)"

# a. Tools: the sqlite3 CLI (bulk insert) and Herald's release binary. The
# API needs no page assets, so a plain cargo build is enough.
if ! command -v sqlite3 >/dev/null; then
    log "sqlite3 missing: apt-get install -y sqlite3"
    apt-get install -y sqlite3 >/dev/null || { apt-get update >/dev/null && apt-get install -y sqlite3 >/dev/null; }
fi
if [[ ! -x "$HERALD_BIN" ]]; then
    log "$HERALD_BIN missing: cargo build --release --features ssr --bin herald"
    cargo build --release --features ssr --bin herald
fi
"$HERALD_BIN" user add --help >/dev/null 2>&1 ||
    die "$HERALD_BIN has no 'user add' command: rebuild it"

HERALD_JWT_SECRET="$(random_secret)"
export HERALD_JWT_SECRET
export LEPTOS_SITE_ADDR="127.0.0.1:$HERALD_PORT"
export RUST_LOG="${RUST_LOG:-warn}"
unset HERALD_DEMO
# The per-admin publish limit guards against runaway scripts; the benchmark
# is one on purpose, and measures the broadcast, not the limiter.
export HERALD_PUBLISH_PER_MINUTE=$((BROADCASTS + 1200))
ADMIN_PASSWORD="$(random_secret)"

# Disk a size needs, generously: ~200 B per account, and per broadcast one
# notification row per account (~0.5 KB with its index entries) twice over
# (the WAL holds a copy until checkpointed), plus 1 GB to spare.
# Accounts (~200 B) and their three channel spans (~150 B) each, the broadcasts (a few KB
# each whatever N), and headroom for the WAL and the floor run.
needed_bytes() { echo $(($1 * 350 + BROADCASTS * 100000 + 1000000000)); }

status=0
measure_size() { # N: returns non-zero if the size could not be measured
    local n="$1" dir="$WORK/n$1"
    mkdir -p "$dir"
    export DATABASE_URL="sqlite://$dir/herald.db"
    local deadline=$((SECONDS + SIZE_TIMEOUT))
    left() { local l=$((deadline - SECONDS)); ((l > 0)) && echo "$l" || echo 1; }

    log "N=$n: admin account (applies the migrations), then $n users with sqlite3"
    printf '%s' "$ADMIN_PASSWORD" | timeout "$(left)" "$HERALD_BIN" user add bench-admin --admin --password-stdin \
        >>"$WORK/users.log" 2>&1 || { tail -n 5 "$WORK/users.log" >&2; return 1; }
    # One statement, one transaction: every account shares the admin's hash.
    timeout "$(left)" sqlite3 "$dir/herald.db" >/dev/null <<SQL || return 1
PRAGMA busy_timeout = 5000;
BEGIN;
INSERT INTO users (username, password_hash, role, created_at)
WITH RECURSIVE i(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM i WHERE k < $n)
SELECT 'user' || k, (SELECT password_hash FROM users WHERE username = 'bench-admin'), 'user',
       CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM i;
-- What Herald's store does when it adds a user (store::log::join): the
-- channels all, role:user and their own, from the log's head (empty here).
INSERT INTO subscriptions (user_id, channel, from_pos)
SELECT id, 'all', 0 FROM users WHERE username GLOB 'user[0-9]*'
UNION ALL SELECT id, 'role:user', 0 FROM users WHERE username GLOB 'user[0-9]*'
UNION ALL SELECT id, 'user:' || id, 0 FROM users WHERE username GLOB 'user[0-9]*';
INSERT INTO user_cursors (user_id) SELECT id FROM users WHERE username GLOB 'user[0-9]*';
INSERT INTO channels (name) VALUES ('all'), ('role:user') ON CONFLICT (name) DO NOTHING;
UPDATE channels SET members = members + $n WHERE name IN ('all', 'role:user');
INSERT INTO channels (name, members) SELECT 'user:' || id, 1 FROM users WHERE username GLOB 'user[0-9]*';
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL

    "$HERALD_BIN" >>"$WORK/herald.log" 2>&1 &
    SERVER_PID=$!
    wait_healthy "http://$LEPTOS_SITE_ADDR/healthz" || { log "N=$n: herald did not become healthy"; return 1; }
    local token
    token="$(ADMIN_PASSWORD="$ADMIN_PASSWORD" timeout "$(left)" python3 - "http://$LEPTOS_SITE_ADDR" <<'PY'
import json, os, sys, urllib.request
req = urllib.request.Request(
    sys.argv[1] + "/api/auth/login",
    data=json.dumps({"username": "bench-admin", "password": os.environ["ADMIN_PASSWORD"]}).encode(),
    headers={"Content-Type": "application/json"},
)
with urllib.request.urlopen(req, timeout=30) as resp:
    print(json.load(resp)["token"])
PY
)" || return 1
    log "N=$n: $BROADCASTS broadcasts"
    timeout "$(left)" python3 bench/broadcast.py herald "http://$LEPTOS_SITE_ADDR" "$dir/herald.db" \
        "$SERVER_PID" "$token" "$n" "$BROADCASTS" "$WORK/herald-$n.json" || return 1
    stop_server
    log "N=$n: floor, one-row transactions on the same file"
    timeout "$(left)" python3 bench/broadcast.py floor "$dir/herald.db" "$n" "$BROADCASTS" \
        "$WORK/floor-$n.json" || return 1
}

not_measured() { # N why: a row in the table rather than a silent gap
    python3 -c 'import json, sys; json.dump({"kind": "missing", "n": int(sys.argv[1]), "why": sys.argv[2]}, open(sys.argv[3], "w"))' \
        "$1" "$2" "$WORK/missing-$1.json"
}

for n in $SIZES; do
    free=$(($(df -P -B1 "$WORK" | awk 'NR == 2 { print $4 }')))
    need=$(needed_bytes "$n")
    if ((need > free)); then
        log "N=$n: skipped, needs about $((need / 1000000)) MB, $((free / 1000000)) MB free"
        not_measured "$n" "skipped: needs about $((need / 1000000)) MB of disk, $((free / 1000000)) MB free"
        status=3
        continue
    fi
    if ! measure_size "$n"; then
        log "N=$n: not measured (failed or over SIZE_TIMEOUT=$SIZE_TIMEOUT s)"
        rm -f "$WORK/herald-$n.json" "$WORK/floor-$n.json"
        not_measured "$n" "not measured: failed or over SIZE_TIMEOUT=$SIZE_TIMEOUT s (see the log)"
        status=3
    fi
    stop_server
    rm -rf "$WORK/n$n"
done

shopt -s nullglob
results=("$WORK"/herald-*.json "$WORK"/floor-*.json "$WORK"/missing-*.json)
command_line="SIZES=\"$SIZES\" BROADCASTS=$BROADCASTS bash scripts/bench-broadcast.sh"
python3 bench/broadcast.py report "$command_line" "${results[@]}" | tee "$WORK/table.md"

if [[ -n "$OUT_DIR" ]]; then
    mkdir -p "$OUT_DIR"
    cp "$WORK"/*.json "$WORK/table.md" "$OUT_DIR/"
    log "results copied to $OUT_DIR"
fi
exit "$status"
