-- Converts the per-recipient copies (`notifications`, `users.last_seq`) made
-- by earlier versions into the event log created by the previous migration
-- (docs/event-log.md §6). It runs in sqlx's migration transaction: any
-- failure, including the check near the end, leaves the database untouched.
-- `store::open` has already written a `VACUUM INTO` backup, because this
-- drops the copies. On a fresh database every step below is a no-op except
-- the rows every database needs (resume floor, channels, cursors).
--
-- Scratch tables are TEMP (this connection only) and dropped at the end, as
-- the connection goes back to sqlx's pool.

-- 1. The resume floor. Every old per-user seq (an old tab's Last-Event-ID)
-- and every old copy id (an old tab's POST /notifications/<id>/read) must lie
-- below the first position, so the former gets `resync` and the latter can
-- never name someone else's entry. The copies' AUTOINCREMENT counter is
-- included with max(id): a copy deleted by a retraction had a larger id than
-- any left, and an open tab may still hold it.
INSERT INTO log_meta (key, value)
SELECT 'resume_floor', MAX(
        (SELECT COALESCE(MAX(last_seq), 0) FROM users),
        (SELECT COALESCE(MAX(id), 0) FROM notifications),
        (SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'notifications'),
        0) + 1;

-- 2. A copy without an announcement (the column allows NULL; no current code
-- path makes one) gets a synthetic one of its own, from Herald itself to its
-- user, so that every entry has content. Ids are explicit so each copy can
-- be pointed at its own; they start above the AUTOINCREMENT counter so a
-- deleted announcement's id is never reused.
CREATE TEMP TABLE conv_orphan AS
SELECT n.id AS copy_id,
       MAX((SELECT COALESCE(MAX(id), 0) FROM announcements),
           (SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'announcements'))
         + ROW_NUMBER() OVER (ORDER BY n.id) AS announcement_id
FROM notifications n WHERE n.announcement_id IS NULL;

INSERT INTO announcements
    (id, sender_id, event, title, body, severity, link, target, recipients, created_at,
     status, sent_at, origin)
SELECT o.announcement_id, NULL, n.event, n.title, n.body, n.severity, n.link,
       'user:' || n.user_id, 1, n.created_at, 'sent', n.created_at, 'system'
FROM conv_orphan o JOIN notifications n ON n.id = o.copy_id;

UPDATE notifications
SET announcement_id = (SELECT o.announcement_id FROM conv_orphan o WHERE o.copy_id = notifications.id)
WHERE announcement_id IS NULL;

-- 3. Copies collapse into entries: one per announcement that still has
-- copies (retracted and expired ones have none left, and get no entry: they
-- keep their history row). Entries are ordered by each announcement's first
-- copy: copies were made under `publish_order` by the single writer, one
-- publish's copies in one INSERT, so copy ids follow publish order, scheduled
-- sends included (their copies are made when they fire). The check in step 8
-- confirms that this order agrees with every user's old seq order.
CREATE TEMP TABLE conv_entry AS
SELECT a.id AS announcement_id,
       a.target AS channel,
       (SELECT value FROM log_meta WHERE key = 'resume_floor') - 1
         + ROW_NUMBER() OVER (ORDER BY f.first_copy) AS position,
       ROW_NUMBER() OVER (PARTITION BY a.target ORDER BY f.first_copy) AS channel_offset,
       COALESCE(a.sent_at, a.created_at) AS created_at
FROM (SELECT announcement_id, MIN(id) AS first_copy FROM notifications GROUP BY announcement_id) f
JOIN announcements a ON a.id = f.announcement_id;

INSERT INTO events (position, kind, channel, channel_offset, announcement_id, created_at)
SELECT position, 'notification', channel, channel_offset, announcement_id, created_at
FROM conv_entry ORDER BY position;

-- New positions must exceed every old seq and copy id even when there was
-- nothing to convert: the explicit inserts above moved the AUTOINCREMENT
-- counter only if there were entries.
UPDATE sqlite_sequence
SET seq = MAX(seq, (SELECT value FROM log_meta WHERE key = 'resume_floor') - 1)
WHERE name = 'events';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'events', (SELECT value FROM log_meta WHERE key = 'resume_floor') - 1
WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events');

-- Each copy, placed on its entry: what the spans must reproduce.
CREATE TEMP TABLE conv_copy AS
SELECT n.id AS copy_id, n.user_id, n.seq, e.channel, e.channel_offset AS off, e.position,
       n.read_at, n.archived_at, n.delivered_at
FROM notifications n JOIN conv_entry e ON e.announcement_id = n.announcement_id;

-- 4. Channels: the three shared ones and every user's own, even empty, so
-- that publishing only ever updates a row. Heads come from the entries;
-- members are who is in each channel now (the next announcement's
-- "recipients").
INSERT INTO channels (name, head_offset, last_position, members)
SELECT c.name,
       COALESCE((SELECT MAX(channel_offset) FROM conv_entry e WHERE e.channel = c.name), 0),
       COALESCE((SELECT MAX(position) FROM conv_entry e WHERE e.channel = c.name), 0),
       CASE
         WHEN c.name = 'all' THEN (SELECT COUNT(*) FROM users)
         WHEN c.name LIKE 'role:%' THEN (SELECT COUNT(*) FROM users u WHERE 'role:' || u.role = c.name)
         ELSE (SELECT COUNT(*) FROM users u WHERE 'user:' || u.id = c.name)
       END
FROM (SELECT 'all' AS name UNION SELECT 'role:user' UNION SELECT 'role:admin'
      UNION SELECT 'user:' || id FROM users
      -- a target no user matches any more still needs its head
      UNION SELECT channel FROM conv_entry) c;

-- 5. Spans reproduce exactly who had copies, per (user, shared channel), by
-- gaps and islands: consecutive offsets among a user's copies form a run
-- (offset minus its rank is constant along one). A run [o1, o2] is the span
-- (position of offset o1 - 1, or 0; position of o2], since no entry of the
-- channel lies strictly between those. A user's own channel needs no runs:
-- only they ever had its copies, so (0, NULL) below covers it.
CREATE TEMP TABLE conv_run AS
SELECT user_id, channel, MIN(off) AS o1, MAX(off) AS o2
FROM (SELECT user_id, channel, off,
             off - ROW_NUMBER() OVER (PARTITION BY user_id, channel ORDER BY off) AS island
      FROM conv_copy WHERE channel NOT LIKE 'user:%')
GROUP BY user_id, channel, island;

-- Each user's current shared channels.
CREATE TEMP TABLE conv_member AS
SELECT id AS user_id, 'all' AS channel FROM users
UNION ALL SELECT id, 'role:' || role FROM users;

-- The run that reaches the channel's head stays open when the user is still
-- in the channel (whatever is published next reaches them, as it would have
-- today); every other run is closed at its last entry.
INSERT INTO subscriptions (user_id, channel, from_pos, to_pos)
SELECT r.user_id, r.channel,
       COALESCE((SELECT e.position FROM conv_entry e
                 WHERE e.channel = r.channel AND e.channel_offset = r.o1 - 1), 0),
       CASE WHEN r.o2 = ch.head_offset
                 AND EXISTS (SELECT 1 FROM conv_member m
                             WHERE m.user_id = r.user_id AND m.channel = r.channel)
            THEN NULL
            ELSE (SELECT e.position FROM conv_entry e
                  WHERE e.channel = r.channel AND e.channel_offset = r.o2)
       END
FROM conv_run r JOIN channels ch ON ch.name = r.channel;

-- A current member without an open span (no copies in the channel yet, or
-- none since the channel's latest entry) joins at the log head: they see
-- what comes next, not what was sent before (docs §4).
INSERT INTO subscriptions (user_id, channel, from_pos, to_pos)
SELECT m.user_id, m.channel,
       COALESCE((SELECT MAX(position) FROM conv_entry),
                (SELECT value FROM log_meta WHERE key = 'resume_floor') - 1),
       NULL
FROM conv_member m
WHERE NOT EXISTS (SELECT 1 FROM subscriptions s
                  WHERE s.user_id = m.user_id AND s.channel = m.channel AND s.to_pos IS NULL);

INSERT INTO subscriptions (user_id, channel, from_pos, to_pos)
SELECT id, 'user:' || id, 0, NULL FROM users;

-- 6. Per-user state. A copy read or archived one by one becomes a state row;
-- the old read-all marked each copy, so nothing becomes a watermark.
INSERT INTO inbox_state (user_id, position, read_at, archived_at)
SELECT user_id, position, read_at, archived_at
FROM conv_copy WHERE read_at IS NOT NULL OR archived_at IS NOT NULL;

-- "A client of theirs was brought up to P": the highest copy shown to them.
INSERT INTO user_cursors (user_id, read_all_up_to, delivered_up_to)
SELECT u.id, 0,
       COALESCE((SELECT MAX(c.position) FROM conv_copy c
                 WHERE c.user_id = u.id AND c.delivered_at IS NOT NULL), 0)
FROM users u;

-- 7. The funnel, counted once from the copies as the history showed it.
-- Announcements without copies keep 0, as today's history shows them.
UPDATE announcements
SET delivered_count = (SELECT COUNT(*) FROM conv_copy c JOIN conv_entry e ON e.position = c.position
                       WHERE e.announcement_id = announcements.id AND c.delivered_at IS NOT NULL),
    read_count = (SELECT COUNT(*) FROM conv_copy c JOIN conv_entry e ON e.position = c.position
                  WHERE e.announcement_id = announcements.id AND c.read_at IS NOT NULL)
WHERE id IN (SELECT announcement_id FROM conv_entry);

-- 8. The check: the (user, entry) pairs visible through the spans must be
-- the copies, one for one (no copy lost, none gained, no entry seen twice
-- through overlapping spans), and each user's inbox must keep its old order.
-- A failed CHECK aborts the migration, and with it the whole conversion.
CREATE TEMP TABLE conv_visible AS
SELECT s.user_id, e.position
FROM subscriptions s
JOIN events e ON e.channel = s.channel AND e.position > s.from_pos
             AND (s.to_pos IS NULL OR e.position <= s.to_pos);

CREATE TEMP TABLE conv_check (what TEXT NOT NULL, ok INTEGER NOT NULL CHECK (ok = 1));
INSERT INTO conv_check (what, ok)
SELECT 'every copy has an entry',
       (SELECT COUNT(*) FROM conv_copy) = (SELECT COUNT(*) FROM notifications);
INSERT INTO conv_check (what, ok)
SELECT 'visible pairs equal the copies',
       (SELECT COUNT(*) FROM conv_visible) = (SELECT COUNT(*) FROM conv_copy)
   AND (SELECT COUNT(*) FROM (SELECT DISTINCT user_id, position FROM conv_copy))
         = (SELECT COUNT(*) FROM conv_copy)
   AND NOT EXISTS (SELECT user_id, position FROM conv_visible
                   EXCEPT SELECT user_id, position FROM conv_copy)
   AND NOT EXISTS (SELECT user_id, position FROM conv_copy
                   EXCEPT SELECT user_id, position FROM conv_visible);
INSERT INTO conv_check (what, ok)
SELECT 'positions keep every user''s seq order',
       NOT EXISTS (SELECT 1 FROM (
           SELECT ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY seq) AS by_seq,
                  ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY position) AS by_position
           FROM conv_copy) WHERE by_seq <> by_position);

DROP TABLE temp.conv_check;
DROP TABLE temp.conv_visible;
DROP TABLE temp.conv_member;
DROP TABLE temp.conv_run;
DROP TABLE temp.conv_copy;
DROP TABLE temp.conv_entry;
DROP TABLE temp.conv_orphan;

-- 9. The copies and the per-user seqs are gone for good (the backup keeps
-- them). Dropping the table drops its indexes; nothing references it.
DROP TABLE notifications;
ALTER TABLE users DROP COLUMN last_seq;
