import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseBundle } from '../../audit/audit-bundle.ts';
import { parseVerifierKey } from '../../audit/signed-note.ts';
import { verifyChain, type VerifyReport } from '../../audit/verify-chain.ts';
import { ADMIN_OPTIONS, listOption, SERVER_OPTIONS, stringOption } from '../args.ts';
import { AlterClient } from '../client.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { CliError, UsageError } from '../errors.ts';
import { readFileArg } from '../read-file-arg.ts';
import { resolveServerUrl } from '../settings.ts';
import { adminClient } from './agent.ts';

function printReport(ctx: CommandContext, report: VerifyReport): void {
  const cps = report.checkpoints;
  ctx.out.line(`${report.orgId}: ${report.ok ? 'OK' : 'TAMPERED'} — ${report.entries} entries (last seq ${report.lastSeq}), `
    + `${cps.verified}/${cps.total} signed checkpoints verified${cps.lastVerifiedSeq ? ` (latest at seq ${cps.lastVerifiedSeq})` : ''}`);
  if (report.firstBrokenSeq !== undefined) ctx.out.line(`  first broken entry: seq ${report.firstBrokenSeq}`);
  for (const p of report.problems) ctx.out.line(`  ${p.kind} at seq ${p.seq}: ${p.message}`);
}

/** Verifies a JSONL bundle with no server: keys pinned with --key, else those in the bundle. */
async function verifyBundle(ctx: CommandContext, file: string): Promise<VerifyReport[]> {
  const text = readFileArg(ctx.io, file);
  let bundle;
  try {
    bundle = parseBundle(text);
  } catch (err) {
    throw new CliError(`${file}: ${(err as Error).message}`);
  }
  const pinned = listOption(ctx.values, 'key');
  if (pinned.length === 0) ctx.io.stderr.write('warning: checkpoint signatures checked against the key inside the bundle; pin the server\'s key with --key (from `alter audit keys`)\n');
  let keys;
  try {
    keys = (pinned.length > 0 ? pinned : bundle.keys).map(parseVerifierKey);
  } catch (err) {
    throw new UsageError(`--key: ${(err as Error).message}`);
  }
  const reports: VerifyReport[] = [];
  for (const [orgId, org] of bundle.orgs) reports.push(await verifyChain({ orgId, entries: org.entries, checkpoints: org.checkpoints, keys }));
  return reports;
}

const verify: CommandSpec = {
  path: ['audit', 'verify'],
  summary: 'verify the audit log: hash chain, gaps, signed checkpoints',
  usage: '[--bundle FILE [--key KEY]...]',
  description: [
    'Recomputes every entry hash, checks the sequence has no gaps and that every signed checkpoint',
    'still matches the chain; reports the first broken entry. Without --bundle the server verifies',
    'its database (admin key). With --bundle FILE a JSONL export is verified offline, no database:',
    'pin the signing key with --key (the verifier_key from `alter audit keys`). Exits 1 on tampering.',
  ].join('\n'),
  options: {
    bundle: { type: 'string', value: 'FILE', help: 'a JSONL export (`alter audit export`) to verify offline' },
    key: { type: 'string', multiple: true, value: 'KEY', help: 'trusted checkpoint verifier key (signed-note format)' },
    ...SERVER_OPTIONS,
    ...ADMIN_OPTIONS,
  },
  examples: ['alter audit verify', 'alter audit verify --bundle audit.jsonl --key "alter-audit+1a2b3c4d+AeR…"'],
  async run(ctx) {
    const file = stringOption(ctx.values, 'bundle');
    const reports = file ? await verifyBundle(ctx, file) : [await adminClient(ctx).auditVerify()];
    if (ctx.out.json) ctx.out.data(file ? { reports } : reports[0]);
    else for (const r of reports) printReport(ctx, r);
    return reports.every((r) => r.ok) ? 0 : 1;
  },
};

