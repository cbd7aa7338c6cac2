-- Issue 19, items 1-3 and 6: categories, per-user preferences, rich
-- notifications and their clicks. Nothing here is written per user at
-- publish: a category, its data and its actions are stored once, with the
-- announcement; preferences and clicks are written when a user acts.

-- The categories admins manage (and that a send creates on first use, with
-- its slug as the label).
CREATE TABLE categories (
    slug       TEXT   PRIMARY KEY,
    label      TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

-- Once per announcement: its category (NULL: none), the sender's JSON
-- object, its action buttons (a JSON list), and how many users clicked one.
ALTER TABLE announcements ADD COLUMN category TEXT;
ALTER TABLE announcements ADD COLUMN data TEXT;
ALTER TABLE announcements ADD COLUMN actions TEXT;
ALTER TABLE announcements ADD COLUMN click_count BIGINT NOT NULL DEFAULT 0;

-- A user's preferences, a row only once they saved some: JSON lists of
-- category slugs. Read when their counts are (seed, read), never at publish.
CREATE TABLE user_preferences (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    muted      TEXT   NOT NULL DEFAULT '[]',
    desktop    TEXT   NOT NULL DEFAULT '[]',
    updated_at BIGINT NOT NULL
);

-- The first click of a user on a notification's action (the funnel counts
-- users, so the key makes a second click a no-op).
CREATE TABLE clicks (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position   BIGINT NOT NULL,
    action     BIGINT NOT NULL,
    clicked_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, position)
);

-- A preference change reaches every instance's counters in log order, as a
-- read does: its payload is the `preferences` event, with the counts
-- computed in its transaction.
ALTER TABLE control_entries DROP CONSTRAINT control_entries_kind_check;
ALTER TABLE control_entries ADD CONSTRAINT control_entries_kind_check
    CHECK (kind IN ('read', 'preferences'));
