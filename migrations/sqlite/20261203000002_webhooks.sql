-- Issue 17, item 5: signed webhooks. Endpoints, a durable outbox written in
-- the same transaction as the event it tells of, and the delivery attempts
-- the console and `GET /api/webhooks` show.

-- A registered endpoint. The secret (`whsec_<base64 of 32 bytes>`) is kept in
-- plain: signing needs it (unlike an API key, which is only ever checked).
-- It is shown once at creation and never returned or logged again.
CREATE TABLE webhook_endpoints (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    url         TEXT    NOT NULL,
    -- The subscribed events, comma-separated with a comma at each end
    -- (`,announcement.sent,notification.read,`), so that "subscribed to e"
    -- is one `LIKE '%,e,%'` inside the publishing transaction.
    events      TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    -- Which instance delivers to this endpoint, until when: one sender per
    -- endpoint across a cluster keeps its messages in order.
    lease_owner TEXT,
    lease_until INTEGER
);

-- One row per (endpoint, event), never per user: a broadcast adds one row
-- per subscribed endpoint. `body` is the exact JSON sent, built once, so
-- every retry carries the same bytes (and the same `webhook-id`, msg_<id>).
CREATE TABLE webhook_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event           TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- The head of an endpoint's queue is not retried before this.
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER
);
-- An endpoint's queue, in order: the head is its lowest undelivered id.
CREATE INDEX webhook_outbox_pending ON webhook_outbox (endpoint_id, id) WHERE delivered_at IS NULL;
CREATE INDEX webhook_outbox_delivered ON webhook_outbox (delivered_at) WHERE delivered_at IS NOT NULL;

-- Every try, with the endpoint's answer (status) or why there was none (error).
CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id  INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    outbox_id    INTEGER NOT NULL,
    event        TEXT    NOT NULL,
    attempted_at INTEGER NOT NULL,
    status       INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint_id, id);
