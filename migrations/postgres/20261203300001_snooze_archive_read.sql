-- Issue 19: snoozes and archive-read.
--
-- A snooze takes a notification out of the user's inbox until `until_ms`
-- (the leave is an archive of that entry, written in the same turn); the
-- scheduler's snooze task deletes due rows inside a publishing turn and
-- appends the return, so a row fires once however many instances race for
-- it. At most one snooze per (user, entry): snoozing again moves the time.
CREATE TABLE snoozes (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position   BIGINT NOT NULL,
    until_ms   BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, position)
);
CREATE INDEX snoozes_due ON snoozes (until_ms);

-- On a notification entry that brings a snoozed one back: the position of
-- the entry it returns (a copy of the same announcement in the user's own
-- channel). The funnel counts the announcement once per user, so it skips
-- these.
ALTER TABLE events ADD COLUMN returns BIGINT;

-- Archive-read: everything at or below this position was read (it never
-- exceeds `read_all_up_to`) and is out of the inbox; entries read one by
-- one above it get their own `inbox_state.archived_at`.
ALTER TABLE user_cursors ADD COLUMN archived_up_to BIGINT NOT NULL DEFAULT 0;
