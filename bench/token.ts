/**
 * Token endpoint benchmark (`npm run bench:token`, see bench/README.md).
 *
 * Starts four servers, each in its own child process (the load generator, autocannon, runs
 * in this process and must not share an event loop with a server):
 *   baseline       bare node:http doing only the per-request cryptography (bench/baseline-server.ts)
 *   oidc-provider  bare oidc-provider, in-memory adapter, one static client (bench/oidc-provider-server.ts)
 *   embedded       Alter, embedded profile (PGlite in a temporary data directory)
 *   postgres       Alter, production profile (fresh PostgreSQL database, Redis with a unique prefix)
 *   exchange       RFC 8693 token exchange on the postgres target's server (own token → github token)
 * then drives `POST /v1/token` (client_credentials + private_key_jwt) with pre-signed, never
 * reused client assertions, interleaving the targets over BENCH_RUNS measured runs, and prints
 * one JSON line per figure on stdout (medians over runs, ratio to the baseline). Progress goes
 * to stderr. Everything it creates (processes, database, Redis keys, temporary directories)
 * is removed at the end, on failure and on SIGINT/SIGTERM.
 *
 * Environment (all optional):
 *   BENCH_DURATION     seconds per measured run (default 10)
 *   BENCH_RUNS         measured runs per target (default 3)
 *   BENCH_WARMUP       seconds of warm-up before each measured run (default 2)
 *   BENCH_CONNECTIONS  concurrent connections (default 50)
 *   BENCH_TARGETS      comma-separated subset of baseline,oidc-provider,embedded,postgres,exchange (default all)
 *   BENCH_CHILD_NODE_ARGS  extra node flags for the Alter and oidc-provider children, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
 *   ALTER_TEST_PG_URL, ALTER_TEST_REDIS_URL  servers for the production profile (as in the tests)
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Result } from 'autocannon';
import { CLIENT_ASSERTION_TYPE, TOKEN_EXCHANGE_GRANT, TokenType } from '../src/exchange/token-types.ts';
import {
  childEnv, Cleanup, clientAssertion, figuresOf, freePorts, intEnv, log, machineTicks, median, newAgentKey, processTicks, REDIS_URL, round, runAutocannon,
  runBenchmark, startAlterNode, startChild, type AgentKey, type LoadFigures,
} from './harness.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Client assertion lifetime; Alter accepts at most 300 s. */
const ASSERTION_LIFETIME_SECONDS = 240;
/** First guess of a target's throughput, before it has been measured (sizes the first pool). */
const INITIAL_RPS_ESTIMATE = 12_000;
/**
 * Pre-signed assertions per expected request (the estimate is the best rate seen so far): the
 * pool for warm-up + measured run is sized with POOL_MARGIN before the warm-up, and topped up
 * after it (only if short of TOP_UP_MARGIN for the measured run, so usually without a pause).
 */
const POOL_MARGIN = 2;
const TOP_UP_MARGIN = 2;

type TargetName = 'baseline' | 'oidc-provider' | 'embedded' | 'postgres' | 'exchange';
const ALL_TARGETS: TargetName[] = ['baseline', 'oidc-provider', 'embedded', 'postgres', 'exchange'];
/** The policy the Alter targets run under: one provider, one allow rule (exchange target). */
const BENCH_POLICY = `version: 1
providers:
  github:
    resources: ["https://api.github.com"]
rules:
  - id: bench-allow
    effect: allow
    providers: [github]
`;

const DURATION = intEnv('BENCH_DURATION', 10, 1, 180);
const RUNS = intEnv('BENCH_RUNS', 3, 1, 50);
const WARMUP = intEnv('BENCH_WARMUP', 2, 0, 30);
const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 50, 1, 1000);
const TARGETS: TargetName[] = (process.env.BENCH_TARGETS ?? ALL_TARGETS.join(','))
  .split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    if (!ALL_TARGETS.includes(s as TargetName)) throw new Error(`BENCH_TARGETS: unknown target "${s}" (known: ${ALL_TARGETS.join(', ')})`);
    return s as TargetName;
  });
