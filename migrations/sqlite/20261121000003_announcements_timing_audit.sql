-- Scheduling, expiry and retraction of announcements, delivery tracking for
-- the admin's funnel, and an audit log.

-- 'sent' once copies exist in inboxes; 'scheduled' until send_at; 'retracted'
-- or 'expired' once the copies were removed from every inbox.
ALTER TABLE announcements ADD COLUMN status TEXT NOT NULL DEFAULT 'sent'
    CHECK (status IN ('scheduled', 'sent', 'retracted', 'expired'));
ALTER TABLE announcements ADD COLUMN send_at INTEGER;
ALTER TABLE announcements ADD COLUMN expires_at INTEGER;
ALTER TABLE announcements ADD COLUMN sent_at INTEGER;
ALTER TABLE announcements ADD COLUMN removed_at INTEGER;
CREATE INDEX announcements_due ON announcements (status, send_at);
CREATE INDEX announcements_expiring ON announcements (status, expires_at);

-- Set when a copy first reached its user: on a live stream, a replay, or an inbox page.
ALTER TABLE notifications ADD COLUMN delivered_at INTEGER;
CREATE INDEX notifications_by_announcement ON notifications (announcement_id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    -- NULL for the CLI and for Herald itself (scheduler).
    actor_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    detail      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX audit_log_newest ON audit_log (created_at DESC);
