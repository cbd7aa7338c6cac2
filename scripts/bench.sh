#!/usr/bin/env bash
# Load benchmark: Herald's real SSE stream against a minimal axum SSE server,
# same load generator, same settings, same invocation; prints a Markdown
# table with the Herald/baseline ratios. One of four runs (MODE), which are
# tables 2-5 of `make bench` (table 1 is scripts/bench-broadcast.sh):
#
#   MODE=throughput bash scripts/bench.sh   # 2. 4 closed-loop publishers, 10 s, 1,000 streams
#   MODE=fanout bash scripts/bench.sh       # 3. 10,000 streams at 20 broadcasts/s for 60 s,
#                                           #    then a ramp 20, 50, 100… until not sustained
#   MODE=storm bash scripts/bench.sh        # 4. 10,000 streams over 1,000 users at 20/s; all
#                                           #    closed at once, reopened with Last-Event-ID
#   MODE=cluster bash scripts/bench.sh      # 5. 3,000 streams at 20/s spread over three Herald
#                                           #    instances on one throwaway PostgreSQL, publishes
#                                           #    spread over the three; the baseline is ONE Herald
#                                           #    on SQLite (not the axum server); then a ramp
#   MODE=fanout DURATION=10 RAMP= bash scripts/bench.sh    # a quicker table 3
#   SUBSCRIBERS=500 USERS=10 MODE=storm bash scripts/bench.sh   # a quick check
#
# Settings (environment; defaults per mode):
#   MODE         fanout | throughput | storm | cluster   (default fanout)
#   SUBSCRIBERS  SSE streams per server (a cluster: in all) (throughput, cluster 1000 / 3000,
#                else 10000)
#   USERS        Herald accounts the streams share  (storm 1000, else 100)
#   RATE         fanout, storm, cluster: publish rate, msg/s (default 20)
#   DURATION     fanout, cluster: seconds at RATE (default 60, cluster 15; MESSAGES = RATE × DURATION);
#                throughput: seconds of publishing (default 10)
#   MESSAGES     fanout, cluster: messages at RATE (overrides DURATION)
#   RAMP         fanout, cluster: rates of the ramp steps (default "20 50 100 200 400 800",
#                cluster "50 100 200 400"; empty: none)
#   STEP_SECS    fanout, cluster: seconds per ramp step (default 5, cluster 4)
#   INSTANCES    cluster: Herald instances on the PostgreSQL (default 3)
#   CLUSTER_PORT cluster: the first instance's port, the others follow (default 3211)
#   PG_FSYNC, PG_SYNCHRONOUS_COMMIT  cluster: PostgreSQL's durability (default off, on;
#                see scripts/lib/pg.sh); HERALD_PG_BINDIR: where initdb and pg_ctl are
#   RAMP_P99_MS  fanout: a step is sustained if sends kept 95% of its rate, every
#                delivery arrived and last-subscriber p99 <= this (default 1000)
#   PUBLISHERS   throughput: closed-loop publishers (default 4)
#   WARMUP       storm: seconds publishing before the storm   (default 3)
#   STORM_GAP    storm: seconds between closing and reopening (default 1)
#   STORM_TIMEOUT storm: limit to reconnect and catch up, s   (default 60)
#   RECONNECT_CONCURRENCY storm: reopenings in flight (default 0: all at once)
#   PING_SECS    Herald's keep-alive period         (default 15)
#   SOURCE_IPS   client source addresses 127.0.0.1..N (default 4)
#   CONNECT_CONCURRENCY  first stream openings in flight (default 100: the baseline
#                listens with tokio's default backlog of 128 (Herald: 4096),
#                and a burst past it costs dropped SYNs and 1 s retransmits,
#                which would then dominate its connect time)
#   BASELINE_PORT, HERALD_PORT                      (default 3201, 3202)
#   HERALD_BIN   Herald binary                      (default ./target/release/herald)
#   OUT_DIR      if set, the JSON results and the table are copied there
#
# In cluster mode stream k opens on instance k mod INSTANCES and message i is
# published through instance i mod INSTANCES (loadgen with several
# --base-url); the accounts are created and signed in once, on the shared
# database, and every instance uses the same HERALD_JWT_SECRET.
#
# Everything listens on and connects to 127.0.0.1 only. Exit status: 0 when
# both runs completed cleanly, 3 when a run completed but reported failures
# (lost or duplicated messages, streams that did not open or reopen, publish
# errors, resyncs outside the storm; the baseline's storm losses do not
# count: it cannot replay), 1 on any other error.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PWD/tools/node_modules/.bin:$PATH"

