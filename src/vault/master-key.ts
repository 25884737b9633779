import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { MasterKeyConfig } from '../config/config.ts';
import { ConfigError } from '../shared/errors.ts';

/** Parses a master key file's content: 32 bytes as base64 or hex (surrounding whitespace ignored). */
function parseKey(text: string, path: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new ConfigError('ALTER_MASTER_KEY_FILE', `${path} must hold 32 random bytes, base64 or hex`);
  return key;
}

/**
 * The vault's master key: from ALTER_MASTER_KEY, from ALTER_MASTER_KEY_FILE, or (embedded
 * profile, first start) generated into `<dataDir>/master.key` with mode 0600. An existing file
 * is never overwritten: a lost key must be restored, not replaced.
 */
export async function loadMasterKey(config: MasterKeyConfig): Promise<{ key: Buffer; generatedFile?: string }> {
  if (config.source === 'env') return { key: config.key };
  try {
    return { key: parseKey(await readFile(config.path, 'utf8'), config.path) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError('ALTER_MASTER_KEY_FILE', `cannot read ${config.path}: ${(err as Error).message}`);
    }
    if (!config.generate) throw new ConfigError('ALTER_MASTER_KEY_FILE', `${config.path} does not exist`);
  }
  const key = randomBytes(32);
  await mkdir(dirname(config.path), { recursive: true, mode: 0o700 });
  await writeFile(config.path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return { key, generatedFile: config.path };
}
