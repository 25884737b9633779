import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdminKeyStore } from '../ports/store.ts';
import { sha256Hex } from '../shared/sha256-hex.ts';

export const ADMIN_KEY_FILE = 'admin.key';

/** Admin keys are stored as SHA-256 hashes; the plaintext is shown once (written to a 0600 file). */
export function hashAdminKey(key: string): string {
  return sha256Hex(key);
}

export function generateAdminKey(): string {
  return `alter_admin_${randomBytes(32).toString('base64url')}`;
}

/**
 * Makes sure an admin key exists: `ALTER_ADMIN_KEY` (if set) is registered; a key file in the
 * data directory is registered; when the store has no admin key at all, one is generated and
 * written to `<dataDir>/admin.key` with mode 0600. Returns the key file path when one exists.
 */
export async function ensureAdminKey(deps: {
  store: AdminKeyStore;
  orgId: string;
  dataDir: string;
  configuredKey?: string;
}): Promise<{ keyFile?: string; generated: boolean }> {
  const { store, orgId, dataDir, configuredKey } = deps;
  if (configuredKey) await store.add(orgId, hashAdminKey(configuredKey));
  const keyFile = join(dataDir, ADMIN_KEY_FILE);
  if (existsSync(keyFile)) {
    const key = (await readFile(keyFile, 'utf8')).trim();
    if (key) await store.add(orgId, hashAdminKey(key));
    return { keyFile, generated: false };
  }
  if ((await store.count()) > 0) return { generated: false };
  const key = generateAdminKey();
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(keyFile, `${key}\n`, { mode: 0o600, flag: 'wx' });
  await store.add(orgId, hashAdminKey(key));
  return { keyFile, generated: true };
}
