import type { SqlDatabase } from '../../ports/sql.ts';
import type { Store } from '../../ports/store.ts';
import { createAdminKeyRepository } from './sql/admin-key-repository.ts';
import { createAgentRepository } from './sql/agent-repository.ts';
import { createAuditLogRepository } from './sql/audit-log-repository.ts';
import { createConnectionRepository } from './sql/connection-repository.ts';
import { createDelegationCounterRepository } from './sql/delegation-counter-repository.ts';
import { createExportCursorRepository } from './sql/export-cursor-repository.ts';
import { createManagedSecretRepository } from './sql/managed-secret-repository.ts';
import { createPolicyRevisionRepository } from './sql/policy-revision-repository.ts';
import { runMigrations } from './sql/migrations.ts';
import { createOidcModelRepository } from './sql/oidc-model-repository.ts';
import { createRevocationRepository } from './sql/revocation-repository.ts';
import { createSettingRepository } from './sql/setting-repository.ts';
import { createSigningKeyRepository } from './sql/signing-key-repository.ts';
import { createTenantRepository } from './sql/tenant-repository.ts';
import { createVaultKekRepository, createVaultRecordRepository } from './sql/vault-repository.ts';

/**
 * The {@link Store} over one SQL database (PostgreSQL or PGlite; the SQL is the same).
 * Call `migrate()` before using the repositories.
 */
export function createSqlStore(db: SqlDatabase): Store {
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
    audit: createAuditLogRepository(db),
    exportCursors: createExportCursorRepository(db),
    vaultRecords: createVaultRecordRepository(db),
    vaultKeks: createVaultKekRepository(db),
    managedSecrets: createManagedSecretRepository(db),
    async migrate() {
      await runMigrations(db);
    },
    ping: () => db.ping(),
    close: () => db.close(),
  };
}
