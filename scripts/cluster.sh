#!/usr/bin/env bash
# `make cluster`: Herald as a cluster on this machine, to try by hand.
# A throwaway PostgreSQL, three instances of the release build on it, and
# nginx in front load-balancing them, all on loopback, in one temp dir:
#
#   browser ─► nginx :8080 ─┬─► herald #1 ─┐
#                           ├─► herald #2 ─┼─► PostgreSQL (store and backplane)
#                           └─► herald #3 ─┘
#
# Installs PostgreSQL and nginx from apt when missing (their packaged
# services are never used: we run our own processes). Prints the URL and the
# demo accounts, then waits; Ctrl-C (or any exit) stops nginx, the instances
# and PostgreSQL and removes the temp dir (after a failure, all but the logs).
#
#   CLUSTER_PORT=9000 make cluster    # nginx's port (default 8080, or the first free one after it)
#   HERALD_BIN=path/to/herald         # another binary (default ./target/release/herald)
#   RUST_LOG=herald=debug             # the instances' log filter
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/lib/server.sh
source scripts/lib/server.sh # port_in_use, random_secret

INSTANCES=3
HERALD_BIN=${HERALD_BIN:-$ROOT/target/release/herald}
SITE_ROOT=${LEPTOS_SITE_ROOT:-$ROOT/target/site}

say() { printf '[cluster] %s\n' "$*"; }
die() {
    printf '[cluster] %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------- installs

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "need root to install $* (or install nginx and postgresql yourself)"
    fi
}

