import { randomBytes, randomUUID } from 'node:crypto';
import type { AppStore, TenantRef } from '../ports/connections.ts';
import type { SettingStore } from '../ports/store.ts';
import { signWebhook } from '../audit/exporters/sinks/standard-webhook.ts';
import type { Logger } from '../shared/logger.ts';

/** Delays between delivery attempts (then the event is given up and logged; the audit log keeps it). */
const RETRY_DELAYS_MS = [1_000, 5_000, 30_000];
const TIMEOUT_MS = 10_000;

/**
 * Connection events for an app's backend (`connection.needs_reauth`, `connection.revoked`), POSTed
 * to the app's webhook URL and signed per Standard Webhooks with the app's `whsec_` secret (kept
 * sealed in the settings). Delivery is retried a few times in the background; the same events
 * are in the audit log, which is the durable record.
 */
export class AppWebhooks {
  readonly #apps: AppStore;
  readonly #settings: SettingStore;
  readonly #log: Logger;
  readonly #pending = new Set<Promise<void>>();

  constructor(deps: { apps: AppStore; settings: SettingStore; log: Logger }) {
    this.#apps = deps.apps;
    this.#settings = deps.settings;
    this.#log = deps.log;
  }

  /** The app's signing secret (created on first use; shown to operators through the admin API). */
  secret(tenant: TenantRef): Promise<string> {
    return this.#settings.getOrCreate(`app_webhook_secret:${tenant.orgId}:${tenant.appId}`, () => `whsec_${randomBytes(32).toString('base64')}`);
  }

  /** Queues one event; never throws (a webhook that is down must not fail the request that caused it). */
  emit(tenant: TenantRef, type: string, data: Record<string, unknown>): void {
    const job = this.#deliver(tenant, type, data).catch((err: unknown) => {
      this.#log.warn({ type, err: { message: (err as Error).message } }, 'app webhook not delivered');
    });
    this.#pending.add(job);
    void job.finally(() => this.#pending.delete(job));
  }

  /** Waits for queued deliveries (shutdown, tests). */
  async drain(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  async #deliver(tenant: TenantRef, type: string, data: Record<string, unknown>): Promise<void> {
    const settings = await this.#apps.settings(tenant);
    if (!settings?.webhookUrl) return;
    const secret = await this.secret(tenant);
    const id = `msg_${randomUUID()}`;
    const body = JSON.stringify({ type, timestamp: new Date().toISOString(), data });
    for (let attempt = 0; ; attempt++) {
      const timestamp = Math.floor(Date.now() / 1000);
      let status = 0;
      try {
        const response = await fetch(settings.webhookUrl, {
          method: 'POST',
          redirect: 'manual',
          signal: AbortSignal.timeout(TIMEOUT_MS),
          headers: {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signWebhook(secret, id, timestamp, body),
          },
          body,
        });
        status = response.status;
        await response.body?.cancel();
        if (response.ok) return;
      } catch {
        // no response: retried like a 5xx
      }
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay === undefined) throw new Error(`gave up after ${attempt + 1} attempts (last status ${status || 'no response'})`);
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
    }
  }
}
