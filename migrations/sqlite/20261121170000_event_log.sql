-- The event log (docs/event-log.md): an announcement is stored once and
-- appended once to the log of its channel; what is per user is only state
-- (read, archived, delivered), written when the user acts. The conversion of
-- the per-recipient copies made by earlier versions is the next migration.

-- Append-only and commit-ordered: `position` is the SSE `id:`. Every write
-- transaction starts with BEGIN IMMEDIATE, so positions are allocated in
-- commit order; AUTOINCREMENT never reuses one.
CREATE TABLE events (
    position        INTEGER PRIMARY KEY AUTOINCREMENT,
    -- 'notification': an announcement reached the channel.
    -- 'removal': it left it again (retracted or expired); `removes` says which.
    kind            TEXT    NOT NULL CHECK (kind IN ('notification', 'removal')),
    -- 'all', 'role:<role>' or 'user:<id>' (the announcement's target).
    channel         TEXT    NOT NULL,
    -- 1, 2, 3… within the channel, without holes: what lets a client see
    -- that it missed something in a channel.
    channel_offset  INTEGER NOT NULL,
    announcement_id INTEGER NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    -- On a removal: the position of the notification it removes.
    removes         INTEGER,
    -- On a notification: the position of its removal, once removed (the one
    -- update this table sees; it keeps counts and pages cheap).
    removed_pos     INTEGER,
    created_at      INTEGER NOT NULL,
    UNIQUE (channel, channel_offset)
);
-- Replay, pages and counts: a range of one channel.
CREATE INDEX events_by_channel ON events (channel, position);
CREATE INDEX events_by_announcement ON events (announcement_id);

-- One row per channel: the last offset handed out, the last position in it,
-- and how many users are in it now (an announcement's "recipients").
CREATE TABLE channels (
    name          TEXT    PRIMARY KEY,
    head_offset   INTEGER NOT NULL DEFAULT 0,
    last_position INTEGER NOT NULL DEFAULT 0,
    members       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Which channels a user sees, and since when: entries with
-- from_pos < position <= to_pos (to_pos NULL: still a member). A user
-- created after a broadcast does not receive it; a role change closes one
-- span and opens another. About three rows per user.
CREATE TABLE subscriptions (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel  TEXT    NOT NULL,
    from_pos INTEGER NOT NULL,
    to_pos   INTEGER,
    PRIMARY KEY (user_id, channel, from_pos)
) WITHOUT ROWID;

-- Per-user state, only for entries the user touched one by one.
CREATE TABLE inbox_state (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    read_at     INTEGER,
    -- Archived implies read.
    archived_at INTEGER,
    PRIMARY KEY (user_id, position)
) WITHOUT ROWID;
-- Who had read an entry when it was removed (unread counts of live users).
CREATE INDEX inbox_state_by_entry ON inbox_state (position);

-- Watermarks: "read everything up to here" (read all) and "a client of
-- theirs was brought up to here" (the funnel's delivered).
CREATE TABLE user_cursors (
    user_id         INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    read_all_up_to  INTEGER NOT NULL DEFAULT 0,
    delivered_up_to INTEGER NOT NULL DEFAULT 0
);

-- 'resume_floor': positions below it are tokens of the old per-user seqs.
CREATE TABLE log_meta (
    key   TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

-- The funnel, counted as it happens instead of over per-user copies.
ALTER TABLE announcements ADD COLUMN delivered_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE announcements ADD COLUMN read_count INTEGER NOT NULL DEFAULT 0;
