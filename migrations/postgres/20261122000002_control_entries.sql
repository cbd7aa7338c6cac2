-- Control entries: what every instance must learn, in log order, that is
-- not a notification — today a user's read (its exact unread count at that
-- position, which each instance's counters take). Their positions come from
-- the same sequence as `events`, under the same publishing lock, so one
-- merge by position gives each follower the commit order of both.
-- Not replayed to clients and pruned after an hour (by the sweeper): a
-- follower is never that far behind while its instance runs.
CREATE TABLE control_entries (
    position   BIGINT PRIMARY KEY,
    kind       TEXT   NOT NULL CHECK (kind IN ('read')),
    user_id    BIGINT NOT NULL,
    -- The `notification.read` data: ids | up_to_seq, archived, unread.
    payload    TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX control_entries_by_age ON control_entries (created_at);
