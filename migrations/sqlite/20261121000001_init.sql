-- Herald's first schema: accounts, sessions and per-recipient notifications.
-- Times are unix milliseconds (INTEGER) so SQLite and PostgreSQL agree on them.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    -- argon2id PHC string; never leaves the server.
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('user', 'admin')),
    -- Last `seq` handed to one of this user's notifications. Bumped in the same
    -- transaction that inserts the notification, so seqs are strictly increasing
    -- per user and never reused, even after deletes.
    last_seq      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- One row per issued JWT (`sid` claim), so a single session can be revoked
-- (logout) without rotating the signing secret.
CREATE TABLE sessions (
    id          TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- What an admin sent, once; its per-user copies live in `notifications`.
CREATE TABLE announcements (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sender_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    event       TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    severity    TEXT    NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    link        TEXT,
    -- 'all', 'role:<role>' or 'user:<id>'
    target      TEXT    NOT NULL,
    recipients  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

-- One row per recipient: read state is per user, and `seq` orders a user's
-- stream (SSE `id:`), which is what makes Last-Event-ID resume gap-free.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    announcement_id INTEGER REFERENCES announcements (id) ON DELETE CASCADE,
    event           TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    severity        TEXT    NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    link            TEXT,
    created_at      INTEGER NOT NULL,
    read_at         INTEGER,
    UNIQUE (user_id, seq)
);
-- Unread counts are computed, never stored: this partial index keeps them cheap.
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
