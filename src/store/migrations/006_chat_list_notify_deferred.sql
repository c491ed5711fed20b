-- Ingest batches announce their chat list changes themselves, after they commit (chat-list-notifier.ts).
--
-- A NOTIFY inside a write transaction takes PostgreSQL's notify lock at commit and keeps it until the
-- commit is flushed to the WAL, so every transaction that notifies commits one after another. Ingest
-- batches of all tenants write chats (last message, unread count) several hundred times a second, and
-- they queued on that lock: npm run bench's inbound p99 went from ~250 to ~130 ms without it. A batch
-- sets app.chat_lists_notify = 'deferred' for its transaction; this trigger then stays silent, and the
-- node sends one NOTIFY for the tenants of everything it committed in that turn. Every other write to
-- chats and chat_permissions (renames, reads, assignments, revokes) still notifies from the trigger.

CREATE OR REPLACE FUNCTION notify_chat_lists() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('app.chat_lists_notify', true) = 'deferred' THEN
    RETURN NULL;
  END IF;
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
