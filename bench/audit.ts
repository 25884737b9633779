/**
 * Audit log benchmark (`npm run bench:audit`): append throughput on PostgreSQL with 1 and 8
 * concurrent writers (each append awaited, as a request would), and verification throughput.
 * Prints one JSON line per figure. Targets (issue 4): ≥ 3,000 appends/s with 8 writers,
 * verification ≥ 100,000 entries/s.
 *
 * Environment: BENCH_APPEND_SECONDS (default 5), BENCH_RUNS (default 3), ALTER_TEST_PG_URL.
 */
import { openPostgres } from '../src/adapters/store/postgres.ts';
import { createSqlStore } from '../src/adapters/store/sql-store.ts';
import { AuditLog } from '../src/audit/audit-log.ts';
import { loadAuditSigningKey } from '../src/audit/audit-signing-key.ts';
import { CheckpointService } from '../src/audit/checkpoint-service.ts';
import { verifyStoredChain } from '../src/audit/stored-chain.ts';
import { createTestDatabase } from '../test/helpers/postgres.ts';

const SECONDS = Number(process.env.BENCH_APPEND_SECONDS ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const log = (m: string) => process.stderr.write(`[bench:audit] ${m}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const db = await createTestDatabase();
const store = createSqlStore(await openPostgres(db.url, { max: 20 }));
try {
  await store.migrate();
  const audit = new AuditLog({ store: store.audit });
  const event = (w: number, n: number) => ({
    orgId: 'org_bench',
    type: 'token.issued',
    data: { agent: `agt_${w}`, decision: 'allow', scopes: { requested: ['repo:read'], granted: ['repo:read'] }, run: { run_id: `run_${n % 100}` }, ttl: 3600, jti: `hmac-sha256:${n}` },
  });

  for (const writers of [1, 8]) {
    const rates: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      let count = 0;
      const end = performance.now() + SECONDS * 1000;
      await Promise.all(Array.from({ length: writers }, async (_, w) => {
        while (performance.now() < end) await audit.record(event(w, count++));
      }));
      rates.push(count / SECONDS);
      log(`${writers} writer(s), run ${r + 1}: ${(count / SECONDS).toFixed(0)} appends/s`);
    }
    process.stdout.write(`${JSON.stringify({ bench: 'audit', metric: 'appends_per_sec', writers, median: Math.round(median(rates)), runs: rates.map(Math.round), target: writers === 8 ? 3000 : undefined, store: 'postgres' })}\n`);
  }

  const key = await loadAuditSigningKey(store.settings);
  await new CheckpointService({ store: store.audit, sink: audit, key, origin: 'https://bench' }).checkpoint('org_bench');
  const rates: number[] = [];
  let entries = 0;
  for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    const report = await verifyStoredChain(store.audit, 'org_bench', [key]);
    const seconds = (performance.now() - started) / 1000;
    if (!report.ok) throw new Error(`verification failed: ${JSON.stringify(report.problems.slice(0, 3))}`);
    entries = report.entries;
    rates.push(report.entries / seconds);
    log(`verify run ${r + 1}: ${report.entries} entries in ${seconds.toFixed(2)} s`);
  }
  process.stdout.write(`${JSON.stringify({ bench: 'audit', metric: 'verify_entries_per_sec', entries, median: Math.round(median(rates)), runs: rates.map(Math.round), target: 100000, store: 'postgres' })}\n`);
} finally {
  await store.close();
  await db.drop();
}
