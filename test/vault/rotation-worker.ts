/**
 * Traffic during a KEK rotation (test/vault/kek-rotation.test.ts), in its own process:
 * `node rotation-worker.ts DATABASE_URL MASTER_KEY SECONDS NAME SEEDED` writes new secrets and
 * reads seeded ones (checking their values) for SECONDS, then prints {writes, reads, errors}.
 */
import { openPostgres } from '../../src/adapters/store/postgres.ts';
import { createSqlStore } from '../../src/adapters/store/sql-store.ts';
import { EnvelopeSecretStore } from '../../src/vault/envelope-secret-store.ts';
import { LocalKekProvider } from '../../src/vault/local-kek.ts';

const [url, masterKey, secondsText, name, seededText] = process.argv.slice(2);
const store = createSqlStore(await openPostgres(url!, { max: 4 }));
const kek = await LocalKekProvider.open(Buffer.from(masterKey!, 'base64'), store.vaultKeks);
const vault = new EnvelopeSecretStore({ records: store.vaultRecords, kek });
const seeded = Number(seededText);
const end = Date.now() + Number(secondsText) * 1000;
const id = (recordId: string) => ({ orgId: 'org_rot', appId: 'app_rot', recordId, purpose: 'managed_secret' });
let writes = 0;
let reads = 0;
const errors: string[] = [];
await Promise.all(Array.from({ length: 4 }, async (_, lane) => {
  while (Date.now() < end) {
    try {
      await vault.put(id(`${name}_${lane}_${writes}`), Buffer.from(`${name}-value`));
      writes++;
      const n = Math.floor(Math.random() * seeded);
      const value = Buffer.from(await vault.get(id(`seed_${n}`))).toString();
      if (value !== `value-${n}`) errors.push(`seed_${n} read back ${value}`);
      reads++;
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
}));
await store.close();
process.stdout.write(`${JSON.stringify({ writes, reads, errors: errors.slice(0, 5), errorCount: errors.length })}\n`);
