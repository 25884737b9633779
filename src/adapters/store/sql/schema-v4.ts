/**
 * Migration 4: the built-in vault (issue 5). `vault_records` holds AES-256-GCM envelopes: the
 * value encrypted under a per-record data key, the data key wrapped by a key-encryption key.
 * Only `wrapped_key` and `kek_version` ever change (KEK rotation re-wraps, never re-encrypts).
 * `managed_secrets` holds developer-managed credentials' metadata (their values live in the
 * vault). `vault_keks` lists the local KEK versions (derived from the master key, never stored) with a
 * check value that proves at start that the master key is the right one.
 */
export const SCHEMA_V4 = `
CREATE TABLE vault_keks (
  version     int PRIMARY KEY,
  check_value text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE vault_records (
  org_id      text NOT NULL,
  app_id      text NOT NULL,
  purpose     text NOT NULL,
  record_id   text NOT NULL,
  version     int NOT NULL,
  kek_version text NOT NULL,
  wrapped_key text NOT NULL,
  nonce       text NOT NULL,
  ciphertext  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, app_id, purpose, record_id, version)
);
CREATE INDEX vault_records_kek_idx ON vault_records (kek_version);

CREATE TABLE managed_secrets (
  id              text PRIMARY KEY,
  org_id          text NOT NULL,
  app_id          text NOT NULL,
  name            text NOT NULL,
  type            text NOT NULL CHECK (type IN ('bearer', 'api_key', 'basic', 'aws_sigv4')),
  metadata        jsonb NOT NULL DEFAULT '{}',
  current_version int NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT managed_secrets_app_name_key UNIQUE (app_id, name)
);
CREATE INDEX managed_secrets_tenant_idx ON managed_secrets (org_id, app_id, created_at, id);
`;
