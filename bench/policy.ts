/**
 * Policy engine benchmark: `node bench/policy.ts`.
 *
 * Builds a 200-rule policy (12 providers, 10 agent classes with name globs; allow, deny and
 * downgrade rules; a fifth of them with a time window or a CEL condition), compiles it, then
 * evaluates a fixed mix of 1,000 realistic requests (1-3 scopes, several agents per class,
 * unclassified agents, undeclared providers, times spread over a week) over and over.
 *
 * Figures, one JSON line each on stdout:
 *   policy.compile   time to compile the text (YAML, schema, CEL, index), median of 5
 *   policy.decision  latency of one `evaluate` call, each timed on its own with
 *                    process.hrtime.bigint (the timer's own cost, ~30-60 ns, is included),
 *                    after a warm-up; plus decisions per second from untimed batches
 *   policy.explain   the same for `explain` (every rule traced), fewer samples
 *
 * Environment: BENCH_DECISIONS (timed decisions, default 1,000,000).
 */
import { compilePolicy } from '../src/policy/compile-policy.ts';
import type { CompiledPolicy, PolicyRequest } from '../src/policy/types.ts';

const PROVIDERS = ['github', 'gitlab', 'google-calendar', 'gmail', 'slack', 'linear', 'notion', 'jira', 'stripe', 'salesforce', 'hubspot', 'zendesk'];
const CLASSES = ['data-reader', 'summarizer', 'scheduler', 'triager', 'coder', 'reviewer', 'support', 'sales', 'finance', 'ops'];
const VERBS = ['read', 'write', 'admin'];
const RESOURCES = ['repo', 'issues', 'calendar', 'mail', 'chat', 'docs', 'tickets', 'payments'];

/** Deterministic pseudo-random numbers (mulberry32), so every run measures the same mix. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function policyText(ruleCount: number): string {
  const rnd = random(42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
  const lines = ['version: 1', 'defaults:', '  ttl: 4h', 'agent_classes:'];
  for (const c of CLASSES) lines.push(`  ${c}:`, `    agents: ["${c}-*", "*-${c}"]`, '    ttl: 2h');
  lines.push('providers:');
  for (const p of PROVIDERS) lines.push(`  ${p}:`, `    resources: ["https://api.${p}.example"]`, '    ttl: 1h');
  lines.push('rules:');
  for (let i = 0; i < ruleCount; i++) {
    const kind = i % 10;
    const effect = kind === 0 ? 'deny' : kind === 1 ? 'downgrade' : 'allow';
    lines.push(`  - id: rule-${i}`, `    effect: ${effect}`);
    lines.push(`    agent_classes: [${i % 7 === 0 ? '"*"' : `${pick(CLASSES)}, ${pick(CLASSES)}`}]`);
    lines.push(`    providers: [${i % 11 === 0 ? '"*"' : pick(PROVIDERS)}]`);
    if (effect === 'deny') lines.push(`    scopes: ["${pick(RESOURCES)}:admin"]`);
    else if (effect === 'downgrade') lines.push('    scopes: ["*:write", "*:admin"]', '    max_scope: ["*:read"]');
    else lines.push(`    scopes: ["${pick(RESOURCES)}:*", "${pick(RESOURCES)}:read"]`);
    if (kind === 3) lines.push('    when:', '      time: { days: [mon, tue, wed, thu, fri], start: "08:00", end: "20:00", timezone: Europe/Paris }');
    if (kind === 5) lines.push('    when:', `      cel: 'run.task != "" && request.scopes.size() <= 3 && delegation.depth < 3'`);
    if (kind === 7) lines.push('    ttl: 30m');
  }
  return `${lines.join('\n')}\n`;
}

function requests(count: number): PolicyRequest[] {
  const rnd = random(7);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
  const out: PolicyRequest[] = [];
  const monday = Date.parse('2026-01-05T00:00:00Z');
  for (let i = 0; i < count; i++) {
    const agentClass = pick(CLASSES);
    const scopes = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => `${pick(RESOURCES)}:${pick(VERBS)}`);
    out.push({
      agent: { id: `agt_${i}`, name: rnd() < 0.1 ? `stray-${i}` : `${agentClass}-${i % 5}`, class: agentClass },
      provider: rnd() < 0.05 ? 'unknown-provider' : pick(PROVIDERS),
      scopes,
      ...(rnd() < 0.5 ? { ceiling: scopes.map((s) => s.replace(/:(write|admin)$/, ':read')) } : {}),
      grantType: 'urn:ietf:params:oauth:grant-type:token-exchange',
      run: { run_id: `run_${i}`, task: rnd() < 0.8 ? 'triage the inbox' : '' },
      ...(rnd() < 0.3 ? { delegation: { depth: 1 + Math.floor(rnd() * 3), parentClass: pick(CLASSES), chain: ['agt_root', `agt_${i}`] } } : {}),
      time: new Date(monday + Math.floor(rnd() * 7 * 24 * 3600) * 1000),
    });
  }
  return out;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const round = (n: number, digits = 2): number => Number(n.toFixed(digits));

/** Times `samples` calls of `run` one by one; returns µs percentiles. */
function timeEach(policy: CompiledPolicy, mix: readonly PolicyRequest[], samples: number, run: (p: CompiledPolicy, r: PolicyRequest) => unknown) {
  const timings = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const request = mix[i % mix.length] as PolicyRequest;
    const start = process.hrtime.bigint();
    run(policy, request);
    timings[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  timings.sort();
  return { p50_us: round(percentile(timings, 50)), p99_us: round(percentile(timings, 99)), p999_us: round(percentile(timings, 99.9)), max_us: round(timings[samples - 1] as number) };
}

/** Decisions per second over untimed batches (best of 5 batches). */
function throughput(policy: CompiledPolicy, mix: readonly PolicyRequest[], perBatch: number): number {
  let best = 0;
  for (let b = 0; b < 5; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < perBatch; i++) policy.evaluate(mix[i % mix.length] as PolicyRequest);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    best = Math.max(best, perBatch / seconds);
  }
  return Math.round(best);
}

