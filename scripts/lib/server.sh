# Shared by the benchmark and soak scripts (sourced, not run): starting and
# stopping one server process on loopback. Callers set SERVER_PID.

# True when something already listens on 127.0.0.1:$1.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

random_secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(36))'; }

# Waits up to 30 s for $1 to answer 2xx; fails at once if SERVER_PID exits.
wait_healthy() {
    local url="$1"
    for _ in $(seq 300); do
        curl -sf --max-time 1 "$url" >/dev/null 2>&1 && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# Stops SERVER_PID: SIGTERM, 10 s to exit cleanly, then SIGKILL.
stop_server() {
    local pid="$SERVER_PID"
    SERVER_PID=""
    [[ -n "$pid" ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# After a failed run (exit status other than 0 or 3, "measured, but a check
# failed"), the end of the server's log, so the failure explains itself.
show_log_on_failure() { # rc name log
    if [[ $1 -ne 0 && $1 -ne 3 && -s "$3" ]]; then
        printf '\n[%s] last lines of %s:\n' "$2" "$(basename "$3")" >&2
        tail -n 20 "$3" >&2
    fi
}

# A run in a scratch folder: sets WORK (a new temporary folder) and
# SERVER_PID, and at exit stops the server, runs the caller's keep_results
# if it defines one, shows the end of $WORK/herald.log after a failure,
# removes WORK and keeps the exit status. $1: the script's name, for the
# folder's and the messages'.
run_in_workdir() { # name
    RUN_NAME="$1"
    WORK="$(mktemp -d -t "herald-$1.XXXXXX")"
    SERVER_PID=""
    trap end_run EXIT
    trap 'exit 130' INT TERM
}

end_run() {
    local rc=$?
    stop_server
    if declare -F keep_results >/dev/null; then keep_results; fi
    show_log_on_failure "$rc" "$RUN_NAME" "$WORK/herald.log"
    rm -rf "$WORK"
    exit "$rc"
}
