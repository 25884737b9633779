import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretStore } from '../../../src/ports/vault.ts';
import { VaultUnavailable } from '../../../src/shared/errors.ts';
import { identity } from './describe-secret-store.ts';
import type { HttpFake } from './http-fake.ts';

/** What {@link describeFailures} needs from one adapter's test. */
export interface FailureSetup {
  fake: HttpFake;
  /** A store pointed at the fake with the right credentials and a short timeout. */
  store: SecretStore;
  /** The same store with wrong credentials. */
  badStore: SecretStore;
  /** Credential material that must never appear in an error message. */
  credentials: string[];
  /** The timeout configured on `store`, in ms. */
  timeoutMs: number;
  /** How many attempts the adapter makes per call (AWS retries once). */
  attempts?: number;
}

async function failure(promise: Promise<unknown>): Promise<VaultUnavailable> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(VaultUnavailable);
  return error as VaultUnavailable;
}

/**
 * Failure behaviour every external adapter shares: denied, down and hanging services are a
 * bounded {@link VaultUnavailable} naming the adapter without credentials or values in the
 * message, and values cross the wire only base64-encoded in the bodies meant to carry them.
 */
export function describeFailures(adapter: string, open: () => Promise<FailureSetup>): void {
  describe(`${adapter} adapter failures and traffic`, () => {
    let setup: FailureSetup;
    const value = `plain-${randomBytes(12).toString('hex')}`;
    beforeAll(async () => {
      setup = await open();
    });
    afterAll(async () => {
      await setup.fake.close();
    });

    const clean = (error: Error): void => {
      const text = `${error.message} ${String(error.cause)}`;
      for (const secret of [...setup.credentials, value, Buffer.from(value).toString('base64')]) expect(text).not.toContain(secret);
    };

    it('wrong credentials are VaultUnavailable naming the adapter, without secrets', async () => {
      const error = await failure(setup.badStore.put(identity(), Buffer.from(value)));
      expect(error.adapter).toBe(adapter);
      expect(error.code).toBe('ERR_VAULT_UNAVAILABLE');
      expect(error.message).toContain(adapter);
      clean(error);
      clean(await failure(setup.badStore.get(identity())));
    });

    it('a service answering 503 is VaultUnavailable', async () => {
      setup.fake.mode = 'down';
      try {
        const error = await failure(setup.store.get(identity()));
        expect(error.adapter).toBe(adapter);
        clean(error);
        await failure(setup.store.put(identity(), Buffer.from(value)));
      } finally {
        setup.fake.mode = 'ok';
      }
    });

    it('a hanging service is a bounded VaultUnavailable', async () => {
      setup.fake.mode = 'hang';
      try {
        const started = Date.now();
        const error = await failure(setup.store.get(identity()));
        expect(error.adapter).toBe(adapter);
        expect(Date.now() - started).toBeLessThan(setup.timeoutMs * (setup.attempts ?? 1) + 2_000);
        clean(error);
      } finally {
        setup.fake.mode = 'ok';
      }
    });

    it('values cross the wire only base64-encoded, in write requests and read responses', async () => {
      const id = identity();
      const before = setup.fake.traffic.length;
      await setup.store.put(id, Buffer.from(value));
      expect(Buffer.from(await setup.store.get(id)).toString()).toBe(value);
      await setup.store.listVersions(id);
      await setup.store.delete(id);
      const exchanges = setup.fake.traffic.slice(before);
      const encoded = Buffer.from(value).toString('base64');
      let written = 0;
      let read = 0;
      for (const exchange of exchanges) {
        expect(JSON.stringify(exchange)).not.toContain(value);
        expect(exchange.url).not.toContain(encoded);
        expect(JSON.stringify(exchange.headers)).not.toContain(encoded);
        if (exchange.requestBody.includes(encoded)) written++;
        if (exchange.responseBody.includes(encoded)) read++;
      }
      expect(written).toBeGreaterThanOrEqual(1);
      expect(read).toBeGreaterThanOrEqual(1);
    });
  });
}
