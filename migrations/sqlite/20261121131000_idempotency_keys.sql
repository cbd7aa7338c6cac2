-- `Idempotency-Key` on the publishing routes: the first result of a keyed
-- request, kept 24 h so a retry returns it instead of doing the work again.
-- A row is written in the same transaction as the work it answers for, so
-- a retry finds either the whole result or nothing done.
CREATE TABLE idempotency_keys (
    -- Keys are scoped to the user who sent them: one admin cannot replay
    -- (or block) another's key.
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          TEXT    NOT NULL,
    -- SHA-256 (hex) of the route and the parsed request: the same key on a
    -- different request is refused (422) rather than answered with the first.
    request_hash TEXT    NOT NULL,
    -- The first result, as JSON.
    result       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);
-- The sweeper deletes keys past 24 h.
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
