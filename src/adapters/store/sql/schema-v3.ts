/**
 * Migration 3: the tamper-evident audit log (DESIGN.md, Audit log). One hash chain per org:
 * `audit_log` rows are never updated or deleted (triggers refuse it, whoever asks), the head row
 * per org is locked by every append so sequence order equals commit order with no gaps, signed
 * checkpoints are kept beside the log, and each exporter has a cursor per org.
 *
 * The interim, unchained `audit_events` table of migration 2 is kept, renamed, for its rows.
 */
export const SCHEMA_V3 = `
ALTER TABLE audit_events RENAME TO audit_events_unchained;

CREATE TABLE audit_heads (
  org_id     text PRIMARY KEY,
  seq        bigint NOT NULL,
  entry_hash text NOT NULL
);

CREATE TABLE audit_log (
  org_id      text NOT NULL,
  seq         bigint NOT NULL,
  occurred_at timestamptz NOT NULL,
  type        text NOT NULL,
  app_id      text,
  agent_id    text,
  run_id      text,
  end_user    text,
  provider    text,
  event       text NOT NULL,
  leaf_hash   text NOT NULL,
  prev_hash   text NOT NULL,
  entry_hash  text NOT NULL,
  PRIMARY KEY (org_id, seq)
);
CREATE INDEX audit_log_type_idx ON audit_log (org_id, type, seq);
CREATE INDEX audit_log_agent_idx ON audit_log (org_id, agent_id, seq) WHERE agent_id IS NOT NULL;
CREATE INDEX audit_log_run_idx ON audit_log (org_id, run_id, seq) WHERE run_id IS NOT NULL;
CREATE INDEX audit_log_end_user_idx ON audit_log (org_id, end_user, seq) WHERE end_user IS NOT NULL;
CREATE INDEX audit_log_provider_idx ON audit_log (org_id, provider, seq) WHERE provider IS NOT NULL;
CREATE INDEX audit_log_time_idx ON audit_log (org_id, occurred_at);

CREATE TABLE audit_checkpoints (
  org_id     text NOT NULL,
  seq        bigint NOT NULL,
  head_hash  text NOT NULL,
  note       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, seq)
);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

CREATE TABLE audit_export_cursors (
  sink        text NOT NULL,
  org_id      text NOT NULL,
  seq         bigint NOT NULL DEFAULT 0,
  failures    int NOT NULL DEFAULT 0,
  last_error  text,
  dead_at     timestamptz,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sink, org_id)
);
`;
