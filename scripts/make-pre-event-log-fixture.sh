#!/usr/bin/env bash
# Generates the fixture for the event-log conversion (docs/event-log.md §6):
# a database made by the pre-event-log Herald (per-recipient copies in
# `notifications`), and what that Herald's API said about it.
#
#   bash scripts/make-pre-event-log-fixture.sh [path/to/old/herald]
#
# The binary defaults to ../herald-old (a release build of the last commit
# before the rewrite). It is served on a free port of 127.0.0.1 with a temp
# SQLite file, driven over HTTP (and its CLI for accounts), then:
#   tests/fixtures/pre_event_log.sql            `sqlite3 .dump` of that database
#   tests/fixtures/pre_event_log.expected.json  inboxes, unread counts, history
# Both are committed; tests/integration/migration.rs never runs the old binary.
# Run it again only to regenerate them (ids and times will differ, the values
# the test compares will not).
#
# Every account's password is $PASSWORD (also written into expected.json).
# Needs curl, jq, sqlite3, python3 (for a free port).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
OLD="$(realpath "${1:-../herald-old}")"
[ -x "$OLD" ] || { echo "no old herald binary at $OLD" >&2; exit 1; }
for tool in curl jq sqlite3 python3; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done

PASSWORD=herald-demo
OUT=tests/fixtures
mkdir -p "$OUT"
WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
export DATABASE_URL="sqlite://$WORK/herald.db"
export HERALD_JWT_SECRET="fixture-secret-fixture-secret-fixture!!"
export LEPTOS_SITE_ADDR="127.0.0.1:$PORT"
export HERALD_DEMO=0
export HERALD_SCHEDULER_MS=100 # scheduled sends and expiry within a tenth of a second
export HERALD_EXPORT_STEP_MS=10
export RUST_LOG=warn
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

log() { printf '[fixture] %s\n' "$*" >&2; }

# --- accounts (CLI, as an operator would) ---
add_user() { # name [--admin]
    echo "$PASSWORD" | "$OLD" user add "$1" ${2:-} --password-stdin >&2
}
set_role() { "$OLD" user set-role "$1" "$2" >&2; }

# --- HTTP ---
declare -A TOKEN
login() {
    TOKEN[$1]="$(curl -sf "$BASE/api/auth/login" -H 'content-type: application/json' \
        -d "$(jq -nc --arg u "$1" --arg p "$PASSWORD" '{username: $u, password: $p}')" | jq -r .token)"
}
api() { # user method path [json body]
    local user=$1 method=$2 path=$3
    shift 3
    curl -sf -X "$method" "$BASE$path" -H "authorization: Bearer ${TOKEN[$user]}" \
        ${1:+-H 'content-type: application/json' -d "$1"}
}
# Sends as ada; prints the announcement id. Extra JSON fields ($2) are merged in.
send() { # path body-json
    api ada POST "$1" "$2" | jq -er .data.id
}
broadcast() { # title [severity] [extra-json]
    send /api/sse/broadcast "$(jq -nc --arg t "$1" --arg s "${2:-info}" --argjson x "${3:-{\}}" \
        '{event: "notification", data: {title: $t, body: ("About: " + $t), severity: $s}} + $x')"
}
to_role() { # role title
    send /api/sse/broadcast "$(jq -nc --arg r "$1" --arg t "$2" \
        '{role: $r, data: {title: $t, body: ("For the " + $r + " role: " + $t)}}')"
}
to_user() { # user-id title severity link
    send /api/sse/send-to-user "$(jq -nc --argjson u "$1" --arg t "$2" --arg s "$3" --arg l "$4" \
        '{user_id: $u, data: {title: $t, body: ("Just for you: " + $t), severity: $s, link: $l}}')"
}
uid() { api "$1" GET /api/me | jq -er .id; }
# The copy id of the notification titled $2 in $1's inbox (first page is enough here).
copy_id() { api "$1" GET '/api/notifications?limit=100' | jq -er --arg t "$2" '.items[] | select(.title == $t) | .id'; }
# Reads or archives ($2: read | archive) the notification titled $3 in $1's inbox.
act() { # user read|archive title
    local id
    id="$(copy_id "$1" "$3")" || { echo "$1 has no \"$3\"" >&2; exit 1; }
    api "$1" POST "/api/notifications/$id/$2" >/dev/null
}
status_of() { api ada GET /api/announcements | jq -er --argjson id "$1" '.data[] | select(.id == $id) | .status'; }
wait_status() { # announcement-id status
    for _ in $(seq 1 200); do
        [ "$(status_of "$1")" = "$2" ] && return 0
        sleep 0.05
    done
    echo "announcement $1 never became $2" >&2
    exit 1
}
rfc3339_in() { date -u -d "+$1 seconds" +%Y-%m-%dT%H:%M:%SZ; }
# One user's whole inbox, every page (3 at a time, to go through paging).
inbox() { # user
    local before= page items='[]' unread=
    while :; do
        page="$(api "$1" GET "/api/notifications?limit=3${before:+&before=$before}")"
        [ -z "$unread" ] && unread="$(jq .unread <<<"$page")"
        [ "$(jq '.items | length' <<<"$page")" = 0 ] && break
        items="$(jq -c --argjson p "$page" '. + [$p.items[] | {title, body, severity, link, read}]' <<<"$items")"
        before="$(jq -r '.next_before // empty' <<<"$page")"
        [ -z "$before" ] && break
    done
    jq -nc --argjson items "$items" --argjson unread "$unread" '{unread: $unread, inbox: $items}'
}