const CHILD_NODE_ARGS = (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

// ---------------------------------------------------------------------------------------------
// Clean-up of everything created (processes, database, Redis keys, directories)

const cleanup = new Cleanup();

// ---------------------------------------------------------------------------------------------
// CPU accounting and child processes

/** Server child processes started so far (for the CPU accounting of {@link cpuSnapshot}). */
const childPids: number[] = [];

interface CpuSnapshot {
  /** Busy and total time of the whole machine, in USER_HZ ticks (from /proc/stat). */
  busy: number;
  total: number;
  /** CPU time of this process and its server children, in the same ticks. */
  ours: number;
}

/** Machine and own CPU time (Linux only; undefined elsewhere). */
function cpuSnapshot(): CpuSnapshot | undefined {
  const machine = machineTicks();
  return machine && { ...machine, ours: [process.pid, ...childPids].reduce((sum, pid) => sum + processTicks(pid), 0) };
}

/**
 * CPU used during the interval by everything except this benchmark's own processes, in cores:
 * PostgreSQL and Redis (for the postgres target), and whatever else runs on the machine.
 * A high value on the baseline or embedded target means the figures are disturbed.
 */
function otherCores(before: CpuSnapshot | undefined, after: CpuSnapshot | undefined): number | undefined {
  if (!before || !after || after.total <= before.total) return undefined;
  const other = (after.busy - before.busy) - (after.ours - before.ours);
  return Math.max(0, (other / (after.total - before.total)) * availableParallelism());
}

/** Starts `node <script>` from this folder; its pid counts as ours in the CPU accounting. */
async function startServer(label: string, script: string, env: Record<string, string>, nodeArgs: string[] = []) {
  const child = await startChild(cleanup, `${label} server`, [join(HERE, script)], { env, cwd: tmpdir(), nodeArgs });
  childPids.push(child.proc.pid!);
  return child;
}

// ---------------------------------------------------------------------------------------------
// Client assertions

function tokenForm(assertion: string): string {
  return `grant_type=client_credentials&client_assertion_type=${encodeURIComponent(CLIENT_ASSERTION_TYPE)}&client_assertion=${assertion}`;
}

/** RFC 8693 token exchange of the agent's own access token for a github token (no delegation). */
function exchangeForm(subjectToken: string): (assertion: string) => string {
  const fixed = `grant_type=${encodeURIComponent(TOKEN_EXCHANGE_GRANT)}&subject_token=${subjectToken}`
    + `&subject_token_type=${encodeURIComponent(TokenType.accessToken)}&audience=github&scope=repo%3Aread&run_id=bench`;
  return (assertion) => `${fixed}&client_assertion_type=${encodeURIComponent(CLIENT_ASSERTION_TYPE)}&client_assertion=${assertion}`;
}

/** A body no target accepts: what a request gets if the pool runs dry (it shows as non-2xx). */
const EXHAUSTED_BODY = Buffer.from(tokenForm('pool-exhausted'));

/**
 * Pre-signed request bodies, each used once. Signing happens between runs only, never while a
 * target is under load; unused bodies carry over to the target's next run while still fresh.
 */
class AssertionPool {
  readonly client: AgentKey;
  readonly audience: string;
  readonly form: (assertion: string) => string;
  #bodies: Buffer[] = [];
  #iats: number[] = [];
  #next = 0;
  exhausted = 0;

  constructor(client: AgentKey, audience: string, form: (assertion: string) => string = tokenForm) {
    this.client = client;
    this.audience = audience;
    this.form = form;
  }

  get available(): number {
    return this.#bodies.length - this.#next;
  }

  /** Ensures `count` bodies that stay valid for the next `seconds` seconds. */
  topUp(count: number, seconds: number): { signed: number; ms: number } {
    const now = Math.floor(Date.now() / 1000);
    // Drop bodies whose assertion could expire before the phase ends (they are in iat order).
    const oldestUsable = now + seconds + 20 - ASSERTION_LIFETIME_SECONDS;
    while (this.#next < this.#bodies.length && this.#iats[this.#next]! < oldestUsable) this.#next++;
    this.#bodies = this.#bodies.slice(this.#next);
    this.#iats = this.#iats.slice(this.#next);
    this.#next = 0;
    const missing = Math.max(0, count - this.#bodies.length);
    const started = performance.now();
    for (let i = 0; i < missing; i++) {
      this.#bodies.push(Buffer.from(this.form(clientAssertion(this.client, this.audience, now, ASSERTION_LIFETIME_SECONDS))));
      this.#iats.push(now);
    }
    return { signed: missing, ms: performance.now() - started };
  }

  take(): Buffer {
    if (this.#next < this.#bodies.length) return this.#bodies[this.#next++]!;
    this.exhausted++;
    return EXHAUSTED_BODY;
  }

  fresh(): string {
    return clientAssertion(this.client, this.audience, Math.floor(Date.now() / 1000), ASSERTION_LIFETIME_SECONDS);
  }
}

// ---------------------------------------------------------------------------------------------
// Targets

interface Target {
  name: TargetName;
  url: string;
  pool: AssertionPool;
  /** Best throughput seen so far (sizes the next pool); a guess until `calibrated`. */
  rpsEstimate: number;
  calibrated: boolean;
  runs: LoadFigures[];
}


async function registerAgent(url: string, adminKey: string, client: AgentKey): Promise<string> {
  const res = await fetch(`${url}/v1/admin/agents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `bench-${randomBytes(4).toString('hex')}`, class: 'bench', scopes: ['repo:read'], jwks: { keys: [client.publicJwk] } }),
  });
  const body = (await res.json()) as { client_id?: string };
  if (res.status !== 201 || !body.client_id) throw new Error(`agent registration at ${url} failed: ${res.status} ${JSON.stringify(body)}`);
  return body.client_id;
}

async function startBaseline(port: number): Promise<Target> {
  const url = `http://127.0.0.1:${port}`;
  const client = newAgentKey('bench-baseline-client');
  await startServer('baseline', 'baseline-server.ts', childEnv({
    PORT: String(port), BENCH_ISSUER: url, BENCH_CLIENT_ID: client.clientId, BENCH_CLIENT_JWK: JSON.stringify(client.publicJwk),
  }));
  return { name: 'baseline', url, pool: new AssertionPool(client, url), rpsEstimate: INITIAL_RPS_ESTIMATE, calibrated: false, runs: [] };
}

/** Bare oidc-provider with a static client: the harness knows its client_id, registers nothing. */
async function startOidcProvider(port: number): Promise<Target> {
  const url = `http://127.0.0.1:${port}`;
  const client = newAgentKey('bench-oidc-provider-client');
  const child = await startServer('oidc-provider', 'oidc-provider-server.ts', childEnv({
    PORT: String(port), BENCH_ISSUER: url, BENCH_CLIENT_ID: client.clientId, BENCH_CLIENT_JWK: JSON.stringify(client.publicJwk),
  }), CHILD_NODE_ARGS);
  log(`oidc-provider: listening at ${url} (pid ${child.proc.pid})`);
  return { name: 'oidc-provider', url, pool: new AssertionPool(client, url), rpsEstimate: INITIAL_RPS_ESTIMATE, calibrated: false, runs: [] };
}

/** An Alter server started for a target, kept so the exchange target can share the postgres one. */
const alterServers = new Map<'embedded' | 'postgres', { url: string; adminKey: string }>();

async function startAlter(name: 'embedded' | 'postgres', port: number): Promise<Target> {
  const { url, adminKey, child, database, redisPrefix } = await startAlterNode(cleanup, { label: name, port, policy: BENCH_POLICY, postgres: name === 'postgres', nodeArgs: CHILD_NODE_ARGS });
  childPids.push(child.proc.pid!);
  if (database) log(`${name}: database ${database}, Redis ${REDIS_URL} prefix ${redisPrefix}`);
  log(`${name}: ${String(child.ready.profile)} profile listening at ${url} (pid ${child.proc.pid})`);
  alterServers.set(name, { url, adminKey });
  const client = newAgentKey();
  client.clientId = await registerAgent(url, adminKey, client);
  return { name, url, pool: new AssertionPool(client, url), rpsEstimate: INITIAL_RPS_ESTIMATE, calibrated: false, runs: [] };
}

/**
 * Token exchange on the PostgreSQL profile (the postgres target's server, or one of its own):
 * each request trades the agent's own client_credentials token (obtained once, before the load)
 * for a github token, with a fresh client assertion.
 */
async function startExchange(port: number): Promise<Target> {
  if (!alterServers.has('postgres')) await startAlter('postgres', port);
  const { url, adminKey } = alterServers.get('postgres')!;
  const client = newAgentKey();
  client.clientId = await registerAgent(url, adminKey, client);
  const cc = new AssertionPool(client, url);
  const res = await fetch(`${url}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `${tokenForm(cc.fresh())}&scope=repo%3Aread` });
  const body = (await res.json()) as { access_token?: string };
  if (res.status !== 200 || !body.access_token) throw new Error(`exchange: subject token request failed: ${res.status} ${JSON.stringify(body)}`);
  return { name: 'exchange', url, pool: new AssertionPool(client, url, exchangeForm(body.access_token)), rpsEstimate: INITIAL_RPS_ESTIMATE, calibrated: false, runs: [] };
}

/** One token request outside the load, to check the target answers 200 with a JWT access token. */
async function smokeTest(target: Target): Promise<void> {
  const res = await fetch(`${target.url}/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: target.pool.form(target.pool.fresh()),
  });
  const body = (await res.json()) as { access_token?: string; token_type?: string; expires_in?: number };
  if (res.status !== 200 || !body.access_token) throw new Error(`${target.name}: token request failed: ${res.status} ${JSON.stringify(body)}`);
  const header = JSON.parse(Buffer.from(body.access_token.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
  log(`${target.name}: token request ok (token_type ${body.token_type}, expires_in ${body.expires_in}, access token header ${JSON.stringify(header)})`);
}

// ---------------------------------------------------------------------------------------------
// Load

function load(target: Target, seconds: number): Promise<Result> {
  const pool = target.pool;
  return runAutocannon(cleanup, {
    url: target.url,
    connections: CONNECTIONS,
    duration: seconds,
    pipelining: 1,
    timeout: 10,
    requests: [{
      method: 'POST',
      path: '/v1/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      setupRequest(request) {
        request.body = pool.take();
        return request;
      },
    }],
  });
}

function describe(result: Result): string {
  const codes = Object.entries(result.statusCodeStats).map(([code, { count }]) => `${code}x${count}`).join(' ');
  return `${result.requests.average.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, `
    + `${result['2xx']} ok, non-2xx ${result.non2xx}, errors ${result.errors} [${codes}]`;
}

/** Tops up the target's pool for `seconds` of load at up to `margin` x its best rate. */
function prepare(target: Target, seconds: number, margin: number): void {
  const need = Math.ceil(target.rpsEstimate * seconds * margin) + 4 * CONNECTIONS;
  const { signed, ms } = target.pool.topUp(need, seconds);
  if (signed > 0) log(`${target.name}: pre-signed ${signed} client assertions in ${(ms / 1000).toFixed(1)} s (pool ${target.pool.available})`);
}

async function phase(target: Target, kind: 'calibration' | 'warm-up' | 'measured', seconds: number): Promise<Result> {
  const exhaustedBefore = target.pool.exhausted;
  const cpuBefore = cpuSnapshot();
  const result = await load(target, seconds);
  const other = otherCores(cpuBefore, cpuSnapshot());
  const exhausted = target.pool.exhausted - exhaustedBefore;
  target.rpsEstimate = target.calibrated ? Math.max(target.rpsEstimate, result.requests.average) : result.requests.average;
  target.calibrated = true;
  log(`${target.name} ${kind} ${seconds}s: ${describe(result)}`
    + (other === undefined ? '' : `; CPU outside the bench processes ${other.toFixed(2)} cores`)
    + (exhausted > 0 ? ` — POOL EXHAUSTED for ${exhausted} requests` : ''));
  return result;
}

// ---------------------------------------------------------------------------------------------
// Report

const METRICS: Array<{ metric: keyof LoadFigures; unit: string; better?: 'higher' | 'lower'; digits: number }> = [
  { metric: 'requests_per_sec', unit: 'req/s', better: 'higher', digits: 1 },
  { metric: 'p50_ms', unit: 'ms', better: 'lower', digits: 2 },
  { metric: 'p99_ms', unit: 'ms', better: 'lower', digits: 2 },
  { metric: 'non_2xx', unit: 'count', digits: 0 },
  { metric: 'errors', unit: 'count', digits: 0 },
];

function report(targets: Target[]): boolean {
  const baseline = targets.find((t) => t.name === 'baseline');
  let valid = true;
  for (const target of targets) {
    const targetValid = target.runs.every((r) => r.non_2xx === 0 && r.errors === 0);
    valid &&= targetValid;
    for (const { metric, unit, better, digits } of METRICS) {
      const runs = target.runs.map((r) => r[metric]);
      const value = median(runs);
      const line: Record<string, unknown> = {
        bench: 'token',
        target: target.name,
        metric,
        unit,
        median: round(value, digits),
        runs: runs.map((r) => round(r, digits)),
      };
      if (better && baseline) {
        const base = median(baseline.runs.map((r) => r[metric]));
        line.ratio_to_baseline = base > 0 ? round(value / base, 3) : null;
        line.ratio_definition = `target/baseline, ${better} is better`;
      }
      const cc = targets.find((t) => t.name === 'postgres');
      if (better && target.name === 'exchange' && cc) {
        const base = median(cc.runs.map((r) => r[metric]));
        line.ratio_to_client_credentials = base > 0 ? round(value / base, 3) : null;
      }
      Object.assign(line, { valid: targetValid, connections: CONNECTIONS, duration_s: DURATION, warmup_s: WARMUP });
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
  }
  return valid;
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  log(`targets ${TARGETS.join(', ')}; ${RUNS} measured run(s) of ${DURATION} s each after ${WARMUP} s warm-up; ${CONNECTIONS} connections`);
  const ports = await freePorts(TARGETS.length);
  const targets: Target[] = [];
  for (const [i, name] of TARGETS.entries()) {
    const port = ports[i]!;
    const target = name === 'baseline' ? await startBaseline(port)
      : name === 'oidc-provider' ? await startOidcProvider(port)
        : name === 'exchange' ? await startExchange(port)
          : await startAlter(name, port);
    await smokeTest(target);
    targets.push(target);
  }

  // Calibration: a first warm-up per target, which also gives the rate that sizes its pools.
  const calibration = Math.max(WARMUP, 2);
  for (const target of targets) {
    prepare(target, calibration, POOL_MARGIN);
    await phase(target, 'calibration', calibration);
  }

  for (let run = 1; run <= RUNS; run++) {
    for (const target of targets) {
      prepare(target, WARMUP + DURATION, POOL_MARGIN);
      if (WARMUP > 0) await phase(target, 'warm-up', WARMUP);
      prepare(target, DURATION, TOP_UP_MARGIN);
      log(`${target.name}: measured run ${run}/${RUNS}`);
      const result = await phase(target, 'measured', DURATION);
      target.runs.push(figuresOf(result));
    }
  }

  const valid = report(targets);
  if (!valid) log('INVALID: some measured requests failed (non_2xx or errors > 0); the figures above are not usable');
  return valid ? 0 : 1;
}

await runBenchmark(cleanup, 300 + (TARGETS.length * (RUNS * (DURATION + WARMUP + 30) + 40)), main);
