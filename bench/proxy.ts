/**
 * Request proxy benchmark (`npm run bench:proxy`, see bench/README.md).
 *
 * What the proxy (`/v1/proxy/{grant}/{host}{path}`, docs/proxy.md) costs on top of calling the
 * upstream directly. Two server child processes (the load generator runs in this process and
 * never shares an event loop with a server):
 *   upstream  bare node:http answering `GET /api/items` with a ~200-byte JSON body, keep-alive
 *             (this same file, run as `node bench/proxy.ts --upstream`); it answers 401 unless
 *             the request carries the managed secret's bearer token, so a 200 through the proxy
 *             proves the credential was injected
 *   alter     Alter, production profile (bench/alter-server.ts): fresh PostgreSQL database, Redis
 *             with a unique key prefix, a policy allowing class `assistant` everything on provider
 *             `benchapi`, one app key, one agent, one managed `bearer` secret bound to the upstream
 * and three targets, all `GET …/api/items`:
 *   direct          load generator → upstream (with the bearer token itself)
 *   proxy-app-key   → Alter with the app key + `Alter-Actor-Type: ai_agent`, `Alter-Actor-Id: <agent>`
 *   proxy-token     → Alter with an Alter access token from token exchange of the `sec_…` id
 *
 * Two modes per target, each after a warm-up:
 *   saturation  autocannon, BENCH_CONNECTIONS connections, as fast as the target answers:
 *               throughput, p50, p99
 *   fixed       one rate for all targets, min(BENCH_RATE, 0.5 × the slower proxy target's
 *               saturation throughput), spread over the same connections: p50, p99. By default
 *               the requests are paced evenly (open loop, see {@link PacedLoad}); autocannon's
 *               `overallRate` is available but sends each connection's quota as a burst at the
 *               start of every second, which measures queueing in the burst rather than the
 *               latency at that rate.
 * Proxy figures are compared with `direct` measured in the same mode and run: added latency
 * (proxy − direct, ms) and throughput ratio (proxy / direct).
 *
 * stdout: one JSON line per figure. stderr: progress, then a summary table. Everything it creates
 * (processes, database, Redis keys, temporary directory) is removed at the end, on failure and
 * on SIGINT/SIGTERM.
 *
 * Environment (all optional):
 *   BENCH_RUNS         rounds (default 3): each measures every target in every mode; figures are medians
 *   BENCH_DURATION     seconds per measured run (default 10)
 *   BENCH_WARMUP       seconds of warm-up before each measured run (default 2)
 *   BENCH_JIT_WARMUP   seconds of load on both proxy targets, alternating, before the first round
 *                      (default 20, 0 for none): Alter's steady state, see {@link jitWarmUp}
 *   BENCH_CONNECTIONS  concurrent connections (default 100)
 *   BENCH_RATE         upper bound of the fixed rate, req/s over all connections (default 1000)
 *   BENCH_FIXED_GENERATOR  `paced` (default) or `autocannon` (autocannon's overallRate, bursty)
 *   BENCH_MODES        `saturation,fixed` (default), or one of them; fixed alone runs at BENCH_RATE
 *   BENCH_CHILD_LOG_LINES  lines of each child's output shown (default 40)
 *   BENCH_CHILD_NODE_ARGS  extra node flags for the Alter child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
 *   BENCH_AUDIT_COMMIT `sync` (default) or `async`: Alter's ALTER_AUDIT_COMMIT (docs/audit.md, Durability)
 *   ALTER_TEST_PG_URL, ALTER_TEST_REDIS_URL  servers for the production profile (as in the tests)
 */
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Options } from 'autocannon';
import { Client as UndiciClient } from 'undici';
import { CLIENT_ASSERTION_TYPE, TOKEN_EXCHANGE_GRANT, TokenType } from '../src/exchange/token-types.ts';
import { onShutdown, requireEnv } from './child-runtime.ts';
import {
  childEnv, Cleanup, clientAssertion, collectGarbage, figuresOf, freePorts, intEnv, log, machineTicks, median, newAgentKey, processTicks, round, runAutocannon, runBenchmark,
  startAlterNode, startChild, type AgentKey, type LoadFigures,
} from './harness.ts';

