-- Web Push (SPEC, "Categories, preferences, rich notifications, reach";
-- docs/escalation.md, "Web Push"): a user's browsers' push subscriptions,
-- pushed to by the escalation task where it would email. Nothing here is
-- written at publish.

-- One browser's subscription: its push service endpoint (unique: a browser
-- that subscribes again for another user moves to them) and its keys for
-- the payload's encryption (p256dh, auth; base64url). `sent_for` is the
-- digest last pushed here (its last position), so a retry of a digest
-- that reached some targets and not others sends each target once.
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   TEXT    NOT NULL UNIQUE,
    p256dh     TEXT    NOT NULL,
    auth       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    sent_for   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id, id);

-- The digest (its last position) already emailed: as `sent_for`, for the
-- email part of a digest whose push part failed.
ALTER TABLE escalations ADD COLUMN emailed_for INTEGER NOT NULL DEFAULT 0;
