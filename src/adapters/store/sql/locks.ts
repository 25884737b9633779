/**
 * `pg_advisory_xact_lock` keys (one bigint namespace per database). Constants, so every node
 * of a cluster takes the same lock.
 */
export const ADVISORY_LOCK = {
  /** Held while versioned migrations are applied. */
  migrations: 0x616c_7401,
  /** Held while signing keys are initialized or rotated. */
  signingKeys: 0x616c_7402,
  /** Held for a whole audit export pass (one node exports at a time). */
  auditExport: 0x616c_7403,
} as const;
