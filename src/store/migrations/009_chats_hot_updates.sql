-- Chat rows are updated in place by the ingest batches: every batch moves each chat it touches forward
-- (last message time and preview, unread count). chats_recent_idx indexed last_message_at, so none of
-- those updates could be HOT: each wrote a new index entry in chats_recent_idx and in chats_pkey, and
-- left two dead ones behind for VACUUM. Without it they change no indexed column, and with room left in
-- each page (fillfactor) they stay HOT: no index write at all, dead versions pruned within the page.
--
-- Measured (pgbench, one connection, 20,000 single-row updates of last message, preview, unread count on
-- 100 chats, PostgreSQL 15 here, twice each): with the index 4,145-4,224 updates/s, none HOT, and in
-- 40,000 updates chats_recent_idx grew from 2.1 to 5.1 MB and the table by 1.1 MB; without it and with
-- fillfactor 80, 4,434-4,821 updates/s, all 40,000 HOT, and neither the table nor chats_pkey grew. In the
-- inbound bench (10 tenants x 10 chats) CPU per message and latency did not move beyond their noise:
-- what it saves there is index writes and the bloat VACUUM has to clear (on a server with autovacuum off
-- nothing clears it).
--
-- What the index served: the two chat-list reads (chats.ts listAll / listForUser), which return all of a
-- tenant's chats (or all assigned to a user) ordered by last_message_at, with no LIMIT. They now read the
-- tenant's rows through chats_pkey and sort them, which for whole lists is no more work; and they are
-- answered from the node's chat-list cache until a change is notified (chat-list-cache.ts).
DROP INDEX chats_recent_idx;
ALTER TABLE chats SET (fillfactor = 80);
