-- Two foreign keys the ingest path paid for on every row, which the schema already implies.
--
-- A foreign key checks each inserted row with its own lookup and row lock on the referenced table. An
-- ingest batch inserts a message row and one or two event rows per message, and these checks were 29 %
-- of PostgreSQL's CPU in the batch statement (perf, 10 tenants x 50-message batches). Without the two
-- below, and with the delete trigger: 94 -> ~78 us of PostgreSQL CPU per message, 51 -> ~45 ms per
-- group of 500 messages (a scratch script timing store writes alone, paired runs; docs/architecture.md,
-- Data). In the full inbound bench the saving is within its run-to-run noise (bench/README.md).
--
-- messages.tenant_id -> tenants: implied by messages (tenant_id, chat_id) -> chats and chats.tenant_id ->
-- tenants, and deleting a tenant still removes its messages through its chats. Nothing is lost.
ALTER TABLE messages DROP CONSTRAINT messages_tenant_id_fkey;

-- events.tenant_id -> tenants: every write of events bumps the tenant's event_counters row in the same
-- statement (the gapless seq needs it, outbox.ts and message-batch.ts), and that row references tenants:
-- an event cannot be written for a tenant that does not exist. A statement-level check of the new rows
-- against tenants (a trigger with a transition table) gave back a third of the saving (84 us per message)
-- for a case the counter already rules out, so it is not here. What the cascade did is kept: deleting
-- tenants deletes their events, once per statement.
ALTER TABLE events DROP CONSTRAINT events_tenant_id_fkey;

CREATE FUNCTION tenants_delete_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM events e USING removed r WHERE e.tenant_id = r.id;
  RETURN NULL;
END;
$$;
CREATE TRIGGER tenants_delete_events AFTER DELETE ON tenants
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION tenants_delete_events();
