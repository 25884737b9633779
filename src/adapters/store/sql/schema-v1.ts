/**
 * Migration 1: the initial schema. Every time is `timestamptz`; expiry is compared with the
 * database's `now()` so that several nodes agree on it.
 */
export const SCHEMA_V1 = `
CREATE TABLE orgs (
  id         text PRIMARY KEY,
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE apps (
  id         text PRIMARY KEY,
  org_id     text NOT NULL REFERENCES orgs (id),
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agents (
  id          text PRIMARY KEY,
  org_id      text NOT NULL,
  app_id      text NOT NULL,
  name        text NOT NULL,
  agent_class text NOT NULL,
  status      text NOT NULL DEFAULT 'active' CONSTRAINT agents_status_check CHECK (status IN ('active', 'disabled')),
  jwks        jsonb,
  jwks_uri    text,
  scopes      text[] NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT agents_app_name_key UNIQUE (app_id, name),
  CONSTRAINT agents_one_key_source CHECK (num_nonnulls(jwks, jwks_uri) = 1)
);
CREATE INDEX agents_tenant_page_idx ON agents (org_id, app_id, created_at, id);

CREATE TABLE oidc_models (
  model      text NOT NULL,
  id         text NOT NULL,
  payload    jsonb NOT NULL,
  grant_id   text,
  user_code  text,
  uid        text,
  expires_at timestamptz,
  PRIMARY KEY (model, id)
);
CREATE INDEX oidc_models_grant_id_idx ON oidc_models (model, grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_models_uid_idx ON oidc_models (model, uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_models_user_code_idx ON oidc_models (model, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oidc_models_expires_at_idx ON oidc_models (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE signing_keys (
  kid          text PRIMARY KEY,
  alg          text NOT NULL CHECK (alg IN ('EdDSA', 'ES256')),
  private_jwk  jsonb NOT NULL,
  state        text NOT NULL CHECK (state IN ('next', 'current', 'retired')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  activated_at timestamptz,
  retired_at   timestamptz
);
CREATE UNIQUE INDEX signing_keys_one_current_idx ON signing_keys (state) WHERE state = 'current';
CREATE UNIQUE INDEX signing_keys_one_next_idx ON signing_keys (state) WHERE state = 'next';

CREATE TABLE revocations (
  org_id     text NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('jti', 'agent')),
  value      text NOT NULL,
  revoked_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, kind, value)
);
CREATE INDEX revocations_kind_value_idx ON revocations (kind, value);
CREATE INDEX revocations_expires_at_idx ON revocations (expires_at);

CREATE TABLE admin_keys (
  key_hash   text PRIMARY KEY,
  org_id     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

CREATE TABLE settings (
  name       text PRIMARY KEY,
  value      jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
`;
