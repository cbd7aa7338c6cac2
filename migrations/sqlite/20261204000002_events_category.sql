-- The inbox's category tabs page one category from the server.
--
-- A notification entry carries its announcement's category, so that a page
-- of one category reads one index range per span of the user's channels:
-- O(spans × limit), however rare the category and however long the log.
-- Filtering the join with `announcements` instead would walk every entry of
-- the channel down to the page's oldest. Written once, with the entry
-- (`store::log::record`); an announcement's category never changes.
-- Removal entries leave it NULL: pages list notifications only.
ALTER TABLE events ADD COLUMN category TEXT;

UPDATE events SET category = (SELECT a.category FROM announcements a WHERE a.id = events.announcement_id)
WHERE kind = 'notification';

-- Uncategorised entries are never looked up by category: left out.
CREATE INDEX events_by_category ON events (channel, category, position)
WHERE category IS NOT NULL;
