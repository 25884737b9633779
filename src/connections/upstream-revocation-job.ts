import type { AuditSink } from '../ports/audit.ts';
import type { ConnectionStore, UpstreamRevocationStore } from '../ports/connections.ts';
import type { SecretStore } from '../ports/vault.ts';
import { SecretNotFound } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { ConnectionTokenService } from './connection-tokens.ts';
import type { ProviderConfigService } from './provider-configs.ts';
import { revokeUpstream } from './revoke-upstream.ts';
import { UPSTREAM_REVOCATION_PURPOSE } from './upstream-broker.ts';

export interface UpstreamRevocationDeps {
  revocations: UpstreamRevocationStore;
  connections: ConnectionStore;
  tokens: ConnectionTokenService;
  providers: ProviderConfigService;
  vault: SecretStore;
  audit: AuditSink;
  log: Logger;
}

const LEASE_MS = 5 * 60_000;
/** After this many failed attempts (about an hour of leases) the item is given up, and audited. */
const MAX_ATTEMPTS = 12;

/**
 * Revokes broker-mode upstream tokens when their policy TTL ends. Each item is leased by one
 * node; a failure is retried after the lease. When the revoked token is still the connection's
 * current one, the connection's token is marked expired so the next use refreshes it.
 */
export class UpstreamRevocationJob {
  readonly #deps: UpstreamRevocationDeps;

  constructor(deps: UpstreamRevocationDeps) {
    this.#deps = deps;
  }

  /** One pass; returns how many tokens were revoked. */
  async run(now = new Date()): Promise<number> {
    const { revocations, connections, tokens, providers, vault, audit, log } = this.#deps;
    let done = 0;
    for (const item of await revocations.claimDue(now, 50, LEASE_MS)) {
      const identity = { orgId: item.orgId, appId: item.appId, recordId: item.id, purpose: UPSTREAM_REVOCATION_PURPOSE };
      try {
        let token: string;
        try {
          token = Buffer.from(await vault.get(identity)).toString('utf8');
        } catch (err) {
          if (err instanceof SecretNotFound) {
            await revocations.complete(item.id);
            continue;
          }
          throw err;
        }
        const connection = await connections.findById(item.connectionId);
        const configured = connection && (await providers.find(connection, connection.provider));
        if (configured) {
          const client = await providers.client(configured, connection.params);
          await revokeUpstream(client, token, 'access_token');
          if (connection.status === 'active' && connection.tokenVersion > 0 && (await tokens.read(connection)).access_token === token) {
            await connections.withRefreshLock(connection.id, (current, locked) =>
              current && current.tokenVersion === connection.tokenVersion
                ? locked.setTokens({ tokenVersion: current.tokenVersion, tokenExpiresAt: new Date(), refreshable: current.refreshable })
                : Promise.resolve(undefined));
          }
        }
        await vault.delete(identity);
        await revocations.complete(item.id);
        await audit.record({ orgId: item.orgId, type: 'connection.upstream_token_revoked', data: { app: item.appId, connection: item.connectionId, provider: item.provider } });
        done++;
      } catch (err) {
        const message = (err as Error).message;
        log.warn({ connection: item.connectionId, provider: item.provider, attempts: item.attempts, err: { message } }, 'upstream token revocation failed');
        if (item.attempts >= MAX_ATTEMPTS) {
          await vault.delete(identity).catch(() => {});
          await revocations.complete(item.id);
          await audit.record({ orgId: item.orgId, type: 'connection.upstream_revocation_failed', data: { app: item.appId, connection: item.connectionId, provider: item.provider, reason: message.slice(0, 300) } });
        } else {
          await revocations.fail(item.id, message);
        }
      }
    }
    return done;
  }
}
