// What the benchmarks that start servers share: settings from the environment, progress on
// stderr, free ports, child processes (Alter nodes among them), clean-up, CPU accounting,
// client assertions and autocannon runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import autocannon, { type Options, type Result } from 'autocannon';
import { createTestDatabase } from '../test/helpers/postgres.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

export const REDIS_URL = process.env.ALTER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

/** The median (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

setFlagsFromString('--expose-gc');
/**
 * A full garbage collection of this process (the load generator), between runs: what an earlier
 * run left (autocannon at ~80,000 req/s leaves a lot) is not collected in the middle of a
 * measured run, where the pause would count as the target's latency.
 */
export const collectGarbage = runInNewContext('gc') as () => void;

export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** Free loopback TCP ports, held together while picking so they are distinct. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<Server>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

/** Environment for a child: ours minus anything that could reconfigure Alter, plus `extra`. */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith('ALTER_') || key.startsWith('BENCH_') || ['DATABASE_URL', 'REDIS_URL', 'PORT'].includes(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

export async function deleteRedisKeys(prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// Clean-up: everything a benchmark creates is undone in reverse order, once.

export class Cleanup {
  readonly #steps: Array<{ label: string; run: () => Promise<void> }> = [];
  #done: Promise<void> | undefined;
  /** The load running right now: stopped first. */
  running: { stop(): void } | undefined;

  /** True once clean-up has begun (a child exiting then is expected). */
  get started(): boolean {
    return this.#done !== undefined;
  }

  add(label: string, run: () => Promise<void>): void {
    this.#steps.unshift({ label, run });
  }

  run(): Promise<void> {
    this.#done ??= (async () => {
      this.running?.stop();
      for (const { label, run } of this.#steps) {
        try {
          await run();
        } catch (err) {
          log(`cleanup of ${label} failed: ${(err as Error).message}`);
        }
      }
    })();
    return this.#done;
  }
}

/**
 * Runs `main` under a time budget, cleaning up after it, on failure and on SIGINT/SIGTERM, then
 * exits with its status.
 */
export async function runBenchmark(cleanup: Cleanup, budgetSeconds: number, main: () => Promise<number>): Promise<never> {
  const watchdog = setTimeout(() => {
    log(`giving up: the benchmark exceeded its time budget of ${budgetSeconds} s`);
    void cleanup.run().finally(() => process.exit(1));
  }, budgetSeconds * 1000);
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      log(`${signal}: stopping and cleaning up`);
      void cleanup.run().finally(() => process.exit(130));
    });
  }
  let code: number;
  try {
    code = await main();
  } catch (err) {
    log(`failed: ${(err as Error).stack ?? String(err)}`);
    code = 1;
  } finally {
    await cleanup.run();
    clearTimeout(watchdog);
  }
  process.exit(code);
}

// ---------------------------------------------------------------------------------------------
// CPU accounting (Linux /proc; nothing elsewhere)

/** CPU time of a process (utime + stime), in USER_HZ ticks; 0 if unknown. */
export function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15)
  } catch {
    return 0;
  }
}

