/**
 * Migration 6: the audit log's durability barrier (docs/audit.md, Durability). With
 * `ALTER_AUDIT_COMMIT=async`, audit entries are committed without waiting for the disk; before
 * an entry leaves the database (an exporter, a signed checkpoint) a synchronous write to this
 * one-row table flushes the write-ahead log up to it, and so every entry committed before it.
 */
export const SCHEMA_V6 = `
CREATE TABLE audit_flushes (
  id         smallint PRIMARY KEY CHECK (id = 1),
  flushed_at timestamptz NOT NULL
);
`;
