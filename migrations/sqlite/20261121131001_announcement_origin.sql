-- Who an announcement comes from: an admin ('admin'), or Herald itself
-- ('system', e.g. "Your export is ready" to one user). The admin's history
-- shows only the former; system notifications are per-user chatter.
ALTER TABLE announcements ADD COLUMN origin TEXT NOT NULL DEFAULT 'admin'
    CHECK (origin IN ('admin', 'system'));
-- Export notifications stored before this column existed (sender-less, to
-- one user, linking to an export).
UPDATE announcements SET origin = 'system'
    WHERE sender_id IS NULL AND target LIKE 'user:%' AND link LIKE '/api/exports/%';
-- History reads the newest admin announcements first.
CREATE INDEX announcements_history ON announcements (origin, id);
