-- wa-tenants: initial schema. Runs on PostgreSQL 15 (production) and PGlite (PostgreSQL 18, embedded).
-- Every table holding tenant data carries tenant_id; row-level security (end of file) is the second wall
-- behind the explicit tenant_id filter in every query.

CREATE TABLE tenants (
  id          uuid PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id             uuid PRIMARY KEY,
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  role           text NOT NULL CHECK (role IN ('admin', 'employee')),
  name           text NOT NULL,
  email          text NOT NULL,
  password_hash  text NOT NULL,
  disabled_at    timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
-- An email names one account across the whole service (login takes only email + password).
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE refresh_tokens (
  id           uuid PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id      uuid NOT NULL,
  family_id    uuid NOT NULL,
  token_hash   text NOT NULL UNIQUE,
  expires_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  replaced_by  uuid,
  created_at   timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (tenant_id, user_id);

CREATE TABLE chats (
  tenant_id             uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id                    text NOT NULL,
  name                  text NOT NULL DEFAULT '',
  is_group              boolean NOT NULL DEFAULT false,
  unread_count          integer NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
  last_message_at       timestamptz,
  last_message_preview  text,
  updated_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX chats_recent_idx ON chats (tenant_id, last_message_at DESC NULLS LAST);

CREATE TABLE messages (
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  seq            bigint GENERATED ALWAYS AS IDENTITY,
  wa_message_id  text NOT NULL,
  chat_id        text NOT NULL,
  from_me        boolean NOT NULL,
  sender         text NOT NULL,
  body           text NOT NULL DEFAULT '',
  type           text NOT NULL DEFAULT 'chat'
                 CHECK (type IN ('chat', 'image', 'video', 'audio', 'document', 'sticker', 'other')),
  has_media      boolean NOT NULL DEFAULT false,
  ack            smallint NOT NULL DEFAULT 0 CHECK (ack BETWEEN -1 AND 4),
  sent_at        timestamptz NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, seq),
  -- Inbound delivery is at least once: the WhatsApp id makes a redelivery a no-op.
  UNIQUE (tenant_id, wa_message_id),
  FOREIGN KEY (tenant_id, chat_id) REFERENCES chats (tenant_id, id) ON DELETE CASCADE
);
-- Cursor pagination: newest first by (sent_at, seq).
CREATE INDEX messages_chat_page_idx ON messages (tenant_id, chat_id, sent_at DESC, seq DESC);

CREATE TABLE media (
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  wa_message_id  text NOT NULL,
  mimetype       text NOT NULL,
  filename       text,
  size_bytes     integer NOT NULL CHECK (size_bytes >= 0),
  sha256         text NOT NULL,
  data           bytea NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, wa_message_id),
  FOREIGN KEY (tenant_id, wa_message_id) REFERENCES messages (tenant_id, wa_message_id) ON DELETE CASCADE
);

CREATE TABLE chat_permissions (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id     uuid NOT NULL,
  chat_id     text NOT NULL,
  granted_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id, chat_id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, chat_id) REFERENCES chats (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX chat_permissions_chat_idx ON chat_permissions (tenant_id, chat_id);

CREATE TABLE sessions (
  tenant_id       uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  desired_state   text NOT NULL DEFAULT 'stopped' CHECK (desired_state IN ('active', 'stopped')),
  status          text NOT NULL DEFAULT 'stopped'
                  CHECK (status IN ('stopped', 'starting', 'qr', 'connected', 'disconnected', 'logged_out', 'failed')),
  status_reason   text,
  owner_node      text,
  -- Fencing: the lease epoch of the node allowed to write this tenant's session data.
  lease_epoch     bigint NOT NULL DEFAULT 0,
  credentials     bytea,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Row-level security. The application runs tenant queries as role wa_app with app.tenant_id set for the
-- transaction; a query without that setting sees no rows. (Superusers and BYPASSRLS roles skip RLS, so
-- the store switches to wa_app with SET LOCAL ROLE.)
-- The role is cluster-wide: another database (or schema) may have created it already. The migration
-- runner's advisory lock serializes schemas of one database; the exception covers other databases.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'wa_app') THEN
    CREATE ROLE wa_app NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;
-- SET ROLE needs membership; a superuser (tests, PGlite) has it implicitly, a production owner role
-- without superuser needs the grant (PG15: a CREATEROLE owner may grant it).
DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
     AND NOT pg_has_role(current_user, 'wa_app', 'MEMBER') THEN
    EXECUTE format('GRANT wa_app TO %I', current_user);
  END IF;
END
$$;

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE chats ENABLE ROW LEVEL SECURITY;
ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE media ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat_permissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON tenants
  USING (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON users
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON refresh_tokens
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON chats
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON messages
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON media
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON chat_permissions
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON sessions
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- wa_app works in whatever schema these migrations ran in (tests use one schema each). Tables are granted
-- by name, not "ALL TABLES IN SCHEMA", so wa_app gets nothing on schema_migrations; a later migration that
-- adds a tenant table grants it (and enables RLS on it) the same way.
DO $$
BEGIN
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO wa_app', current_schema());
  -- The identity sequence of messages.seq.
  EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO wa_app', pg_get_serial_sequence('messages', 'seq'));
END
$$;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, users, refresh_tokens, chats, messages, media, chat_permissions, sessions
  TO wa_app;
