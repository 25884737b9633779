/**
 * Vault benchmark (`npm run bench:vault`): built-in AES-256-GCM envelope encryption on
 * PostgreSQL — encrypt+store (put) and fetch+decrypt (get) latency, p50/p99, one at a time, on
 * a 1 KiB value; and the same crypto alone (no database) as the baseline measured in the same run
 * (each store line carries its p50 as a ratio to the baseline's).
 * Environment: BENCH_SAMPLES (default 3000), ALTER_TEST_PG_URL.
 */
import { randomBytes } from 'node:crypto';
import { openPostgres } from '../src/adapters/store/postgres.ts';
import { createSqlStore } from '../src/adapters/store/sql-store.ts';
import { open, recordContext, seal } from '../src/vault/envelope.ts';
import { EnvelopeSecretStore } from '../src/vault/envelope-secret-store.ts';
import { LocalKekProvider } from '../src/vault/local-kek.ts';
import { createTestDatabase } from '../test/helpers/postgres.ts';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 3000);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const line = (metric: string, xs: number[], extra: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ bench: 'vault', metric, samples: xs.length, p50_ms: +pct(xs, 0.5).toFixed(3), p99_ms: +pct(xs, 0.99).toFixed(3), ...extra })}\n`);

const db = await createTestDatabase();
const store = createSqlStore(await openPostgres(db.url, { max: 4 }));
try {
  await store.migrate();
  const kek = await LocalKekProvider.open(randomBytes(32), store.vaultKeks);
  const vault = new EnvelopeSecretStore({ records: store.vaultRecords, kek });
  const value = randomBytes(1024);
  const id = (n: number) => ({ orgId: 'org_bench', appId: 'app_bench', recordId: `sec_${n}`, purpose: 'managed_secret' });

  // baseline: the envelope crypto alone (data key + value sealed, data key wrapped, then opened)
  const crypto: number[] = [];
  for (let n = 0; n < SAMPLES; n++) {
    const t = performance.now();
    const ctx = recordContext(id(n), 1);
    const dek = await kek.generateDataKey(ctx);
    const sealed = seal(dek.plaintext, value, ctx);
    const unwrapped = await kek.unwrap(dek.wrapped, ctx);
    open(unwrapped, sealed.nonce, sealed.sealed, ctx);
    crypto.push(performance.now() - t);
  }
  const baseline = crypto.slice(SAMPLES / 10);
  line('crypto_only_roundtrip', baseline);

  const puts: number[] = [];
  for (let n = 0; n < SAMPLES; n++) {
    const t = performance.now();
    await vault.put(id(n), value);
    puts.push(performance.now() - t);
  }
  const gets: number[] = [];
  for (let n = 0; n < SAMPLES; n++) {
    const t = performance.now();
    await vault.get(id(n));
    gets.push(performance.now() - t);
  }
  // DESIGN.md, Performance: report the ratio to the baseline measured in this run, not just timings
  const ratio = (xs: number[]) => +(pct(xs, 0.5) / pct(baseline, 0.5)).toFixed(2);
  for (const [metric, xs] of [['encrypt_and_store', puts.slice(SAMPLES / 10)], ['fetch_and_decrypt', gets.slice(SAMPLES / 10)]] as const) {
    line(metric, xs, { store: 'postgres', value_bytes: value.length, p50_ratio_to_crypto_only: ratio(xs) });
  }
} finally {
  await store.close();
  await db.drop();
}