# ------------------------------------------------------------------ history
log "accounts before the server starts: ada (admin), alice, mallory"
add_user ada --admin
add_user alice
add_user mallory

"$OLD" serve >"$WORK/herald.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -sf "$BASE/healthz" >/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/herald.log" >&2; exit 1; }
    sleep 0.05
done
curl -sf "$BASE/healthz" >/dev/null || { echo "old Herald did not come up" >&2; exit 1; }
for u in ada alice mallory; do login "$u"; done

log "broadcast 1 (ada, alice, mallory)"
broadcast "Welcome to Herald" >/dev/null
add_user bob
login bob
log "broadcast 2, warning (+ bob)"
B2=$(broadcast "Maintenance at 22:00" warning '{"data":{"title":"Maintenance at 22:00","body":"Ten minutes of downtime.","severity":"warning","link":"/status"}}')
log "role:user 1 (alice, mallory, bob)"
to_role user "Timesheets due Friday" >/dev/null
log "bob becomes admin between two role announcements"
set_role bob admin
login bob
to_role user "Timesheets overdue" >/dev/null
to_role admin "On-call rota updated" >/dev/null
add_user carol
login carol
ALICE=$(uid alice)
BOB=$(uid bob)
log "personal, critical, to alice"
to_user "$ALICE" "Your ticket #42 was answered" critical "/tickets/42" >/dev/null

log "a broadcast read by some, then retracted"
X1=$(broadcast "Wrong announcement, ignore")
act alice read "Wrong announcement, ignore"
api ada DELETE "/api/announcements/$X1" >/dev/null
wait_status "$X1" retracted

log "an announcement that expires, and a scheduled one that fires after dave joins"
E1=$(broadcast "Flash sale ends soon" info "{\"expires_at\":\"$(rfc3339_in 4)\"}")
act carol read "Flash sale ends soon"
S1=$(broadcast "Weekly digest" info "{\"send_at\":\"$(rfc3339_in 3)\"}")
add_user dave
# dave must exist before it fires (its audience is taken at send time).
[ "$(status_of "$S1")" = scheduled ] || { echo "the scheduled send fired before dave was added" >&2; exit 1; }
wait_status "$S1" sent
wait_status "$E1" expired
login dave

log "bob back to user; erin joins; a second role:user announcement (bob's role:user history has a gap)"
set_role bob user
login bob
add_user erin
login erin
to_role user "Survey: rate the canteen" >/dev/null

log "reads, archives, read-all, an export"
act alice read "Maintenance at 22:00"
act alice read "Timesheets overdue"
act alice archive "Your ticket #42 was answered"
act bob archive "Maintenance at 22:00"
act dave read "Weekly digest"
act mallory read "Welcome to Herald"
act ada read "On-call rota updated"
api carol POST /api/notifications/read-all >/dev/null
api carol POST /api/exports >/dev/null
for _ in $(seq 1 200); do
    copy_id carol "Your export is ready" >/dev/null 2>&1 && break
    sleep 0.05
done
copy_id carol "Your export is ready" >/dev/null

log "after the read-all: a broadcast and a personal one"
broadcast "Release 2.0 shipped" >/dev/null
to_user "$BOB" "Bob: your access was reviewed" warning "/account" >/dev/null

log "mallory is deleted (her copies go with her)"
"$OLD" user delete mallory >&2

# ------------------------------------------------------------------ expected
# The funnel first: inbox pages below mark copies delivered, and the dump
# must be the state the funnel was read from.
HISTORY="$(api ada GET /api/announcements | jq -c '[.data[] | {title, target, status, recipients, delivered, read}]')"
DB="$WORK/herald.db"
# Old per-user seqs: what an old tab would send as Last-Event-ID.
LAST_SEQ="$(sqlite3 -json "$DB" 'SELECT username, last_seq FROM users ORDER BY id' |
    jq -c 'map({(.username): .last_seq}) | add')"
sqlite3 "$DB" .dump >"$OUT/pre_event_log.sql"

USERS_JSON='{}'
for u in ada alice bob carol dave erin; do
    USERS_JSON="$(jq -c --arg u "$u" --argjson box "$(inbox "$u")" \
        --argjson seq "$LAST_SEQ" '. + {($u): ($box + {old_last_seq: $seq[$u]})}' <<<"$USERS_JSON")"
done
jq -n --arg pw "$PASSWORD" --argjson users "$USERS_JSON" --argjson history "$HISTORY" '{
    "//": "Generated by scripts/make-pre-event-log-fixture.sh from the pre-event-log Herald; inboxes newest first, history newest first.",
    password: $pw,
    deleted_users: ["mallory"],
    users: $users,
    history: $history
}' >"$OUT/pre_event_log.expected.json"
log "wrote $OUT/pre_event_log.sql and $OUT/pre_event_log.expected.json"
