/**
 * Migration 2: token exchange and policy (issue 3). Connections (a grant to act for an end user
 * or the org at a provider; filled by Connect in a later issue), the audit events the policy
 * engine emits (the audit issue chains and signs them), policy revisions shared by every node,
 * and per-token delegation counters (fan-out limit).
 */
export const SCHEMA_V2 = `
CREATE TABLE connections (
  id          text PRIMARY KEY,
  org_id      text NOT NULL,
  app_id      text NOT NULL,
  provider    text NOT NULL,
  end_user_id text,
  scopes      text[] NOT NULL DEFAULT '{}',
  status      text NOT NULL DEFAULT 'active' CONSTRAINT connections_status_check CHECK (status IN ('active', 'revoked')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connections_tenant_idx ON connections (org_id, app_id, created_at, id);

CREATE TABLE audit_events (
  id          bigserial PRIMARY KEY,
  org_id      text NOT NULL,
  type        text NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  event       jsonb NOT NULL
);
CREATE INDEX audit_events_org_idx ON audit_events (org_id, id);

CREATE TABLE policy_revisions (
  revision   text PRIMARY KEY,
  origin     text NOT NULL,
  body       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE policy_active (
  id           int PRIMARY KEY CHECK (id = 1),
  revision     text NOT NULL REFERENCES policy_revisions (revision),
  activated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE delegation_counts (
  subject_jti text PRIMARY KEY,
  children    int NOT NULL,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX delegation_counts_expires_at_idx ON delegation_counts (expires_at);
`;