const THIS_FILE = fileURLToPath(import.meta.url);
/** Per-request timeout of the load generators (s). */
const TIMEOUT_SECONDS = 10;
/** The fixed rate is at most this fraction of the slower proxy target's saturation throughput. */
const FIXED_RATE_FRACTION = 0.5;
/** The JIT warm-up runs in parts of this many seconds, the token target refreshed before each. */
const JIT_WARMUP_PART_SECONDS = 5;
/** Lines of a child's stderr forwarded before the rest is dropped (a failing run can log per request). */
const CHILD_LOG_LINES = intEnv('BENCH_CHILD_LOG_LINES', 40, 0, 1_000_000);
/** Alter's audit commit mode (ALTER_AUDIT_COMMIT). */
const AUDIT_COMMIT = process.env.BENCH_AUDIT_COMMIT ?? 'sync';
if (AUDIT_COMMIT !== 'sync' && AUDIT_COMMIT !== 'async') throw new Error(`BENCH_AUDIT_COMMIT must be sync or async, got "${AUDIT_COMMIT}"`);

/** The policy Alter runs under: class `assistant` may do anything on provider `benchapi`. */
const BENCH_POLICY = `version: 1
agent_classes:
  assistant: {description: all}
providers:
  benchapi: {}
rules:
  - id: all
    effect: allow
    agent_classes: [assistant]
    scopes: ["*"]
`;

// ---------------------------------------------------------------------------------------------
// Upstream role: `node bench/proxy.ts --upstream` (a child process of the benchmark)

/** ~200 bytes of JSON, built once. */
const ITEMS_BODY = Buffer.from(JSON.stringify({
  items: [
    { id: 'itm_0001', name: 'Widget', price_cents: 1299, in_stock: true },
    { id: 'itm_0002', name: 'Gadget', price_cents: 2499, in_stock: false },
  ],
  next_cursor: null,
  total: 2,
}));

async function runUpstream(): Promise<void> {
  const port = Number(requireEnv('PORT'));
  const expected = `Bearer ${requireEnv('BENCH_UPSTREAM_TOKEN')}`;
  const server = createHttpServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/api/items') {
      res.writeHead(404, { 'content-type': 'application/json', 'content-length': 2 }).end('{}');
    } else if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'content-type': 'application/json', 'content-length': 2 }).end('{}');
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': ITEMS_BODY.length }).end(ITEMS_BODY);
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  onShutdown(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  process.stdout.write(`BENCH_READY ${JSON.stringify({ target: 'upstream', pid: process.pid })}\n`);
}

// ---------------------------------------------------------------------------------------------
// Settings