# Debian's postinst scripts start the packaged nginx (port 80) and
# PostgreSQL (5432) unless /usr/sbin/policy-rc.d says no. We never use them,
# so say no for the length of the install when nothing says so already.
apt_install() {
    local added=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
        added=1
    fi
    local rc=0
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || rc=$?
    if [ "$rc" = 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || rc=$?
    fi
    if [ -n "$added" ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
    return "$rc"
}

pg_bindir() {
    if [ -n "${HERALD_PG_BINDIR:-}" ]; then
        echo "$HERALD_PG_BINDIR"
        return
    fi
    for bin in /usr/lib/postgresql/*/bin; do
        if [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ]; then echo "$bin"; fi
    done | sort -V | tail -n 1
}

nginx_bin() {
    command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true
}

if [ -n "$(pg_bindir)" ]; then
    say "ok postgresql ($(pg_bindir))"
else
    say "installing postgresql from apt"
    apt_install postgresql
    [ -n "$(pg_bindir)" ] || die "postgresql installed, but no initdb/pg_ctl under /usr/lib/postgresql/*/bin"
fi
if [ -n "$(nginx_bin)" ]; then
    say "ok nginx ($(nginx_bin))"
else
    say "installing nginx from apt"
    apt_install nginx-light || apt_install nginx
    [ -n "$(nginx_bin)" ] || die "nginx installed, but not found"
fi
PG_BIN=$(pg_bindir)
NGINX=$(nginx_bin)
[ -x "$HERALD_BIN" ] || die "no $HERALD_BIN: build it first (make cluster does: cargo leptos build --release)"
[ -d "$SITE_ROOT/pkg" ] || die "no $SITE_ROOT/pkg: build it first (cargo leptos build --release)"

# ---------------------------------------------------------------- ports

# Ports already handed out in this run, so no two processes get the same one.
TAKEN=" "
free_port() {
    local port
    while :; do
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        case "$TAKEN" in *" $port "*) continue ;; esac
        TAKEN="$TAKEN$port "
        echo "$port"
        return
    done
}

if [ -n "${CLUSTER_PORT:-}" ]; then
    PORT=$CLUSTER_PORT
    port_in_use "$PORT" && die "CLUSTER_PORT=$PORT: something already listens on 127.0.0.1:$PORT"
else
    PORT=8080
    while port_in_use "$PORT"; do
        PORT=$((PORT + 1))
        [ "$PORT" -lt 8180 ] || die "no free port in 8080-8179: set CLUSTER_PORT"
    done
fi
TAKEN=" $PORT "
PG_PORT=$(free_port)
HERALD_PORTS=()
for _ in $(seq "$INSTANCES"); do HERALD_PORTS+=("$(free_port)"); done

# ---------------------------------------------------------------- cleanup

DIR=$(mktemp -d "${TMPDIR:-/tmp}/herald-cluster.XXXXXX")
# PostgreSQL runs as the postgres user when we are root: it must reach pg/.
chmod 711 "$DIR"
mkdir "$DIR/run" "$DIR/nginx"
PIDS=()
NGINX_STARTED=""
PG_STARTED=""
CLEANED=""
FAILED=""

as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

cleanup() {
    [ -z "$CLEANED" ] || return 0
    CLEANED=1
    trap '' INT TERM
    echo
    if [ -n "$NGINX_STARTED" ] && [ -s "$DIR/nginx/nginx.pid" ]; then
        say "stopping nginx"
        kill -QUIT "$(cat "$DIR/nginx/nginx.pid")" 2>/dev/null || true
    fi
    for i in "${!PIDS[@]}"; do
        say "stopping herald #$((i + 1)) (pid ${PIDS[$i]})"
        SERVER_PID=${PIDS[$i]}
        stop_server
    done
    if [ -n "$PG_STARTED" ]; then
        say "stopping PostgreSQL"
        as_pg "$PG_BIN/pg_ctl" stop -D "$DIR/pg/data" -m fast -w >/dev/null 2>&1 || true
    fi
    # nginx's master exits after its workers; give it a moment.
    for _ in $(seq 50); do
        [ -s "$DIR/nginx/nginx.pid" ] || break
        sleep 0.1
    done
    if [ -n "${KEEP_LOGS:-}" ]; then
        say "kept $DIR (KEEP_LOGS)"
    elif [ -n "$FAILED" ]; then
        # Keep the logs (and nginx.conf) to read; drop the database and the rest.
        rm -rf "$DIR/pg" "$DIR/run"
        find "$DIR/nginx" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
        say "logs kept in $DIR (remove it when done)"
    else
        rm -rf "$DIR"
        say "removed $DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# On a failure: where to look, before cleanup removes it.
fail() {
    FAILED=1
    say "$1"
    shift
    for log in "$@"; do
        say "--- last lines of $log"
        tail -n 20 "$log" 2>/dev/null || true
    done
    exit 1
}

# ---------------------------------------------------------------- PostgreSQL

say "temp dir $DIR"
mkdir "$DIR/pg"
touch "$DIR/postgres.log"
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root and there is no postgres user (PostgreSQL refuses to run as root)"
    chown postgres: "$DIR/pg" "$DIR/postgres.log"
fi
# Trust on loopback, no fsync: a throwaway for trying things, not for data.
as_pg "$PG_BIN/initdb" -D "$DIR/pg/data" -A trust -U postgres -E UTF8 --locale=C \
    --no-sync >"$DIR/initdb.log" 2>&1 || fail "initdb failed" "$DIR/initdb.log"
as_pg "$PG_BIN/pg_ctl" start -D "$DIR/pg/data" -w -t 60 -l "$DIR/postgres.log" \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$DIR/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >/dev/null 2>&1 </dev/null || fail "PostgreSQL would not start on 127.0.0.1:$PG_PORT" "$DIR/postgres.log"
PG_STARTED=1
"$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres herald 2>>"$DIR/postgres.log" ||
    fail "createdb failed" "$DIR/postgres.log"
DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/herald"
say "PostgreSQL on 127.0.0.1:$PG_PORT, database herald (log $DIR/postgres.log)"

# ---------------------------------------------------------------- instances

# One secret for all: a session signed by one instance is checked by another.
SECRET=$(random_secret)
# Started together on the empty database, as replicas of a deployment would
# be: migrations run once, the demo accounts are created once. They share
# a working directory (run/), so the demo export's CSV (under data/exports)
# can be fetched through any of them.
for i in $(seq "$INSTANCES"); do
    port=${HERALD_PORTS[$((i - 1))]}
    (
        cd "$DIR/run"
        # Its own session, so a Ctrl-C reaches this script only and the
        # cleanup stops things in order (nginx first; pg_ctl and nginx
        # detach their servers the same way).
        exec setsid env LEPTOS_SITE_ADDR="127.0.0.1:$port" \
            LEPTOS_SITE_ROOT="$SITE_ROOT" \
            DATABASE_URL="$DATABASE_URL" \
            HERALD_JWT_SECRET="$SECRET" \
            HERALD_DEMO=1 \
            HERALD_TRUSTED_PROXIES=127.0.0.1 \
            RUST_LOG="${RUST_LOG:-herald=info,tower_http=warn}" \
            "$HERALD_BIN"
    ) >"$DIR/herald-$i.log" 2>&1 &
    PIDS+=($!)
done
for i in $(seq "$INSTANCES"); do
    port=${HERALD_PORTS[$((i - 1))]}
    SERVER_PID=${PIDS[$((i - 1))]}
    wait_healthy "http://127.0.0.1:$port/healthz" ||
        fail "herald #$i did not come up on 127.0.0.1:$port" "$DIR/herald-$i.log"
    say "herald #$i on 127.0.0.1:$port (pid $SERVER_PID, log $DIR/herald-$i.log)"
done
SERVER_PID=""

# ---------------------------------------------------------------- nginx

servers=""
for port in "${HERALD_PORTS[@]}"; do servers+="        server 127.0.0.1:$port;"$'\n'; done
# The README's recipe ("Deploying behind a proxy"), load-balanced: pages
# and the API over kept-alive upstream connections; streams on an upstream
# without keepalive, so each is its connection's first request and gets
# Herald's lean path. The access log names the instance that answered.
# Host is passed with its port ($http_host; the recipe's $host drops it): on
# a port other than 80 the cross-site check compares it with Origin.
cat >"$DIR/nginx/nginx.conf" <<EOF
daemon on;
pid $DIR/nginx/nginx.pid;
error_log $DIR/nginx.log warn;
worker_processes 1;
events { worker_connections 4096; }
http {
    client_body_temp_path $DIR/nginx/client_body;
    proxy_temp_path $DIR/nginx/proxy;
    fastcgi_temp_path $DIR/nginx/fastcgi;
    uwsgi_temp_path $DIR/nginx/uwsgi;
    scgi_temp_path $DIR/nginx/scgi;
    log_format upstream '\$remote_addr "\$request" \$status \$body_bytes_sent '
                        'upstream=\$upstream_addr \$request_time s';
    access_log $DIR/nginx-access.log upstream;
    upstream herald {
$servers        keepalive 16;
    }
    upstream herald_sse {
$servers    }
    server {
        listen 127.0.0.1:$PORT;
        location / {
            proxy_pass http://herald;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        }
        location /sse/ {
            proxy_pass http://herald_sse;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_buffering off;          # Herald also sends X-Accel-Buffering: no
            proxy_cache off;
            proxy_read_timeout 1h;        # pings every 15 s keep the line warm
            gzip off;
        }
    }
}
EOF
"$NGINX" -t -q -e "$DIR/nginx.log" -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx" >"$DIR/nginx.log" 2>&1 ||
    fail "nginx rejected its configuration ($DIR/nginx/nginx.conf)" "$DIR/nginx.log"
"$NGINX" -e "$DIR/nginx.log" -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx" >>"$DIR/nginx.log" 2>&1 ||
    fail "nginx would not start on 127.0.0.1:$PORT" "$DIR/nginx.log"
NGINX_STARTED=1
SERVER_PID=$(cat "$DIR/nginx/nginx.pid")
wait_healthy "http://127.0.0.1:$PORT/healthz" ||
    fail "nginx does not answer on 127.0.0.1:$PORT" "$DIR/nginx.log"
SERVER_PID=""

cat <<EOF

  Herald cluster: $INSTANCES instances on one PostgreSQL, behind nginx

      http://127.0.0.1:$PORT

  Demo accounts (demo only), password herald-demo for each:
      admin (admin)   alice (user)   bob (user)
  Sign in as alice in one browser and as admin in another (or a private
  window), send an announcement from /admin, and watch alice's bell.

  Logs in $DIR:
      nginx-access.log (upstream= names the instance), nginx.log,
      herald-1.log … herald-$INSTANCES.log, postgres.log
  psql: $PG_BIN/psql -h 127.0.0.1 -p $PG_PORT -U postgres herald

  Ctrl-C stops everything and removes $DIR.

EOF

# Wait; if an instance dies, say so and stop the rest.
while :; do
    for i in "${!PIDS[@]}"; do
        if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
            fail "herald #$((i + 1)) exited" "$DIR/herald-$((i + 1)).log"
        fi
    done
    if ! kill -0 "$(cat "$DIR/nginx/nginx.pid" 2>/dev/null)" 2>/dev/null; then
        fail "nginx exited" "$DIR/nginx.log"
    fi
    sleep 1
done
