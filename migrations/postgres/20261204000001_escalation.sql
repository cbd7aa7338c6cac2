-- Email escalation (SPEC, "Categories, preferences, rich notifications,
-- reach"; docs/escalation.md). Nothing here is written at publish: a
-- broadcast still writes one entry. The escalation task keeps one row per
-- user with an email address and moves it in the background.

-- Per user with an email address: how far their log was decided (every
-- entry at or below `up_to` was emailed or will never be), the entries
-- above it already emailed (a JSON list: due ones past a not-yet-due one),
-- the digest claimed and not yet sent (`pending`, a JSON list of
-- positions, kept across a failed send or a crash), and who holds the row
-- (a lease, so one instance at a time works on a user).
CREATE TABLE escalations (
    user_id       BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    up_to         BIGINT  NOT NULL,
    emailed_above TEXT    NOT NULL DEFAULT '[]',
    pending       TEXT,
    attempts      BIGINT  NOT NULL DEFAULT 0,
    next_ms       BIGINT  NOT NULL DEFAULT 0,
    lease         TEXT,
    lease_until   BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX escalations_next ON escalations (next_ms, up_to);

-- Existing addresses start at today's head: an upgrade emails no history.
INSERT INTO escalations (user_id, up_to)
SELECT id, COALESCE((SELECT MAX(position) FROM events), 0) FROM users WHERE email IS NOT NULL;

-- A category's escalation: off, or its own delay (NULL: the default).
ALTER TABLE categories ADD COLUMN escalate BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE categories ADD COLUMN escalate_after_secs BIGINT;

-- A user's: off, or their own delay (NULL: the category's or the default).
ALTER TABLE user_preferences ADD COLUMN escalate BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE user_preferences ADD COLUMN escalate_after_secs BIGINT;
