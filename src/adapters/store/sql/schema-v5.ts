/**
 * Migration 5: connections (issue 6). Apps get the allowlists Connect checks (redirect URLs,
 * popup origins) and a webhook URL; app API keys (hashed) authenticate app backends; each app
 * configures the providers it uses (client ID here, client secret in the vault); Connect
 * sessions carry one end user through a provider's authorization code flow; connections gain
 * what refresh needs (the vault version of the token set, when it expires, whether it can be
 * refreshed) and `needs_reauth`; broker-mode upstream tokens wait in `upstream_revocations`
 * until they are revoked at the policy TTL.
 */
export const SCHEMA_V5 = `
ALTER TABLE apps ADD COLUMN redirect_urls text[] NOT NULL DEFAULT '{}';
ALTER TABLE apps ADD COLUMN allowed_origins text[] NOT NULL DEFAULT '{}';
ALTER TABLE apps ADD COLUMN webhook_url text;

CREATE TABLE app_keys (
  id           text PRIMARY KEY,
  org_id       text NOT NULL,
  app_id       text NOT NULL,
  name         text NOT NULL,
  key_hash     text NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);
CREATE INDEX app_keys_tenant_idx ON app_keys (org_id, app_id, created_at);

CREATE TABLE provider_configs (
  org_id         text NOT NULL,
  app_id         text NOT NULL,
  provider       text NOT NULL,
  client_id      text NOT NULL,
  secret_version int,
  scopes         text[] NOT NULL DEFAULT '{}',
  params         jsonb NOT NULL DEFAULT '{}',
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, app_id, provider)
);

ALTER TABLE connections DROP CONSTRAINT connections_status_check;
ALTER TABLE connections ADD CONSTRAINT connections_status_check CHECK (status IN ('active', 'needs_reauth', 'revoked'));
ALTER TABLE connections ADD COLUMN upstream_scopes  text[] NOT NULL DEFAULT '{}';
ALTER TABLE connections ADD COLUMN params           jsonb NOT NULL DEFAULT '{}';
ALTER TABLE connections ADD COLUMN account          text;
ALTER TABLE connections ADD COLUMN token_version    int NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN token_expires_at timestamptz;
ALTER TABLE connections ADD COLUMN refreshable      boolean NOT NULL DEFAULT false;
ALTER TABLE connections ADD COLUMN refreshed_at     timestamptz;
ALTER TABLE connections ADD COLUMN last_used_at     timestamptz;
CREATE INDEX connections_end_user_idx ON connections (org_id, app_id, end_user_id, created_at, id);
CREATE INDEX connections_refresh_due_idx ON connections (token_expires_at) WHERE status = 'active' AND refreshable;

CREATE TABLE connect_sessions (
  id                  text PRIMARY KEY,
  org_id              text NOT NULL,
  app_id              text NOT NULL,
  token_hash          text NOT NULL UNIQUE,
  end_user_id         text NOT NULL,
  providers           text[] NOT NULL DEFAULT '{}',
  scopes              text[] NOT NULL DEFAULT '{}',
  params              jsonb NOT NULL DEFAULT '{}',
  redirect_url        text,
  reconnect_id        text,
  status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'failed')),
  connection_id       text,
  error               text,
  error_description   text,
  flow_state          text UNIQUE,
  flow_provider       text,
  flow_mode           text,
  flow_origin         text,
  expires_at          timestamptz NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  completed_at        timestamptz
);
CREATE INDEX connect_sessions_expires_idx ON connect_sessions (expires_at);

CREATE TABLE upstream_revocations (
  id            text PRIMARY KEY,
  org_id        text NOT NULL,
  app_id        text NOT NULL,
  connection_id text NOT NULL,
  provider      text NOT NULL,
  due_at        timestamptz NOT NULL,
  attempts      int NOT NULL DEFAULT 0,
  last_error    text
);
CREATE INDEX upstream_revocations_due_idx ON upstream_revocations (due_at);
`;
