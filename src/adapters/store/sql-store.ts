import type { SqlDatabase } from '../../ports/sql.ts';
import type { Store } from '../../ports/store.ts';
import { createAdminKeyRepository } from './sql/admin-key-repository.ts';
import { createAgentRepository } from './sql/agent-repository.ts';
import { runMigrations } from './sql/migrations.ts';
import { createOidcModelRepository } from './sql/oidc-model-repository.ts';
import { createRevocationRepository } from './sql/revocation-repository.ts';
import { createSettingRepository } from './sql/setting-repository.ts';
import { createSigningKeyRepository } from './sql/signing-key-repository.ts';
import { createTenantRepository } from './sql/tenant-repository.ts';

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
    async migrate() {
      await runMigrations(db);
    },
    ping: () => db.ping(),
    close: () => db.close(),
  };
}