MODE="${MODE:-fanout}"
case "$MODE" in
fanout) def_subs=10000 def_users=100 def_duration=60 ;;
throughput) def_subs=1000 def_users=100 def_duration=10 ;;
storm) def_subs=10000 def_users=1000 def_duration=0 ;;
cluster) def_subs=3000 def_users=100 def_duration=15 ;;
*) printf '[bench] error: MODE must be fanout, throughput, storm or cluster, got %s\n' "$MODE" >&2; exit 1 ;;
esac
# The loadgen mode: a cluster run is a fanout run over several instances.
LOADGEN_MODE="$MODE"
[[ "$MODE" != cluster ]] || LOADGEN_MODE=fanout
SUBSCRIBERS="${SUBSCRIBERS:-$def_subs}"
USERS="${USERS:-$def_users}"
RATE="${RATE:-20}"
DURATION="${DURATION:-$def_duration}"
MESSAGES="${MESSAGES:-$(awk -v r="$RATE" -v d="$DURATION" 'BEGIN { m = int(r * d + 0.5); print (m > 0 ? m : 1) }')}"
if [[ "$MODE" == cluster ]]; then
    RAMP="${RAMP-50 100 200 400}"
    STEP_SECS="${STEP_SECS:-4}"
else
    RAMP="${RAMP-20 50 100 200 400 800}"
    STEP_SECS="${STEP_SECS:-5}"
fi
INSTANCES="${INSTANCES:-3}"
CLUSTER_PORT="${CLUSTER_PORT:-3211}"
RAMP_P99_MS="${RAMP_P99_MS:-1000}"
PUBLISHERS="${PUBLISHERS:-4}"
WARMUP="${WARMUP:-3}"
STORM_GAP="${STORM_GAP:-1}"
STORM_TIMEOUT="${STORM_TIMEOUT:-60}"
RECONNECT_CONCURRENCY="${RECONNECT_CONCURRENCY:-0}"
PING_SECS="${PING_SECS:-15}"
SOURCE_IPS="${SOURCE_IPS:-4}"
CONNECT_CONCURRENCY="${CONNECT_CONCURRENCY:-100}"
BASELINE_PORT="${BASELINE_PORT:-3201}"
HERALD_PORT="${HERALD_PORT:-3202}"
HERALD_BIN="${HERALD_BIN:-./target/release/herald}"
OUT_DIR="${OUT_DIR:-}"

BASELINE_BIN=bench/target/release/baseline
LOADGEN_BIN=bench/target/release/loadgen
# Whole loadgen run: up to 60 s per stream to open, the publishing (ramp
# and storm included), drains and RSS settling, with room to spare.
LOADGEN_TIMEOUT=$(awk -v m="$MESSAGES" -v r="$RATE" -v d="$DURATION" -v st="$STORM_TIMEOUT" -v ramp="$RAMP" -v ss="$STEP_SECS" \
    'BEGIN { n = split(ramp, a, /[ ,]+/); printf "%d", 240 + m / r + d + st + n * (ss + 12) }')