const FILTERS = ['type', 'agent', 'run-id', 'end-user', 'provider', 'from', 'to', 'after', 'limit'] as const;

const list: CommandSpec = {
  path: ['audit', 'list'],
  summary: 'list audit events (filters, cursor pagination)',
  usage: '[--type T] [--agent ID] [--run-id ID] [--end-user ID] [--provider P] [--from TIME] [--to TIME] [--after SEQ] [--limit N]',
  options: {
    type: { type: 'string', value: 'TYPE', help: 'event type, e.g. policy.deny' },
    agent: { type: 'string', value: 'ID', help: 'agent client_id' },
    'run-id': { type: 'string', value: 'ID', help: 'run context run_id' },
    'end-user': { type: 'string', value: 'ID', help: 'end user' },
    provider: { type: 'string', value: 'NAME', help: 'provider' },
    from: { type: 'string', value: 'TIME', help: 'ISO 8601, inclusive' },
    to: { type: 'string', value: 'TIME', help: 'ISO 8601, exclusive' },
    after: { type: 'string', value: 'SEQ', help: 'cursor: events after this sequence number' },
    limit: { type: 'string', value: 'N', help: 'at most N events (default 100, max 1000)' },
    ...SERVER_OPTIONS,
    ...ADMIN_OPTIONS,
  },
  async run(ctx) {
    const query: Record<string, string> = {};
    for (const name of FILTERS) {
      const value = stringOption(ctx.values, name);
      if (value !== undefined) query[name.replace('-', '_')] = value;
    }
    const page = await adminClient(ctx).auditEvents(query);
    if (ctx.out.json) {
      ctx.out.data(page);
      return;
    }
    ctx.out.table(['SEQ', 'TIME', 'TYPE', 'AGENT', 'DECISION', 'PROVIDER'], page.events.map((e) => [
      String(e.seq), e.occurred_at, e.type, String(e.event.agent ?? '-'), String(e.event.decision ?? '-'), String(e.event.provider ?? '-'),
    ]));
    if (page.next_cursor) ctx.out.line(`more: --after ${page.next_cursor}`);
  },
};

const exportCommand: CommandSpec = {
  path: ['audit', 'export'],
  summary: 'export the audit log as JSONL (entries, signed checkpoints, key)',
  usage: '[--out FILE]',
  options: { out: { type: 'string', value: 'FILE', help: 'write to FILE instead of stdout' }, ...SERVER_OPTIONS, ...ADMIN_OPTIONS },
  async run(ctx) {
    const text = await adminClient(ctx).auditExport();
    const out = stringOption(ctx.values, 'out');
    if (out) writeFileSync(resolve(ctx.io.cwd, out), text, { mode: 0o600 });
    else ctx.io.stdout.write(text);
  },
};

const hmac: CommandSpec = {
  path: ['audit', 'hmac'],
  summary: 'the HMAC under which an identifier (a token jti) appears in audit events',
  usage: 'VALUE',
  positionals: ['VALUE'],
  options: { ...SERVER_OPTIONS, ...ADMIN_OPTIONS },
  async run(ctx) {
    const { hmac: value } = await adminClient(ctx).auditHmac(ctx.positionals[0]!);
    if (ctx.out.json) ctx.out.data({ hmac: value });
    else ctx.out.line(value);
  },
};

const keys: CommandSpec = {
  path: ['audit', 'keys'],
  summary: 'the keys that sign audit checkpoints (to pin with verify --key)',
  usage: '',
  options: { ...SERVER_OPTIONS },
  async run(ctx) {
    const { keys: list } = await new AlterClient(resolveServerUrl(ctx.values, ctx.io)).auditKeys();
    if (ctx.out.json) ctx.out.data({ keys: list });
    else for (const k of list) ctx.out.line(k.verifier_key);
  },
};

/** `alter audit …`: query, export and verify the tamper-evident audit log. */
export const auditCommands: readonly CommandSpec[] = [list, exportCommand, verify, hmac, keys];