function settings() {
  const generator = process.env.BENCH_FIXED_GENERATOR || 'paced';
  if (generator !== 'paced' && generator !== 'autocannon') throw new Error(`BENCH_FIXED_GENERATOR must be paced or autocannon, got "${generator}"`);
  return {
    duration: intEnv('BENCH_DURATION', 10, 1, 180),
    warmup: intEnv('BENCH_WARMUP', 2, 0, 30),
    jitWarmup: intEnv('BENCH_JIT_WARMUP', 20, 0, 300),
    connections: intEnv('BENCH_CONNECTIONS', 100, 1, 1000),
    runs: intEnv('BENCH_RUNS', 3, 1, 20),
    rateCap: intEnv('BENCH_RATE', 1000, 1, 100_000),
    generator: generator as 'paced' | 'autocannon',
    modes: modes(),
    childNodeArgs: (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
  };
}

function modes(): Set<'saturation' | 'fixed'> {
  const list = (process.env.BENCH_MODES || 'saturation,fixed').split(',').map((m) => m.trim());
  for (const m of list) if (m !== 'saturation' && m !== 'fixed') throw new Error(`BENCH_MODES lists saturation and/or fixed, got "${m}"`);
  return new Set(list as Array<'saturation' | 'fixed'>);
}

type Settings = ReturnType<typeof settings>;

// ---------------------------------------------------------------------------------------------
// Clean-up of everything created (processes, database, Redis keys, directories)

const cleanup = new Cleanup();

// ---------------------------------------------------------------------------------------------
// CPU accounting (Linux /proc; figures are omitted elsewhere)

interface CpuSnapshot {
  total: number;
  busy: number;
  alter: number;
  upstream: number;
  loadgen: number;
}

/** Roles whose CPU is reported per run; `other` is everything else (PostgreSQL, Redis, …). */
const pids = { alter: 0, upstream: 0 };

function cpuSnapshot(): CpuSnapshot | undefined {
  const machine = machineTicks();
  return machine && { ...machine, alter: processTicks(pids.alter), upstream: processTicks(pids.upstream), loadgen: processTicks(process.pid) };
}

type CpuCores = Record<'alter' | 'upstream' | 'loadgen' | 'other', number>;

/** Cores each role used between two snapshots (machine ticks scaled by the core count). */
function cpuCores(before: CpuSnapshot | undefined, after: CpuSnapshot | undefined): CpuCores | undefined {
  if (!before || !after || after.total <= before.total) return undefined;
  const scale = availableParallelism() / (after.total - before.total);
  const d = (k: keyof CpuSnapshot): number => (after[k] - before[k]) * scale;
  const cores = { alter: d('alter'), upstream: d('upstream'), loadgen: d('loadgen') };
  const other = Math.max(0, d('busy') - cores.alter - cores.upstream - cores.loadgen);
  return { ...cores, other };
}

// ---------------------------------------------------------------------------------------------
// Child processes

async function startUpstream(port: number, token: string): Promise<string> {
  const { proc } = await startChild(cleanup, 'upstream', [THIS_FILE, '--upstream'], {
    env: childEnv({ PORT: String(port), BENCH_UPSTREAM_TOKEN: token }), cwd: tmpdir(), logLines: CHILD_LOG_LINES,
  });
  pids.upstream = proc.pid!;
  log(`upstream: listening at http://127.0.0.1:${port} (pid ${proc.pid})`);
  return `http://127.0.0.1:${port}`;
}

/** Alter, production profile, in its own process: returns its URL and admin key. */
async function startAlter(port: number, nodeArgs: string[]): Promise<{ url: string; adminKey: string }> {
  const alter = await startAlterNode(cleanup, {
    label: 'alter', port, policy: BENCH_POLICY, postgres: true, nodeArgs, logLines: CHILD_LOG_LINES,
    env: { ALTER_LOG_LEVEL: 'warn', ALTER_ALLOW_INSECURE_PROVIDER_URLS: 'true', ALTER_AUDIT_COMMIT: AUDIT_COMMIT },
  });
  pids.alter = alter.child.proc.pid!;
  log(`alter: production profile at ${alter.url} (pid ${pids.alter}), database ${alter.database}, Redis prefix ${alter.redisPrefix}, audit commit ${AUDIT_COMMIT}`);
  return alter;
}

// ---------------------------------------------------------------------------------------------
// Alter set-up through the admin API, and token exchange

/** The bench's agent: its key, and its name (the app-key target declares it as the actor). */
type Agent = AgentKey & { name: string };

/** A JSON call that must answer `status`; returns the parsed body. */
async function call(url: string, method: string, bearer: string, body: unknown, status: number): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const parsed = (await res.json()) as Record<string, unknown>;
  if (res.status !== status) throw new Error(`${method} ${url}: expected ${status}, got ${res.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

/** App settings, an app key, an agent of class `assistant`, a bearer secret bound to the upstream. */
async function setUpAlter(alter: { url: string; adminKey: string }, upstreamUrl: string, upstreamToken: string) {
  const admin = (path: string, method: string, body: unknown, status: number) => call(`${alter.url}${path}`, method, alter.adminKey, body, status);
  await admin('/v1/admin/app', 'PUT', { redirect_urls: ['http://127.0.0.1:9/app/connected'], allowed_origins: [] }, 200);
  const appKey = (await admin('/v1/admin/app-keys', 'POST', { name: 'bench-proxy' }, 201)).key as string;

  const name = 'bench-proxy-agent';
  const agent: Agent = { ...newAgentKey(), name };
  const registered = await admin('/v1/admin/agents', 'POST', { name, class: 'assistant', scopes: [], jwks: { keys: [agent.publicJwk] } }, 201);
  agent.clientId = registered.client_id as string;

  const secret = await admin('/v1/admin/secrets', 'POST', {
    name: 'bench-upstream', type: 'bearer', value: { token: upstreamToken }, provider: 'benchapi', base_urls: [`${upstreamUrl}/api`],
  }, 201);
  return { appKey, agent, secretId: secret.id as string };
}

/** RFC 8693 token exchange of the `sec_…` id: an Alter access token for the secret. */
async function exchangeSecret(alterUrl: string, agent: Agent, secretId: string): Promise<string> {
  const res = await fetch(`${alterUrl}/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: secretId,
      subject_token_type: TokenType.connection,
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: clientAssertion(agent, alterUrl),
    }),
  });
  const body = (await res.json()) as { access_token?: string; scope?: string; expires_in?: number };
  if (res.status !== 200 || !body.access_token) throw new Error(`token exchange of ${secretId} failed: ${res.status} ${JSON.stringify(body)}`);
  log(`proxy-token: exchanged ${secretId} for an Alter token (scope "${body.scope}", expires_in ${body.expires_in})`);
  return body.access_token;
}

