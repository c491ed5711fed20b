-- The chat-list triggers skip ingest batches in their WHEN clause instead of in their body.
--
-- Since migration 006 a batch sets app.chat_lists_notify = 'deferred' and the trigger function returns at
-- once. It was still queued for every chat row a batch touched and called at the end of the statement
-- (a PL/pgSQL call each, ten per batch with ten contacts). A WHEN clause is checked as the row is written
-- and a false one queues nothing. The function keeps its own check for any caller that reaches it.
DROP TRIGGER chats_notify_chat_lists ON chats;
CREATE TRIGGER chats_notify_chat_lists
  AFTER INSERT OR UPDATE OR DELETE ON chats
  FOR EACH ROW
  WHEN (current_setting('app.chat_lists_notify', true) IS DISTINCT FROM 'deferred')
  EXECUTE FUNCTION notify_chat_lists();

DROP TRIGGER chat_permissions_notify_chat_lists ON chat_permissions;
CREATE TRIGGER chat_permissions_notify_chat_lists
  AFTER INSERT OR UPDATE OR DELETE ON chat_permissions
  FOR EACH ROW
  WHEN (current_setting('app.chat_lists_notify', true) IS DISTINCT FROM 'deferred')
  EXECUTE FUNCTION notify_chat_lists();