/** The whole machine's total and busy (not idle, not iowait) time in USER_HZ ticks, or undefined. */
export function machineTicks(): { total: number; busy: number } | undefined {
  try {
    const t = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = t.reduce((a, b) => a + b, 0);
    return { total, busy: total - t[3]! - t[4]! };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Child processes

export interface Child {
  proc: ChildProcess;
  /** The JSON the child printed after `BENCH_READY`. */
  ready: Record<string, unknown>;
  stop(): Promise<void>;
}

/**
 * Spawns `node [nodeArgs] <args>` and resolves once it prints `BENCH_READY {json}` on stdout.
 * Its other output goes to stderr prefixed with `[label]` (at most `logLines` lines). It is
 * stopped at clean-up (SIGTERM, SIGKILL after 10 s), or when our stdin pipe to it closes.
 */
export function startChild(cleanup: Cleanup, label: string, args: string[], options: {
  env: Record<string, string>;
  cwd: string;
  nodeArgs?: string[];
  logLines?: number;
}): Promise<Child> {
  const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), ...args], { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let exited = false;
  const exit = new Promise<void>((resolve) => proc.once('exit', () => { exited = true; resolve(); }));
  const stop = async (): Promise<void> => {
    if (exited) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => { if (!exited) proc.kill('SIGKILL'); }, 10_000);
    await exit;
    clearTimeout(timer);
  };
  cleanup.add(`${label} (pid ${proc.pid})`, stop);
  const logLines = options.logLines ?? Number.POSITIVE_INFINITY;
  let lines = 0;
  const forward = (line: string): void => {
    if (++lines <= logLines) process.stderr.write(`[${label}] ${line}\n`);
    else if (lines === logLines + 1) process.stderr.write(`[${label}] … further output suppressed\n`);
  };
  createInterface({ input: proc.stderr! }).on('line', forward);
  return new Promise<Child>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not become ready within 90 s`)), 90_000);
    let ready = false;
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      if (!ready && line.startsWith('BENCH_READY ')) {
        ready = true;
        clearTimeout(timer);
        resolve({ proc, ready: JSON.parse(line.slice('BENCH_READY '.length)) as Record<string, unknown>, stop });
      } else {
        forward(line);
      }
    });
    void exit.then(() => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`${label} exited (code ${proc.exitCode}, signal ${proc.signalCode}) before it was ready`));
      else if (!cleanup.started) log(`warning: ${label} exited (code ${proc.exitCode}, signal ${proc.signalCode})`);
    });
  });
}

/**
 * An Alter node (bench/alter-server.ts) in its own process with its own data directory and
 * policy file; `postgres` adds a fresh PostgreSQL database and a Redis prefix (production
 * profile). Everything is removed at clean-up.
 */
export async function startAlterNode(cleanup: Cleanup, options: {
  label: string;
  port: number;
  policy: string;
  postgres: boolean;
  env?: Record<string, string>;
  nodeArgs?: string[];
  logLines?: number;
}): Promise<{ url: string; adminKey: string; child: Child; database?: string; redisPrefix?: string }> {
  const url = `http://127.0.0.1:${options.port}`;
  const dataDir = await mkdtemp(join(tmpdir(), `alter-bench-${options.label}-`));
  cleanup.add(`data directory ${dataDir}`, () => rm(dataDir, { recursive: true, force: true }));
  const policyFile = join(dataDir, 'bench-policy.yaml');
  await writeFile(policyFile, options.policy);
  const adminKey = randomBytes(32).toString('hex');
  const env: Record<string, string> = {
    PORT: String(options.port), ALTER_ISSUER: url, ALTER_DATA_DIR: dataDir, ALTER_ADMIN_KEY: adminKey, ALTER_LOG_LEVEL: 'silent', ALTER_POLICY: policyFile,
    ...options.env,
  };
  let database: string | undefined;
  let redisPrefix: string | undefined;
  if (options.postgres) {
    const db = await createTestDatabase();
    database = new URL(db.url).pathname.slice(1);
    cleanup.add(`database ${database}`, () => db.drop());
    const prefix = `alter-bench-${randomBytes(6).toString('hex')}`;
    redisPrefix = prefix;
    cleanup.add(`Redis keys ${prefix}:*`, () => deleteRedisKeys(prefix));
    Object.assign(env, { DATABASE_URL: db.url, REDIS_URL, ALTER_REDIS_PREFIX: prefix, ALTER_MASTER_KEY: randomBytes(32).toString('base64') });
  }
  const child = await startChild(cleanup, options.label, [join(HERE, 'alter-server.ts')], {
    env: childEnv(env), cwd: dataDir, ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}), ...(options.logLines !== undefined ? { logLines: options.logLines } : {}),
  });
  return { url, adminKey, child, ...(database ? { database } : {}), ...(redisPrefix ? { redisPrefix } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Agent keys and client assertions

export interface AgentKey {
  clientId: string;
  kid: string;
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

/** A fresh Ed25519 key for an agent (its client id is set once registered, if not known). */
export function newAgentKey(clientId = ''): AgentKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const kid = randomUUID();
  const publicJwk = { ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, alg: 'EdDSA', use: 'sig' };
  return { clientId, kid, privateKey, publicJwk };
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** One RFC 7523 client assertion (EdDSA), signed with node:crypto (about 2x faster than jose). */
export function clientAssertion(key: AgentKey, audience: string, now = Math.floor(Date.now() / 1000), lifetimeSeconds = 60): string {
  const input = `${b64url({ alg: 'EdDSA', kid: key.kid })}.${b64url({
    iss: key.clientId, sub: key.clientId, aud: audience, jti: randomUUID(), iat: now, exp: now + lifetimeSeconds,
  })}`;
  return `${input}.${sign(null, Buffer.from(input), key.privateKey).toString('base64url')}`;
}

// ---------------------------------------------------------------------------------------------
// Load

/** What one load run measured. */
export interface LoadFigures {
  requests_per_sec: number;
  p50_ms: number;
  p99_ms: number;
  non_2xx: number;
  errors: number;
}

/** Runs autocannon to completion; clean-up stops it if the benchmark is interrupted. */
export async function runAutocannon(cleanup: Cleanup, options: Options): Promise<Result> {
  const instance = autocannon(options);
  cleanup.running = instance;
  try {
    return await instance;
  } finally {
    cleanup.running = undefined;
  }
}

export function figuresOf(result: Result): LoadFigures {
  return {
    requests_per_sec: result.requests.average,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    non_2xx: result.non2xx,
    errors: result.errors,
  };
}