// ---------------------------------------------------------------------------------------------
// Targets

type TargetName = 'direct' | 'proxy-app-key' | 'proxy-token';

interface Target {
  name: TargetName;
  origin: string;
  path: string;
  headers: Record<string, string>;
  /** Runs before each of the target's phases (the token target gets a fresh token). */
  refresh?: () => Promise<void>;
}

function targets(upstreamUrl: string, alterUrl: string, upstreamToken: string, s: Awaited<ReturnType<typeof setUpAlter>>): Target[] {
  const upstreamHost = new URL(upstreamUrl).host;
  const proxyPath = `/v1/proxy/${s.secretId}/${upstreamHost}/api/items`;
  const token: Target = { name: 'proxy-token', origin: alterUrl, path: proxyPath, headers: {} };
  token.refresh = async () => {
    token.headers = { authorization: `Bearer ${await exchangeSecret(alterUrl, s.agent, s.secretId)}` };
  };
  return [
    { name: 'direct', origin: upstreamUrl, path: '/api/items', headers: { authorization: `Bearer ${upstreamToken}` } },
    {
      name: 'proxy-app-key',
      origin: alterUrl,
      path: proxyPath,
      headers: { authorization: `Bearer ${s.appKey}`, 'alter-actor-type': 'ai_agent', 'alter-actor-id': s.agent.name },
    },
    token,
  ];
}

/** One request outside the load: 200, the upstream's own body, no `Alter-Error`. */
async function smokeTest(target: Target): Promise<void> {
  const res = await fetch(`${target.origin}${target.path}`, { headers: target.headers });
  const text = await res.text();
  if (res.status !== 200 || text !== ITEMS_BODY.toString() || res.headers.has('alter-error')) {
    throw new Error(`${target.name}: smoke request failed: ${res.status} ${res.headers.get('alter-error') ?? ''} ${text.slice(0, 300)}`);
  }
  log(`${target.name}: smoke request ok (${target.origin}${target.path})`);
}

// ---------------------------------------------------------------------------------------------
// Load generators

interface Figures extends LoadFigures {
  cpu?: CpuCores;
  /** Fixed mode: the rate asked for, and how far the generator fell behind its schedule. */
  rate?: number;
  max_lag_ms?: number;
}

