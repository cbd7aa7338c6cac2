-- Issue 17: service API keys, provisioned e-mail addresses, and
-- `Idempotency-Key` results owned by a key as well as by a user.

-- A service key. The key itself (`hrld_<public_id>_<secret>`) is shown once
-- at creation and never stored: only the SHA-256 of it (hex). A request
-- finds its row by `public_id` (one indexed lookup) and compares the hash in
-- constant time. A revoked key keeps its row (the console lists it, the
-- audit log still names it) and matches no request.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    -- 12 hex digits, random; public (it names the key, grants nothing).
    public_id    TEXT    NOT NULL UNIQUE,
    secret_hash  TEXT    NOT NULL,
    -- Comma-separated: publish, read, users.
    scopes       TEXT    NOT NULL,
    -- Who created it: an admin's username, or `cli`.
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    -- Written at most once a minute per key, not on every request.
    last_used_at INTEGER,
    revoked_at   INTEGER
);
-- A name belongs to one live key; a revoked key's name may be used again.
CREATE UNIQUE INDEX api_keys_live_name ON api_keys (name) WHERE revoked_at IS NULL;

-- An announcement a service key sent: the key (its sender_id is NULL, as
-- for Herald's own notices, but it is an admin-origin announcement).
ALTER TABLE announcements ADD COLUMN sender_key_id INTEGER REFERENCES api_keys (id) ON DELETE SET NULL;

-- An address given when a host app provisions the user (counts as verified).
ALTER TABLE users ADD COLUMN email TEXT;

-- Keys were scoped to a user (user_id); a service key is not one. The owner
-- is now `user:<id>` or `key:<id>`. Ids are never reused (AUTOINCREMENT), so
-- rows of a deleted user or key cannot answer anyone else; the sweeper
-- deletes them after 24 h like every other row.
CREATE TABLE idempotency_keys_v2 (
    owner        TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    result       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (owner, key)
);
INSERT INTO idempotency_keys_v2 (owner, key, request_hash, result, created_at)
    SELECT 'user:' || user_id, key, request_hash, result, created_at FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_v2 RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
