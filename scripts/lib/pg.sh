# A throwaway PostgreSQL for the benchmark (sourced, not run), started the way
# the tests start theirs (tests/integration/pg.rs): initdb into a temporary
# directory (as the `postgres` user when run as root: PostgreSQL refuses to run
# as root), trust authentication, a free loopback port, the Unix socket in the
# cluster's own directory. Callers read PG_PORT, PG_PID (the postmaster) and
# PG_SETTINGS (what the table quotes), and call pg_stop on the way out.
#
# PG_FSYNC (default off) and PG_SYNCHRONOUS_COMMIT (default on, PostgreSQL's
# own default) are the durability settings: with fsync=off a commit still
# waits for its WAL to be written, but nothing is flushed to the disk.

PG_DIR=""
PG_PORT=""
PG_PID=""
PG_BIN=""
PG_SETTINGS=""

# The newest /usr/lib/postgresql/<n>/bin with initdb and pg_ctl, else PATH's;
# HERALD_PG_BINDIR overrides (as for the tests).
pg_find_bin() {
    local dir
    if [[ -n "${HERALD_PG_BINDIR:-}" ]]; then
        [[ -x "$HERALD_PG_BINDIR/initdb" && -x "$HERALD_PG_BINDIR/pg_ctl" ]] && { echo "$HERALD_PG_BINDIR"; return 0; }
        return 1
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && { echo "$dir"; return 0; }
    done
    dir="$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/pg_ctl)")"
    [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && { echo "$dir"; return 0; }
    return 1
}

# Runs a PostgreSQL program as the cluster's owner.
pg_as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Starts the cluster and creates database $1; prints nothing, fails with a line.
pg_start() {
    local db="$1" opts log
    PG_BIN="$(pg_find_bin)" || { printf '[bench] error: PostgreSQL not found (no initdb/pg_ctl under /usr/lib/postgresql/*/bin; scripts/install-tools.sh --test installs it)\n' >&2; return 1; }
    if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        printf '[bench] error: running as root and there is no postgres user to run PostgreSQL\n' >&2
        return 1
    fi
    PG_DIR="$(mktemp -d -t herald-bench-pg.XXXXXX)"
    [[ $(id -u) -ne 0 ]] || chown postgres: "$PG_DIR"
    (cd "$PG_DIR" && pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 \
        --locale=C --no-sync --no-instructions >"$PG_DIR/initdb.log" 2>&1) ||
        { printf '[bench] error: initdb failed:\n' >&2; tail -n 5 "$PG_DIR/initdb.log" >&2; return 1; }
    PG_SETTINGS="fsync=${PG_FSYNC:-off} synchronous_commit=${PG_SYNCHRONOUS_COMMIT:-on} max_connections=300"
    local try
    for try in 1 2 3 4 5; do
        PG_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
        opts="-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_DIR"
        opts+=" -c fsync=${PG_FSYNC:-off} -c synchronous_commit=${PG_SYNCHRONOUS_COMMIT:-on} -c max_connections=300"
        log="$PG_DIR/log"
        if (cd "$PG_DIR" && pg_as_owner "$PG_BIN/pg_ctl" start -D "$PG_DIR/data" -w -t 60 -o "$opts" -l "$log" \
            </dev/null >/dev/null 2>&1); then
            PG_PID="$(head -n 1 "$PG_DIR/data/postmaster.pid")"
            (cd "$PG_DIR" && pg_as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$db") ||
                { printf '[bench] error: createdb %s failed\n' "$db" >&2; return 1; }
            return 0
        fi
    done
    printf '[bench] error: PostgreSQL would not start:\n' >&2
    tail -n 5 "$PG_DIR/log" >&2 2>/dev/null || true
    return 1
}

# Stops the cluster at once and removes its directory (safe to call twice).
pg_stop() {
    [[ -n "$PG_DIR" ]] || return 0
    if [[ -f "$PG_DIR/data/postmaster.pid" ]]; then
        (cd "$PG_DIR" && pg_as_owner "$PG_BIN/pg_ctl" stop -D "$PG_DIR/data" -m immediate >/dev/null 2>&1) || true
    fi
    rm -rf "$PG_DIR"
    PG_DIR=""
    PG_PID=""
}