/** Runs autocannon to completion (optionally rate-limited with `overallRate`). */
async function autocannonRun(target: Target, cfg: Settings, seconds: number, overallRate?: number): Promise<Figures> {
  // overallRate is not in bench/autocannon.d.ts: a widened options object passes it through.
  const options: Options & { overallRate?: number } = {
    url: `${target.origin}${target.path}`,
    connections: cfg.connections,
    duration: seconds,
    pipelining: 1,
    timeout: TIMEOUT_SECONDS,
    headers: target.headers,
    ...(overallRate ? { overallRate } : {}),
  };
  return figuresOf(await runAutocannon(cleanup, options));
}

/**
 * Open-loop load at a fixed rate: request k is sent at start + k/rate (checked every
 * millisecond), round-robin over `connections` keep-alive connections, whether or not earlier
 * requests have been answered. Latency runs from the send to the end of the response body
 * (like autocannon's), with sub-millisecond resolution. The connections stay open between the
 * warm-up and the measured run.
 */
class PacedLoad {
  readonly #clients: UndiciClient[];
  #next = 0;
  #stopped = false;

  constructor(origin: string, connections: number) {
    const timeout = TIMEOUT_SECONDS * 1000;
    this.#clients = Array.from({ length: connections }, () => new UndiciClient(origin, {
      pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: timeout, bodyTimeout: timeout,
    }));
  }

  /** `target`: one target, or several sharing this origin, taken in turn request by request. */
  async run(target: Target | readonly Target[], rate: number, seconds: number): Promise<Figures> {
    const mix = Array.isArray(target) ? target : [target];
    const total = Math.round(rate * seconds);
    const latencies = new Float64Array(total);
    let done = 0;
    let non2xx = 0;
    let errors = 0;
    let maxLag = 0;
    let sent = 0;
    let pending = 0;
    const start = performance.now();
    cleanup.running = { stop: () => this.stop() };
    await new Promise<void>((resolve) => {
      const settle = (): void => {
        pending--;
        if (pending === 0 && (sent === total || this.#stopped)) resolve();
      };
      const send = (): void => {
        const client = this.#clients[this.#next % this.#clients.length]!;
        const { path, headers } = mix[this.#next++ % mix.length]!;
        const t0 = performance.now();
        pending++;
        client.request({ method: 'GET', path, headers })
          .then(async (res) => {
            await res.body.dump();
            latencies[done++] = performance.now() - t0;
            if (res.statusCode < 200 || res.statusCode > 299) non2xx++;
          }, () => { errors++; })
          .finally(settle);
      };
      const tick = (): void => {
        if (this.#stopped) {
          if (pending === 0) resolve();
          return;
        }
        const now = performance.now();
        const due = Math.min(total, Math.floor(((now - start) * rate) / 1000) + 1);
        if (due > sent) maxLag = Math.max(maxLag, now - start - (sent * 1000) / rate);
        while (sent < due) {
          sent++;
          send();
        }
        if (sent < total) setTimeout(tick, 1);
        else if (pending === 0) resolve();
      };
      tick();
    });
    cleanup.running = undefined;
    const sorted = latencies.slice(0, done).sort();
    const pct = (q: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
    return {
      requests_per_sec: (done - non2xx) / seconds,
      p50_ms: pct(0.5),
      p99_ms: pct(0.99),
      non_2xx: non2xx,
      errors,
      rate,
      max_lag_ms: maxLag,
    };
  }

  stop(): void {
    this.#stopped = true;
  }

  async close(): Promise<void> {
    await Promise.all(this.#clients.map((c) => c.destroy()));
  }
}

// ---------------------------------------------------------------------------------------------
// Phases

type Mode = 'saturation' | 'fixed';

interface Measurement {
  target: TargetName;
  mode: Mode;
  round: number;
  figures: Figures;
}

function describe(f: Figures): string {
  const cpu = f.cpu ? `; CPU cores alter ${f.cpu.alter.toFixed(2)}, upstream ${f.cpu.upstream.toFixed(2)}, load generator ${f.cpu.loadgen.toFixed(2)}, other ${f.cpu.other.toFixed(2)}` : '';
  const lag = f.max_lag_ms !== undefined ? `, schedule lag max ${f.max_lag_ms.toFixed(1)} ms` : '';
  return `${f.requests_per_sec.toFixed(0)} req/s, p50 ${f.p50_ms.toFixed(2)} ms, p99 ${f.p99_ms.toFixed(2)} ms, non-2xx ${f.non_2xx}, errors ${f.errors}${lag}${cpu}`;
}

/** Warm-up then measured run of one target in one mode, with the CPU each role used. */
async function measure(target: Target, mode: Mode, cfg: Settings, rate: number, round: number): Promise<Measurement> {
  await target.refresh?.();
  const paced = mode === 'fixed' && cfg.generator === 'paced' ? new PacedLoad(target.origin, cfg.connections) : undefined;
  const runOnce = (seconds: number): Promise<Figures> => (mode === 'saturation' ? autocannonRun(target, cfg, seconds)
    : paced ? paced.run(target, rate, seconds) : autocannonRun(target, cfg, seconds, rate));
  const label = `${mode === 'saturation' ? `${target.name} saturation` : `${target.name} fixed ${rate} req/s (${cfg.generator})`}, round ${round}/${cfg.runs}`;
  try {
    if (cfg.warmup > 0) log(`${label} warm-up ${cfg.warmup}s: ${describe(await runOnce(cfg.warmup))}`);
    collectGarbage();
    const before = cpuSnapshot();
    const figures = await runOnce(cfg.duration);
    const cpu = cpuCores(before, cpuSnapshot());
    if (cpu) figures.cpu = cpu;
    if (mode === 'fixed') figures.rate = rate;
    log(`${label} measured ${cfg.duration}s: ${describe(figures)}`);
    return { target: target.name, mode, round, figures };
  } finally {
    await paced?.close();
  }
}

/**
 * Load on both proxy targets at once (requests alternate between them, a token exchange every
 * {@link JIT_WARMUP_PART_SECONDS}) before the first round, so that the rounds measure Alter's
 * steady state rather than V8 compiling it. V8 tiers a function up to its optimising compiler
 * (TurboFan) only after thousands of calls: measured at 1,000 req/s, the request path's
 * functions all reach it about 10 s after the load starts, within a few hundred milliseconds of
 * each other, and the burst of background compilation takes the cores from Alter's own thread
 * (on 2 cores, 50 to 65 of a 10-second run's 100 slowest requests fell in its 100 ms). A
 * function first optimised for one caller kind (app key) is deoptimised when the other kind
 * (token) reaches it, and optimised again ~10 s later: alternating the two from the start gives
 * V8 both kinds' feedback before it compiles, as a server answering both kinds does.
 */
async function jitWarmUp(all: readonly Target[], cfg: Settings): Promise<void> {
  const proxies = all.filter((t) => t.name !== 'direct');
  if (cfg.jitWarmup === 0 || proxies.length === 0) return;
  const paced = new PacedLoad(proxies[0]!.origin, cfg.connections);
  const parts = Math.ceil(cfg.jitWarmup / JIT_WARMUP_PART_SECONDS);
  try {
    for (let part = 1; part <= parts; part++) {
      for (const target of proxies) await target.refresh?.(); // a token exchange now and then, as in service
      const seconds = Math.min(JIT_WARMUP_PART_SECONDS, cfg.jitWarmup - (part - 1) * JIT_WARMUP_PART_SECONDS);
      const figures = await paced.run(proxies, cfg.rateCap, seconds);
      log(`JIT warm-up ${part}/${parts} (${seconds}s, ${proxies.map((t) => t.name).join(' + ')} alternating at ${cfg.rateCap} req/s): ${describe(figures)}`);
    }
  } finally {
    await paced.close();
  }
}

/** The fixed rate: at most BENCH_RATE and half the slower proxy target's saturation throughput. */
function fixedRate(saturation: Measurement[], cap: number): number {
  const proxies = saturation.filter((m) => m.target !== 'direct').map((m) => m.figures.requests_per_sec);
  return Math.max(1, Math.min(cap, Math.floor(FIXED_RATE_FRACTION * Math.min(...proxies))));
}

// ---------------------------------------------------------------------------------------------
// Report

/** Invalid when a request failed, or (fixed mode) fewer than 95 % of the requests got a 2xx answer. */
function isValid(f: Figures): boolean {
  return f.non_2xx === 0 && f.errors === 0 && (f.rate === undefined || f.requests_per_sec >= 0.95 * f.rate);
}

/** A target's figures in one mode over all rounds, each proxy run compared with `direct` of its own round. */
interface Summary {
  target: TargetName;
  mode: Mode;
  runs: Figures[];
  /** Per round: proxy minus direct (latencies), proxy / direct (throughput); empty for `direct`. */
  added: { p50_ms: number[]; p99_ms: number[]; ratio: number[] };
  valid: boolean;
}

function summarise(measurements: Measurement[]): Summary[] {
  const summaries: Summary[] = [];
  for (const m of measurements) {
    let summary = summaries.find((x) => x.target === m.target && x.mode === m.mode);
    if (!summary) summaries.push(summary = { target: m.target, mode: m.mode, runs: [], added: { p50_ms: [], p99_ms: [], ratio: [] }, valid: true });
    summary.runs.push(m.figures);
    summary.valid &&= isValid(m.figures);
    if (m.target === 'direct') continue;
    const direct = measurements.find((d) => d.mode === m.mode && d.round === m.round && d.target === 'direct')!.figures;
    summary.added.p50_ms.push(m.figures.p50_ms - direct.p50_ms);
    summary.added.p99_ms.push(m.figures.p99_ms - direct.p99_ms);
    summary.added.ratio.push(m.figures.requests_per_sec / direct.requests_per_sec);
  }
  return summaries;
}

/** One JSON line per figure (the median over the rounds, each round's value in `runs`). */
function printJson(summaries: Summary[], cfg: Settings): void {
  for (const s of summaries) {
    const common = {
      valid: s.valid, connections: cfg.connections, duration_s: cfg.duration, warmup_s: cfg.warmup, jit_warmup_s: cfg.jitWarmup, audit_commit: AUDIT_COMMIT,
      ...(s.mode === 'fixed' ? { rate_req_s: s.runs[0]!.rate, generator: cfg.generator } : {}),
    };
    const emit = (metric: string, unit: string, values: number[], digits: number, extra: Record<string, unknown> = {}): void => {
      const figures = { value: round(median(values), digits), runs: values.map((v) => round(v, digits)) };
      process.stdout.write(`${JSON.stringify({ bench: 'proxy', target: s.target, mode: s.mode, metric, unit, ...figures, ...extra, ...common })}\n`);
    };
    const proxy = s.target !== 'direct';
    const of = (key: 'requests_per_sec' | 'p50_ms' | 'p99_ms' | 'non_2xx' | 'errors'): number[] => s.runs.map((f) => f[key]);
    const cpuRuns = s.runs.map((f) => f.cpu).filter((c): c is CpuCores => c !== undefined);
    const cpu = cpuRuns.length > 0
      ? { cpu_cores: Object.fromEntries(Object.keys(cpuRuns[0]!).map((k) => [k, round(median(cpuRuns.map((c) => c[k as keyof CpuCores])), 2)])) }
      : {};
    emit('requests_per_sec', 'req/s', of('requests_per_sec'), 1, {
      ...(proxy && s.mode === 'saturation'
        ? { ratio_to_direct: round(median(s.added.ratio), 3), ratio_runs: s.added.ratio.map((v) => round(v, 3)), ratio_definition: 'proxy/direct, same mode and round, median; higher is better' }
        : {}),
      ...cpu,
    });
    for (const metric of ['p50_ms', 'p99_ms'] as const) {
      emit(metric, 'ms', of(metric), 2, proxy
        ? { added_ms: round(median(s.added[metric]), 2), added_runs: s.added[metric].map((v) => round(v, 2)), added_definition: 'proxy minus direct, same mode and round, median over rounds' }
        : {});
    }
    emit('non_2xx', 'count', of('non_2xx'), 0);
    emit('errors', 'count', of('errors'), 0);
  }
}

/** The human-readable summary, on stderr (stdout stays JSON lines only): medians, and every round's added p99. */
function printTable(summaries: Summary[]): void {
  const rows = [['target', 'mode', 'req/s', 'p50 ms', 'p99 ms', '+p50 ms', '+p99 ms', '+p99 per round', 'thr. ratio', 'valid']];
  for (const s of summaries) {
    const proxy = s.target !== 'direct';
    const med = (key: 'requests_per_sec' | 'p50_ms' | 'p99_ms'): number => median(s.runs.map((f) => f[key]));
    rows.push([
      s.target,
      s.mode === 'fixed' ? `fixed ${s.runs[0]!.rate}/s` : 'saturation',
      med('requests_per_sec').toFixed(0),
      med('p50_ms').toFixed(2),
      med('p99_ms').toFixed(2),
      proxy ? median(s.added.p50_ms).toFixed(2) : '-',
      proxy ? median(s.added.p99_ms).toFixed(2) : '-',
      proxy ? s.added.p99_ms.map((v) => v.toFixed(2)).join(' ') : '-',
      proxy && s.mode === 'saturation' ? median(s.added.ratio).toFixed(3) : '-',
      s.valid ? 'yes' : 'NO',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  process.stderr.write(`\n${line(rows[0]!)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.slice(1).map(line).join('\n')}\n\n`);
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(cfg: Settings): Promise<number> {
  log(`${cfg.connections} connections, ${cfg.jitWarmup} s JIT warm-up, then ${cfg.warmup} s warm-up + ${cfg.duration} s per run; fixed rate ≤ ${cfg.rateCap} req/s (${cfg.generator})`);
  const [upstreamPort, alterPort] = await freePorts(2) as [number, number];
  const upstreamToken = `bench-upstream-${randomBytes(16).toString('hex')}`;
  const upstreamUrl = await startUpstream(upstreamPort, upstreamToken);
  const alter = await startAlter(alterPort, cfg.childNodeArgs);
  const setup = await setUpAlter(alter, upstreamUrl, upstreamToken);
  log(`alter: app key, agent ${setup.agent.name} (${setup.agent.clientId}), secret ${setup.secretId} → ${upstreamUrl}/api`);

  const all = targets(upstreamUrl, alter.url, upstreamToken, setup);
  for (const target of all) {
    await target.refresh?.();
    await smokeTest(target);
  }

  await jitWarmUp(all, cfg);

  const measurements: Measurement[] = [];
  let rate = cfg.rateCap;
  for (let round = 1; round <= cfg.runs; round++) {
    if (cfg.modes.has('saturation')) for (const target of all) measurements.push(await measure(target, 'saturation', cfg, 0, round));
    if (cfg.modes.has('fixed')) {
      if (round === 1) {
        const saturation = measurements.filter((m) => m.mode === 'saturation');
        rate = saturation.length > 0 ? fixedRate(saturation, cfg.rateCap) : cfg.rateCap;
        log(saturation.length > 0
          ? `fixed rate: ${rate} req/s (min of BENCH_RATE ${cfg.rateCap} and ${FIXED_RATE_FRACTION} × the slower proxy's saturation throughput)`
          : `fixed rate: ${rate} req/s (BENCH_RATE; no saturation run to bound it)`);
      }
      for (const target of all) measurements.push(await measure(target, 'fixed', cfg, rate, round));
    }
  }

  const summaries = summarise(measurements);
  printJson(summaries, cfg);
  printTable(summaries);
  const valid = measurements.every((m) => isValid(m.figures));
  if (!valid) log('INVALID: some measured requests failed or the fixed rate was not reached; those figures are not usable');
  return valid ? 0 : 1;
}

function runBench(): Promise<never> {
  const cfg = settings();
  return runBenchmark(cleanup, 300 + cfg.jitWarmup + 6 * cfg.runs * (cfg.duration + cfg.warmup + 30), () => main(cfg));
}

if (process.argv[2] === '--upstream') await runUpstream();
else await runBench();
