/**
 * A second process appending to the audit log (test/audit/chain-tamper.test.ts):
 * `node append-worker.ts DATABASE_URL ORG_ID COUNT WRITERS` appends COUNT events through the
 * real AuditLog with WRITERS concurrent callers, prints `done` and exits.
 */
import { openPostgres } from '../../src/adapters/store/postgres.ts';
import { createSqlStore } from '../../src/adapters/store/sql-store.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';

const [url, orgId, countText, writersText] = process.argv.slice(2);
const count = Number(countText);
const writers = Number(writersText);
const store = createSqlStore(await openPostgres(url!, { max: writers }));
const log = new AuditLog({ store: store.audit });
let next = 0;
await Promise.all(Array.from({ length: writers }, async (_, w) => {
  while (next < count) {
    const n = next++;
    await log.record({ orgId: orgId!, type: 'token.issued', data: { agent: `agt_worker_${process.pid}_${w}`, n, run: { run_id: `run_${n % 10}` } } });
  }
}));
await store.close();
process.stdout.write('done\n');
