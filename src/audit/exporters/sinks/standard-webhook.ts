import { createHmac } from 'node:crypto';
import type { AuditEntry } from '../../../ports/audit.ts';
import type { WebhookExporterConfig } from '../exporter-types.ts';
import { batchId, eventOf, httpFailure, type SinkFormat } from '../sink.ts';

/** The key of a `whsec_…` secret. */
function secretKey(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
}

/**
 * `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>` (Standard Webhooks, "Signature
 * scheme"), the key being the base64-decoded part of the secret after `whsec_`.
 */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64');
  return `v1,${mac}`;
}

/** One entry of an `audit.batch`: the event and its chain hashes (a receiver can verify the chain). */
function batchEntry(entry: AuditEntry): Record<string, unknown> {
  return { seq: entry.seq, event: eventOf(entry), prev_hash: entry.prevHash, entry_hash: entry.entryHash };
}

/**
 * A generic HTTPS endpoint, signed per Standard Webhooks: one POST per batch with
 * `webhook-id` (the batch id `<org>:<firstSeq>-<lastSeq>`, the same on every retry of the same
 * entries), `webhook-timestamp` (unix seconds of this attempt) and `webhook-signature`; body
 * `{"type":"audit.batch","entries":[…]}`. Any 2xx is success.
 *
 * @see https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
export function standardWebhookFormat(config: WebhookExporterConfig): SinkFormat {
  return {
    requests(entries, now) {
      if (entries.length === 0) return [];
      const id = batchId(entries);
      const timestamp = Math.floor(now.getTime() / 1000);
      const body = JSON.stringify({ type: 'audit.batch', entries: entries.map(batchEntry) });
      return [{
        url: config.url,
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(config.secret, id, timestamp, body),
          'idempotency-key': id,
        },
        body,
        lastSeq: entries.at(-1)!.seq,
        count: entries.length,
      }];
    },
    check: (response) => (response.status >= 200 && response.status <= 299 ? undefined : httpFailure(response)),
  };
}