const RULES = 200;
const text = policyText(RULES);
const compileTimes: number[] = [];
let policy: CompiledPolicy | undefined;
for (let i = 0; i < 5; i++) {
  const start = process.hrtime.bigint();
  policy = compilePolicy(text, { origin: 'bench/policy.ts' });
  compileTimes.push(Number(process.hrtime.bigint() - start) / 1e6);
}
compileTimes.sort((a, b) => a - b);
console.log(JSON.stringify({ bench: 'policy.compile', rules: RULES, bytes: text.length, ms: round(compileTimes[2] as number) }));

const compiled = policy as CompiledPolicy;
const mix = requests(1000);
const effects: Record<string, number> = {};
for (const r of mix) {
  const d = compiled.evaluate(r);
  effects[d.effect] = (effects[d.effect] ?? 0) + 1;
}
process.stderr.write(`request mix: ${JSON.stringify(effects)}\n`);

const samples = Number(process.env.BENCH_DECISIONS ?? 1_000_000);
for (let i = 0; i < 200_000; i++) compiled.evaluate(mix[i % mix.length] as PolicyRequest); // warm-up (JIT)
const decision = timeEach(compiled, mix, samples, (p, r) => p.evaluate(r));
console.log(JSON.stringify({ bench: 'policy.decision', rules: RULES, samples, ...decision, decisions_per_s: throughput(compiled, mix, 200_000), mix: effects }));

for (let i = 0; i < 20_000; i++) compiled.explain(mix[i % mix.length] as PolicyRequest);
console.log(JSON.stringify({ bench: 'policy.explain', rules: RULES, samples: 100_000, ...timeEach(compiled, mix, 100_000, (p, r) => p.explain(r)) }));
