-- Issue 19, items 1-3 and 6: categories, per-user preferences, rich
-- notifications and their clicks. Nothing here is written per user at
-- publish: a category, its data and its actions are stored once, with the
-- announcement; preferences and clicks are written when a user acts.

-- The categories admins manage (and that a send creates on first use, with
-- its slug as the label).
CREATE TABLE categories (
    slug       TEXT    PRIMARY KEY,
    label      TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Once per announcement: its category (NULL: none), the sender's JSON
-- object, its action buttons (a JSON list), and how many users clicked one.
ALTER TABLE announcements ADD COLUMN category TEXT;
ALTER TABLE announcements ADD COLUMN data TEXT;
ALTER TABLE announcements ADD COLUMN actions TEXT;
ALTER TABLE announcements ADD COLUMN click_count INTEGER NOT NULL DEFAULT 0;

-- A user's preferences, a row only once they saved some: JSON lists of
-- category slugs. Read when their counts are (seed, read), never at publish.
CREATE TABLE user_preferences (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    muted      TEXT    NOT NULL DEFAULT '[]',
    desktop    TEXT    NOT NULL DEFAULT '[]',
    updated_at INTEGER NOT NULL
);

-- The first click of a user on a notification's action (the funnel counts
-- users, so the key makes a second click a no-op).
CREATE TABLE clicks (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    action     INTEGER NOT NULL,
    clicked_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, position)
) WITHOUT ROWID;
