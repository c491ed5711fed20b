-- whatsapp-web.js RemoteAuth sessions: the zipped browser profile of a tenant's WhatsApp link, so any node
-- can restore it (src/store/remote-auth.ts). Writes are fenced by sessions.lease_epoch; lease_epoch here
-- records which lease wrote the blob, so an older writer can never overwrite a newer one's.
CREATE TABLE remote_auth_sessions (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  session      text NOT NULL CHECK (session ~ '^[-_A-Za-z0-9]{1,128}$'),
  data         bytea NOT NULL,
  size_bytes   integer NOT NULL CHECK (size_bytes >= 0),
  sha256       text NOT NULL,
  lease_epoch  bigint NOT NULL CHECK (lease_epoch >= 0),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, session)
);

ALTER TABLE remote_auth_sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON remote_auth_sessions
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

DO $$
BEGIN
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.remote_auth_sessions TO wa_app', current_schema());
END
$$;
