-- Tells every node when a tenant's chat lists change, so each may keep them in memory (chat-list-cache.ts).
--
-- A row trigger on the two tables a chat list is read from sends NOTIFY wa_chat_lists with the payload
-- '<schema>/<tenant id>'. PostgreSQL delivers a notification only when its transaction commits, and
-- folds identical ones within a transaction, so a batch that touches fifty chats of one tenant sends one.
-- The schema is in the payload because one database may hold several deployments (one per schema).

CREATE FUNCTION notify_chat_lists() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('wa_chat_lists', TG_TABLE_SCHEMA || '/' || OLD.tenant_id::text);
  ELSE
    PERFORM pg_notify('wa_chat_lists', TG_TABLE_SCHEMA || '/' || NEW.tenant_id::text);
    IF TG_OP = 'UPDATE' AND OLD.tenant_id IS DISTINCT FROM NEW.tenant_id THEN
      PERFORM pg_notify('wa_chat_lists', TG_TABLE_SCHEMA || '/' || OLD.tenant_id::text);
    END IF;
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER chats_notify_chat_lists
  AFTER INSERT OR UPDATE OR DELETE ON chats
  FOR EACH ROW EXECUTE FUNCTION notify_chat_lists();

CREATE TRIGGER chat_permissions_notify_chat_lists
  AFTER INSERT OR UPDATE OR DELETE ON chat_permissions
  FOR EACH ROW EXECUTE FUNCTION notify_chat_lists();
