import type { SqlDatabase } from '../../ports/sql.ts';
import type { Store } from '../../ports/store.ts';
import { createAdminKeyRepository } from './sql/admin-key-repository.ts';
import { createAgentRepository } from './sql/agent-repository.ts';
import { createAuditLogRepository, type AuditLogRepositoryOptions } from './sql/audit-log-repository.ts';
import { createAppKeyRepository, createAppRepository } from './sql/app-repository.ts';
import { createConnectionRepository } from './sql/connection-repository.ts';
import { createConnectSessionRepository } from './sql/connect-session-repository.ts';
import { createProviderConfigRepository } from './sql/provider-config-repository.ts';
import { createUpstreamRevocationRepository } from './sql/upstream-revocation-repository.ts';
import { createDelegationCounterRepository } from './sql/delegation-counter-repository.ts';
import { createExportCursorRepository } from './sql/export-cursor-repository.ts';
import { createManagedSecretRepository } from './sql/managed-secret-repository.ts';
import { createPolicyRevisionRepository } from './sql/policy-revision-repository.ts';
import { ADVISORY_LOCK } from './sql/locks.ts';
import { runMigrations } from './sql/migrations.ts';
import { createOidcModelRepository } from './sql/oidc-model-repository.ts';
import { createRevocationRepository } from './sql/revocation-repository.ts';
import { createSettingRepository } from './sql/setting-repository.ts';
import { createSigningKeyRepository } from './sql/signing-key-repository.ts';
import { createTenantRepository } from './sql/tenant-repository.ts';
import { createVaultKekRepository, createVaultRecordRepository } from './sql/vault-repository.ts';

/**
 * The {@link Store} over one SQL database (PostgreSQL or PGlite; the SQL is the same).
 * Call `migrate()` before using the repositories. `audit.commit`: see {@link AuditLogRepositoryOptions}.
 */
export function createSqlStore(db: SqlDatabase, options: { audit?: AuditLogRepositoryOptions } = {}): Store {
  return {
    kind: db.kind,
    oidc: createOidcModelRepository(db),
    tenants: createTenantRepository(db),
    agents: createAgentRepository(db),
    signingKeys: createSigningKeyRepository(db),
    revocations: createRevocationRepository(db),
    adminKeys: createAdminKeyRepository(db),
    settings: createSettingRepository(db),
    connections: createConnectionRepository(db),
    policies: createPolicyRevisionRepository(db),
    delegations: createDelegationCounterRepository(db),
    audit: createAuditLogRepository(db, options.audit),
    exportCursors: createExportCursorRepository(db),
    vaultRecords: createVaultRecordRepository(db),
    vaultKeks: createVaultKekRepository(db),
    managedSecrets: createManagedSecretRepository(db),
    apps: createAppRepository(db),
    appKeys: createAppKeyRepository(db),
    providerConfigs: createProviderConfigRepository(db),
    connectSessions: createConnectSessionRepository(db),
    upstreamRevocations: createUpstreamRevocationRepository(db),
    async exclusive(lock, fn) {
      // PGlite has one connection and one process (the data directory is locked): nothing to exclude
      if (db.kind === 'pglite') {
        await fn();
        return true;
      }
      return db.transaction(async (tx) => {
        const rows = await tx.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(${ADVISORY_LOCK[lock]}) AS ok`);
        if (!rows[0]?.ok) return false;
        await fn();
        return true;
      });
    },

    async migrate() {
      await runMigrations(db);
    },
    ping: () => db.ping(),
    close: () => db.close(),
  };
}