log() { printf '\n[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib/server.sh
source scripts/lib/server.sh # (the script has cd-ed to the repository root)
# shellcheck source=lib/pg.sh
source scripts/lib/pg.sh

for v in SUBSCRIBERS MESSAGES USERS PUBLISHERS PING_SECS SOURCE_IPS CONNECT_CONCURRENCY BASELINE_PORT HERALD_PORT INSTANCES CLUSTER_PORT; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
[[ "$RECONNECT_CONCURRENCY" =~ ^[0-9]+$ ]] || die "RECONNECT_CONCURRENCY must be an integer, got '$RECONNECT_CONCURRENCY'"
for v in RATE DURATION STEP_SECS RAMP_P99_MS WARMUP STORM_GAP STORM_TIMEOUT; do
    [[ "${!v}" =~ ^[0-9]*\.?[0-9]+$ ]] || die "$v must be a number, got '${!v}'"
done
for r in $RAMP; do
    [[ "$r" =~ ^[0-9]*\.?[0-9]+$ ]] || die "RAMP must be rates, got '$r'"
done

WORK="$(mktemp -d -t herald-bench.XXXXXX)"
# Other work on the machine skews every figure: the table quotes this.
LOAD_AT_START="$(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v l="${LOAD_AT_START%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
    printf '[bench] warning: load average is %s on %s CPUs; the figures will be skewed\n' \
        "$LOAD_AT_START" "$(nproc)" >&2
fi
SERVER_PID=""
# Herald processes running (one, or a cluster's instances).
HERALD_PIDS=()

# Stops every Herald process (and SERVER_PID).
stop_heralds() {
    local pid
    stop_server
    for pid in "${HERALD_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${HERALD_PIDS[@]}"; do
        SERVER_PID="$pid"
        stop_server
    done
    HERALD_PIDS=()
}

cleanup() {
    local rc=$?
    stop_heralds
    pg_stop
    if [[ $rc -ne 0 && $rc -ne 3 ]]; then
        for f in "$WORK"/*.log; do
            [[ -s "$f" ]] || continue
            printf '\n[bench] last lines of %s:\n' "$(basename "$f")" >&2
            tail -n 20 "$f" >&2
        done
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Both servers and the load generator may keep ~SUBSCRIBERS sockets open.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
need_fds=$((SUBSCRIBERS + 100))
have_fds="$(ulimit -n)"
if [[ "$have_fds" != unlimited ]] && ((have_fds < need_fds)); then
    die "SUBSCRIBERS=$SUBSCRIBERS needs about $need_fds open files per process, the limit is $have_fds"
fi
CLUSTER_PORTS=()
if [[ "$MODE" == cluster ]]; then
    for ((k = 0; k < INSTANCES; k++)); do CLUSTER_PORTS+=($((CLUSTER_PORT + k))); done
    PORTS=("$HERALD_PORT" "${CLUSTER_PORTS[@]}")
else
    PORTS=("$BASELINE_PORT" "$HERALD_PORT")
fi
for port in "${PORTS[@]}"; do
    port_in_use "$port" && die "127.0.0.1:$port is already in use (set BASELINE_PORT / HERALD_PORT / CLUSTER_PORT)"
done

# a. The bench tools.
log "building bench/ (baseline, loadgen)"
cargo build --release --quiet --manifest-path bench/Cargo.toml --bins

# b. Herald's release build.
if [[ ! -x "$HERALD_BIN" ]]; then
    log "$HERALD_BIN missing: cargo leptos build --release"
    cargo leptos build --release
fi

# c. The loadgen arguments of both runs (only the target differs).
MODE_ARGS=(--mode "$LOADGEN_MODE" --subscribers "$SUBSCRIBERS" --source-ips "$SOURCE_IPS"
    --connect-concurrency "$CONNECT_CONCURRENCY")
case "$LOADGEN_MODE" in
fanout)
    MODE_ARGS+=(--messages "$MESSAGES" --rate "$RATE" --step-secs "$STEP_SECS" --ramp-p99-ms "$RAMP_P99_MS")
    [[ -z "${RAMP// /}" ]] || MODE_ARGS+=(--ramp "$RAMP")
    ;;
throughput) MODE_ARGS+=(--publishers "$PUBLISHERS" --duration "$DURATION") ;;
storm)
    MODE_ARGS+=(--rate "$RATE" --warmup "$WARMUP" --storm-gap "$STORM_GAP" --storm-timeout "$STORM_TIMEOUT"
        --reconnect-concurrency "$RECONNECT_CONCURRENCY")
    ;;
esac

# Herald's settings, whatever the database.
HERALD_JWT_SECRET="$(random_secret)"
export HERALD_JWT_SECRET
export HERALD_DEMO=1
# The demo's week of notifications stays out of the figures.
export HERALD_DEMO_SEED=0
export HERALD_PING_SECS="$PING_SECS"
export HERALD_CLIENT_QUEUE=256
export RUST_LOG=warn
# The per-admin publish limit guards against runaway scripts; the benchmark
# is one on purpose, and measures the stream, not the limiter.
export HERALD_PUBLISH_PER_MINUTE=10000000
# The benchmark spreads SUBSCRIBERS streams over USERS accounts (100 or 10
# each by default), far past the per-account cap a real deployment wants
# (16); twice over, because in the storm a user's new streams may arrive
# before the server has seen its old ones close.
export HERALD_MAX_STREAMS_PER_USER=$(( 2 * ((SUBSCRIBERS + USERS - 1) / USERS) + 16 ))
BENCH_PASSWORD="$(random_secret)"
"$HERALD_BIN" user add --help >/dev/null 2>&1 ||
    die "$HERALD_BIN has no 'user add' command: rebuild it (cargo leptos build --release)"
add_user() { printf '%s' "$BENCH_PASSWORD" | "$HERALD_BIN" user add "bench$1" --password-stdin; }
export -f add_user
export BENCH_PASSWORD HERALD_BIN

# Starts one Herald process on 127.0.0.1:$1 (on DATABASE_URL), waits until
# it answers; its pid is added to HERALD_PIDS.
start_herald() {
    LEPTOS_SITE_ADDR="127.0.0.1:$1" "$HERALD_BIN" >>"$WORK/herald-$1.log" 2>&1 &
    SERVER_PID=$!
    HERALD_PIDS+=("$SERVER_PID")
    wait_healthy "http://127.0.0.1:$1/healthz" || die "herald on 127.0.0.1:$1 did not become healthy (exited, or no answer within 30 s)"
    SERVER_PID=""
}

# One Herald run: $1 names it (herald, single, cluster: its JSON is
# $WORK/$1.json, its status in RUN_RC), the rest are the ports of its
# instances; DATABASE_URL is set and empty. Any further loadgen arguments
# come from RUN_EXTRA.
RUN_EXTRA=()
run_herald() {
    local name="$1"
    shift
    local ports=("$@") port urls=() pids
    rm -f "$WORK/users.log"
    log "$name: creating $USERS bench users"
    # The first one alone (it applies the migrations to the empty database), then
    # four at a time: each `user add` is a process and an argon2 hash (~30 ms).
    { add_user 1 && seq 2 "$USERS" | xargs -r -P 4 -I{} bash -c 'add_user "$1"' _ {}; } >>"$WORK/users.log" 2>&1 ||
        die "herald user add failed (see users.log above)"
    [[ $(grep -c '^added ' "$WORK/users.log") -eq $USERS ]] || die "not every bench user was added (see users.log above)"

    # Sign in on a first server process, then measure fresh ones: each
    # sign-in runs argon2 (~19 MiB per hash), and the allocator keeps that heap,
    # which would both inflate the "before" RSS and be reused by the streams,
    # hiding their real cost. Sessions live in the database and the JWT secret
    # is fixed (and shared by a cluster's instances), so the tokens stay valid
    # across the restart and on every instance.
    log "$name: starting on 127.0.0.1:${ports[0]} to sign in $USERS bench users and the demo admin"
    start_herald "${ports[0]}"
    BENCH_PASSWORD="$BENCH_PASSWORD" python3 - "http://127.0.0.1:${ports[0]}" "$USERS" "$WORK/tokens.txt" "$WORK/admin-token.txt" <<'PY'
import json, os, sys, urllib.request

base, users, tokens_path, admin_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

def login(name, password):
    req = urllib.request.Request(
        base + "/api/auth/login",
        data=json.dumps({"username": name, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)["token"]

password = os.environ["BENCH_PASSWORD"]
# Each sign-in is an argon2 verification on the server: a few in flight.
from concurrent.futures import ThreadPoolExecutor
with ThreadPoolExecutor(4) as pool:
    tokens = list(pool.map(lambda i: login(f"bench{i}", password), range(1, users + 1)))
with open(tokens_path, "w") as f:
    f.writelines(t + "\n" for t in tokens)
with open(admin_path, "w") as f:
    f.write(login("admin", "herald-demo"))
PY
    stop_heralds

    log "$name: starting ${#ports[@]} instance(s) for the measured run: ports ${ports[*]}"
    for port in "${ports[@]}"; do
        start_herald "$port"
        urls+=("http://127.0.0.1:$port")
    done
    pids="$(IFS=,; echo "${HERALD_PIDS[*]}")"
    local cmd=("$LOADGEN_BIN" --target herald --base-url "$(IFS=,; echo "${urls[*]}")"
        "${MODE_ARGS[@]}" "${RUN_EXTRA[@]}" --server-pid "$pids" --tokens-file "$WORK/tokens.txt"
        --json-out "$WORK/$name.json")
    log "$name: ${cmd[*]} --admin-token <admin token>"
    cmd+=(--admin-token "$(cat "$WORK/admin-token.txt")")
    RUN_RC=0
    timeout "$LOADGEN_TIMEOUT" "${cmd[@]}" || RUN_RC=$?
    stop_heralds
    [[ $RUN_RC -eq 0 || $RUN_RC -eq 3 ]] || die "loadgen ($name) failed with status $RUN_RC"
}

# One SQLite database in $WORK/$1/ for the next run.
use_sqlite() {
    mkdir -p "$WORK/$1"
    export DATABASE_URL="sqlite://$WORK/$1/herald.db"
}

if [[ "$MODE" == cluster ]]; then
    # d. The reference: ONE Herald on SQLite, the same load.
    use_sqlite single
    run_herald single "$HERALD_PORT"
    baseline_rc=$RUN_RC

    # e. The cluster: INSTANCES Herald processes on one fresh PostgreSQL.
    log "cluster: starting a throwaway PostgreSQL"
    pg_start herald || die "PostgreSQL did not start"
    log "cluster: PostgreSQL (pid $PG_PID) on 127.0.0.1:$PG_PORT, $PG_SETTINGS"
    export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/herald"
    RUN_EXTRA=(--db-pid "$PG_PID")
    run_herald cluster "${CLUSTER_PORTS[@]}"
    herald_rc=$RUN_RC
    RUN_EXTRA=()
    pg_stop
    TARGET_JSON="$WORK/cluster.json" BASE_JSON="$WORK/single.json"
else
    # d. Baseline runs (the same loadgen arguments as Herald's, but the
    # target): as it is, then with Herald-sized data (--padded), so that the
    # client reads as many bytes from both and its cost is not the difference.
    run_baseline() { # name, extra loadgen arguments…
        local name="$1" rc=0
        shift
        log "$name: starting on 127.0.0.1:$BASELINE_PORT"
        "$BASELINE_BIN" --addr "127.0.0.1:$BASELINE_PORT" >"$WORK/$name.log" 2>&1 &
        SERVER_PID=$!
        wait_healthy "http://127.0.0.1:$BASELINE_PORT/healthz" || die "$name did not become healthy (exited, or no answer within 30 s)"
        local cmd=("$LOADGEN_BIN" --target baseline --base-url "http://127.0.0.1:$BASELINE_PORT"
            "${MODE_ARGS[@]}" "$@" --server-pid "$SERVER_PID" --json-out "$WORK/$name.json")
        log "$name: ${cmd[*]}"
        timeout "$LOADGEN_TIMEOUT" "${cmd[@]}" || rc=$?
        stop_server
        [[ $rc -eq 0 || $rc -eq 3 ]] || die "loadgen ($name) failed with status $rc"
        [[ $rc -eq 0 ]] || baseline_rc=$rc
    }
    baseline_rc=0
    run_baseline baseline
    run_baseline baseline-padded --padded

    # e. Herald run, on a fresh database.
    use_sqlite data
    run_herald herald "$HERALD_PORT"
    herald_rc=$RUN_RC
    TARGET_JSON="$WORK/herald.json" BASE_JSON="$WORK/baseline.json"
    PADDED_JSON="$WORK/baseline-padded.json"
fi

# f. The comparison.
case "$MODE" in
fanout | cluster) mode_settings="MESSAGES=$MESSAGES RATE=$RATE RAMP=\"$RAMP\" STEP_SECS=$STEP_SECS RAMP_P99_MS=$RAMP_P99_MS" ;;
throughput) mode_settings="PUBLISHERS=$PUBLISHERS DURATION=$DURATION" ;;
storm) mode_settings="RATE=$RATE WARMUP=$WARMUP STORM_GAP=$STORM_GAP STORM_TIMEOUT=$STORM_TIMEOUT RECONNECT_CONCURRENCY=$RECONNECT_CONCURRENCY" ;;
esac
[[ "$MODE" != cluster ]] || mode_settings+=" INSTANCES=$INSTANCES PG_FSYNC=${PG_FSYNC:-off} PG_SYNCHRONOUS_COMMIT=${PG_SYNCHRONOUS_COMMIT:-on}"
command_line="MODE=$MODE SUBSCRIBERS=$SUBSCRIBERS USERS=$USERS $mode_settings PING_SECS=$PING_SECS SOURCE_IPS=$SOURCE_IPS CONNECT_CONCURRENCY=$CONNECT_CONCURRENCY bash scripts/bench.sh"
REPORT_ARGS=()
[[ "$MODE" != cluster ]] || REPORT_ARGS=(--cluster)
[[ -z "${PADDED_JSON:-}" ]] || REPORT_ARGS=(--padded "$PADDED_JSON")
BENCH_LOAD_AT_START="$LOAD_AT_START" BENCH_PG_SETTINGS="$PG_SETTINGS" \
    python3 bench/report.py "${REPORT_ARGS[@]}" "$TARGET_JSON" "$BASE_JSON" "$command_line" |
    tee "$WORK/table.md"

if [[ -n "$OUT_DIR" ]]; then
    mkdir -p "$OUT_DIR"
    cp "$TARGET_JSON" "$BASE_JSON" ${PADDED_JSON:+"$PADDED_JSON"} "$WORK/table.md" "$OUT_DIR/"
    log "results copied to $OUT_DIR"
fi

if [[ $herald_rc -ne 0 || $baseline_rc -ne 0 ]]; then
    log "a run reported failures (see the table): exit 3"
    exit 3
fi
