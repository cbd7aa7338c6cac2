-- Issue 18: Herald's bell on a host app's pages.
--
-- A user token is a session a host app's backend asked for with a service
-- key (`POST /api/users/{username}/tokens`): short-lived, and ended with the
-- key that asked for it (revoking the key revokes these rows).
ALTER TABLE sessions ADD COLUMN key_id BIGINT REFERENCES api_keys (id);
CREATE INDEX sessions_by_key ON sessions (key_id) WHERE key_id IS NOT NULL;
-- The sweeper deletes sessions an hour after they expire (user tokens make
-- thousands a day): found by this index, not by a scan of the table.
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- A stream ticket: single use, seconds long, so that `EventSource` (which
-- cannot send headers) opens a stream without a lasting secret in its URL.
-- Only the ticket's SHA-256 is kept. Redeeming deletes the row; the sweeper
-- deletes the expired ones.
CREATE TABLE stream_tickets (
    hash        TEXT    PRIMARY KEY,
    session_id  TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id     BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL
);
CREATE INDEX stream_tickets_by_user ON stream_tickets (user_id, expires_at);
CREATE INDEX stream_tickets_by_expiry ON stream_tickets (expires_at);
