import { createHmac, randomBytes } from 'node:crypto';
import type { SettingStore } from '../ports/store.ts';

/**
 * Sensitive identifiers (token ids) appear in audit events only as HMAC-SHA256 under a key of
 * their own (as HashiCorp Vault's audit devices do): equal ids match across events, the raw id
 * cannot be read back, and an operator holding a token id can find its events
 * (`alter audit hmac VALUE`, `POST /v1/admin/audit/hmac`).
 */
export class IdentifierHmac {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    this.#key = key;
  }

  static async load(settings: SettingStore): Promise<IdentifierHmac> {
    const key = await settings.getOrCreate('audit_hmac_key', () => randomBytes(32).toString('base64url'));
    return new IdentifierHmac(Buffer.from(key, 'base64url'));
  }

  of(value: string): string {
    return `hmac-sha256:${createHmac('sha256', this.#key).update(value, 'utf8').digest('hex')}`;
  }
}
