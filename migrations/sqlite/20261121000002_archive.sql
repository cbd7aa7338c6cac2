-- Archiving takes a notification out of the inbox without deleting it
-- (it stays in exports and in the admin's delivery counts).
ALTER TABLE notifications ADD COLUMN archived_at INTEGER;
