import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ADMIN_KEY_FILE } from '../keys/admin-keys.ts';
import { stringOption, type OptionValues } from './args.ts';
import { CliError, UsageError } from './errors.ts';
import type { CliIo } from './io.ts';

/** The server URL used when neither `--url` nor `ALTER_URL` is set. */
export const DEFAULT_URL = 'http://localhost:8080';

/** The data directory searched for `admin.key` when neither `--data-dir` nor `ALTER_DATA_DIR` is set. */
export const DEFAULT_DATA_DIR = './data';

/** Checks a server URL (http or https, no query or fragment) and drops trailing slashes. */
export function normalizeServerUrl(raw: string, source: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${source}: not a URL: "${raw}" (expected e.g. ${DEFAULT_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${source}: must be an http or https URL, got "${raw}"`);
  }
  if (url.search || url.hash) throw new UsageError(`${source}: must not have a query or fragment, got "${raw}"`);
  return url.href.replace(/\/+$/, '');
}

/**
 * The Alter server URL: `--url`, else `ALTER_URL`, else `fallback` (e.g. the issuer stored in a
 * key file), else {@link DEFAULT_URL}.
 */
export function resolveServerUrl(values: OptionValues, io: CliIo, fallback?: string): string {
  const flag = stringOption(values, 'url');
  if (flag !== undefined) return normalizeServerUrl(flag, '--url');
  const env = io.env.ALTER_URL;
  if (env) return normalizeServerUrl(env, 'ALTER_URL');
  if (fallback) return normalizeServerUrl(fallback, 'issuer in the key file');
  return DEFAULT_URL;
}

/** An admin key and where it came from (for messages). */
export interface AdminKey {
  key: string;
  source: string;
}

/**
 * The admin key: `--admin-key`, else `ALTER_ADMIN_KEY`, else the `admin.key` file the server
 * writes into its data directory (`--data-dir`, else `ALTER_DATA_DIR`, else `./data`). When none
 * is found, the error says every place that was searched.
 */
export function resolveAdminKey(values: OptionValues, io: CliIo): AdminKey {
  const flag = stringOption(values, 'admin-key');
  if (flag !== undefined) {
    if (!flag.trim()) throw new UsageError('--admin-key is empty');
    return { key: flag.trim(), source: '--admin-key' };
  }
  const env = io.env.ALTER_ADMIN_KEY?.trim();
  if (env) return { key: env, source: 'ALTER_ADMIN_KEY' };

  const dirFlag = stringOption(values, 'data-dir');
  const dirEnv = io.env.ALTER_DATA_DIR || undefined;
  const dir = dirFlag ?? dirEnv ?? DEFAULT_DATA_DIR;
  const dirSource = dirFlag !== undefined ? 'from --data-dir' : dirEnv !== undefined ? 'from ALTER_DATA_DIR' : `default data directory ${DEFAULT_DATA_DIR}`;
  const file = resolve(io.cwd, dir, ADMIN_KEY_FILE);
  let problem: string;
  try {
    const key = readFileSync(file, 'utf8').trim();
    if (key) return { key, source: file };
    problem = 'is empty';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problem = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : (err as Error).message;
  }
  throw new CliError(
    `no admin key found: looked at --admin-key (not given), ALTER_ADMIN_KEY (not set) and ${file} (${dirSource}; ${problem})`,
    {
      hint: 'pass --admin-key KEY, set ALTER_ADMIN_KEY, or point --data-dir / ALTER_DATA_DIR at the server\'s data directory (the server writes admin.key there on first start)',
    },
  );
}
