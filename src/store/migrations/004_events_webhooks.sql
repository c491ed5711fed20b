-- Durable events (the outbox) and signed webhooks delivered from it (docs/webhooks.md).
--
-- Event ids: every tenant has one counter row; a transaction that writes events bumps it last, just
-- before it commits, and keeps its row lock until then. So a tenant's events commit in seq order and the
-- committed seqs are always a gapless prefix 1..last_seq (a rolled-back bump is undone with its
-- transaction). A reader that has seen seq n can ask for "seq > n" and never skip an event that commits
-- later with a lower number: there is none. (A plain identity column would not give that: a transaction
-- holding id 7 may commit after one holding id 8, and a reader at 8 would miss 7 for good.)

CREATE TABLE event_counters (
  tenant_id   uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  last_seq    bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
  -- Highest seq the retention job has deleted: a cursor below it may have missed events.
  pruned_seq  bigint NOT NULL DEFAULT 0 CHECK (pruned_seq >= 0)
);

CREATE TABLE events (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  seq         bigint NOT NULL CHECK (seq > 0),
  name        text NOT NULL CHECK (name IN ('message', 'message_ack', 'session_status', 'chat_updated', 'qr')),
  -- Set for chat events: employees get only the events of their chats.
  chat_id     text,
  payload     jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX events_created_idx ON events (created_at);

CREATE TABLE webhooks (
  id               uuid PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  url              text NOT NULL,
  events           text[] NOT NULL CHECK (cardinality(events) > 0),
  secret           text NOT NULL,
  enabled          boolean NOT NULL DEFAULT true,
  disabled_reason  text,
  -- Deliveries in flight at once (all nodes together); 1 keeps the receiver's order strict.
  max_concurrency  integer NOT NULL DEFAULT 1 CHECK (max_concurrency BETWEEN 1 AND 64),
  -- Fan-out cursor: every event of the tenant up to this seq has its delivery row, or did not match.
  scheduled_seq    bigint NOT NULL DEFAULT 0,
  -- First failed attempt since the last success: an endpoint failing for too long is disabled.
  failing_since    timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
CREATE INDEX webhooks_tenant_idx ON webhooks (tenant_id, created_at);

CREATE TABLE webhook_deliveries (
  tenant_id        uuid NOT NULL,
  webhook_id       uuid NOT NULL,
  seq              bigint NOT NULL,
  state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'succeeded', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  -- A claimed (in-flight) delivery: nobody else takes it before this time. A node that dies mid-delivery
  -- leaves it to expire, and the delivery is made again (same event id).
  locked_until     timestamptz,
  locked_by        text,
  last_status      integer,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  completed_at     timestamptz,
  PRIMARY KEY (webhook_id, seq),
  FOREIGN KEY (tenant_id, webhook_id) REFERENCES webhooks (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, seq) REFERENCES events (tenant_id, seq) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (webhook_id, seq) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (tenant_id, seq);

CREATE TABLE webhook_attempts (
  tenant_id    uuid NOT NULL,
  webhook_id   uuid NOT NULL,
  seq          bigint NOT NULL,
  attempt      integer NOT NULL,
  started_at   timestamptz NOT NULL,
  duration_ms  integer NOT NULL,
  status_code  integer,
  error        text,
  node_id      text NOT NULL,
  PRIMARY KEY (webhook_id, seq, attempt),
  FOREIGN KEY (webhook_id, seq) REFERENCES webhook_deliveries (webhook_id, seq) ON DELETE CASCADE
);

ALTER TABLE event_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhooks ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON event_counters
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON events
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON webhooks
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON webhook_deliveries
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON webhook_attempts
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

DO $$
BEGIN
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.event_counters, %I.events, %I.webhooks, %I.webhook_deliveries, %I.webhook_attempts TO wa_app',
    current_schema(), current_schema(), current_schema(), current_schema(), current_schema());
END
$$;
