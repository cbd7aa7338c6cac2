#!/usr/bin/env bash
# Checks the event-log conversion at the SQL level, without Herald: loads
# tests/fixtures/pre_event_log.sql (a database made by the pre-event-log
# Herald) into a temp SQLite file, applies the two event-log migrations in one
# transaction as sqlx would, then computes every user's unread count and inbox
# and the admin history's funnel with the formulas of docs/event-log.md §3
# and §5, and compares them with tests/fixtures/pre_event_log.expected.json
# (what the old Herald's API answered). Also converts an empty database.
#
#   bash scripts/check-event-log-conversion.sh      # exit 0: equal
#
# Needs sqlite3 (≥ 3.35, for DROP COLUMN) and jq.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FIXTURE=tests/fixtures/pre_event_log.sql
EXPECTED=tests/fixtures/pre_event_log.expected.json
SCHEMA=migrations/sqlite/20261121170000_event_log.sql
CONVERT=migrations/sqlite/20261121170001_event_log_convert.sql
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Applies the event-log migrations as one transaction, with foreign keys on
# (as store::open connects).
migrate() { # db
    { echo "PRAGMA foreign_keys = ON; BEGIN;"; cat "$SCHEMA" "$CONVERT"; echo "COMMIT;"; } |
        sqlite3 -bail "$1"
}

DB="$WORK/converted.db"
sqlite3 -bail "$DB" <"$FIXTURE"
migrate "$DB"

# What the new server will read, by the formulas, for one user (:u).
ACTUAL_USERS="$(
    for u in $(sqlite3 "$DB" 'SELECT username FROM users ORDER BY id'); do
        unread="$(sqlite3 "$DB" "
            SELECT COUNT(*) FROM users x
            JOIN user_cursors c ON c.user_id = x.id
            JOIN subscriptions s ON s.user_id = c.user_id
            JOIN events e ON e.channel = s.channel
             AND e.position > MAX(s.from_pos, c.read_all_up_to)
             AND (s.to_pos IS NULL OR e.position <= s.to_pos)
            WHERE x.username = '$u' AND e.kind = 'notification' AND e.removed_pos IS NULL
              AND NOT EXISTS (SELECT 1 FROM inbox_state st WHERE st.user_id = x.id
                              AND st.position = e.position
                              AND COALESCE(st.read_at, st.archived_at) IS NOT NULL)")"
        inbox="$(sqlite3 -json "$DB" "
            SELECT a.title, a.body, a.severity, a.link,
                   (e.position <= c.read_all_up_to
                    OR COALESCE(st.read_at, st.archived_at) IS NOT NULL) AS read
            FROM users x
            JOIN user_cursors c ON c.user_id = x.id
            JOIN subscriptions s ON s.user_id = x.id
            JOIN events e ON e.channel = s.channel AND e.position > s.from_pos
             AND (s.to_pos IS NULL OR e.position <= s.to_pos)
            JOIN announcements a ON a.id = e.announcement_id
            LEFT JOIN inbox_state st ON st.user_id = x.id AND st.position = e.position
            WHERE x.username = '$u' AND e.kind = 'notification' AND e.removed_pos IS NULL
              AND st.archived_at IS NULL
            ORDER BY e.position DESC")"
        jq -nc --arg u "$u" --argjson n "$unread" --argjson box "${inbox:-[]}" \
            '{($u): {unread: $n, inbox: ($box | map(.read = (.read == 1)))}}'
    done | jq -sc 'add'
)"
ACTUAL_HISTORY="$(sqlite3 -json "$DB" "
    SELECT title, target, status, recipients, delivered_count AS delivered, read_count AS read
    FROM announcements WHERE origin = 'admin' ORDER BY id DESC LIMIT 50")"

status=0
same() { # what expected actual
    if [ "$(jq -S . <<<"$2")" = "$(jq -S . <<<"$3")" ]; then
        echo "ok   $1"
    else
        echo "DIFF $1"
        diff <(jq -S . <<<"$2") <(jq -S . <<<"$3") || true
        status=1
    fi
}
same "users (unread counts, whole inboxes with read flags, in order)" \
    "$(jq -c '.users | map_values({unread, inbox})' "$EXPECTED")" "$ACTUAL_USERS"
same "admin history (status, recipients, delivered, read)" \
    "$(jq -c .history "$EXPECTED")" "$ACTUAL_HISTORY"

echo "--- converted database"
sqlite3 -header -column "$DB" "
    SELECT key, value FROM log_meta;
    SELECT name, seq FROM sqlite_sequence WHERE name = 'events';
    SELECT * FROM channels ORDER BY name;
    SELECT user_id, channel, from_pos, to_pos FROM subscriptions ORDER BY user_id, channel, from_pos;
    SELECT * FROM user_cursors ORDER BY user_id;
    SELECT position, channel, channel_offset, announcement_id FROM events ORDER BY position;"
floor="$(sqlite3 "$DB" "SELECT value FROM log_meta WHERE key = 'resume_floor'")"
max_old="$(jq '[.users[].old_last_seq] | max' "$EXPECTED")"
if [ "$floor" -le "$max_old" ]; then echo "DIFF resume_floor $floor <= old seq $max_old"; status=1; fi
if [ -n "$(sqlite3 "$DB" "SELECT name FROM sqlite_master WHERE name = 'notifications'")" ] ||
    sqlite3 "$DB" 'SELECT last_seq FROM users' >/dev/null 2>&1; then
    echo "DIFF notifications or users.last_seq still there"; status=1
fi
[ "$(sqlite3 "$DB" 'PRAGMA foreign_key_check; PRAGMA integrity_check')" = ok ] ||
    { echo "DIFF integrity"; status=1; }

echo "--- an empty database (every earlier migration, no rows)"
EMPTY="$WORK/empty.db"
for m in migrations/sqlite/*.sql; do
    case "$m" in "$SCHEMA" | "$CONVERT") ;; *) sqlite3 -bail "$EMPTY" <"$m" ;; esac
done
migrate "$EMPTY"
sqlite3 -header -column "$EMPTY" "
    SELECT key, value FROM log_meta;
    SELECT name, seq FROM sqlite_sequence WHERE name = 'events';
    SELECT COUNT(*) AS channels FROM channels;"
exit $status
