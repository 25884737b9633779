import { ADMIN_OPTIONS, SERVER_OPTIONS } from '../args.ts';
import type { SigningKeyView } from '../client.ts';
import type { CommandSpec } from '../command.ts';
import type { Output } from '../output.ts';
import { adminClient } from './agent.ts';

function printKeys(out: Output, keys: readonly SigningKeyView[]): void {
  out.table(
    ['KID', 'ALG', 'STATE', 'CREATED', 'ACTIVATED', 'RETIRED'],
    keys.map((k) => [k.kid, k.alg, k.state, k.created_at, k.activated_at ?? '-', k.retired_at ?? '-']),
  );
}

const list: CommandSpec = {
  path: ['keys', 'list'],
  summary: "list the server's token signing keys",
  usage: '',
  description: 'Shows the signing key set (public information only): the next key, the current key, and retired keys still published for tokens they signed.',
  options: { ...SERVER_OPTIONS, ...ADMIN_OPTIONS },
  async run(ctx) {
    const { keys } = await adminClient(ctx).listKeys();
    if (ctx.out.json) ctx.out.data({ keys });
    else printKeys(ctx.out, keys);
  },
};

const rotate: CommandSpec = {
  path: ['keys', 'rotate'],
  summary: 'rotate the token signing keys',
  usage: '',
  description: [
    'Promotes the next key to current, retires the current key (it stays published until the',
    'tokens it signed have expired) and generates a new next key. Issued tokens stay valid.',
  ].join('\n'),
  options: { ...SERVER_OPTIONS, ...ADMIN_OPTIONS },
  async run(ctx) {
    const { keys } = await adminClient(ctx).rotateKeys();
    if (ctx.out.json) {
      ctx.out.data({ keys });
      return;
    }
    const current = keys.find((k) => k.state === 'current');
    ctx.out.line(`Rotated the signing keys${current ? `: new tokens are signed with ${current.kid}` : ''}.`);
    ctx.out.line();
    printKeys(ctx.out, keys);
  },
};

const rotateKek: CommandSpec = {
  path: ['keys', 'rotate-kek'],
  summary: "rotate the vault's key-encryption key",
  usage: '[--wait]',
  description: [
    'Starts a new key-encryption key: new secrets use it at once; a background job re-wraps the',
    'data keys of older secrets (their values are not re-encrypted). With --wait the re-wrap runs',
    'now and the command reports how many records moved. Audited as vault.kek_rotated.',
  ].join('\n'),
  options: { wait: { type: 'boolean', help: 're-wrap every record before returning' }, ...SERVER_OPTIONS, ...ADMIN_OPTIONS },
  async run(ctx) {
    const result = await adminClient(ctx).rotateKek(ctx.values.wait === true);
    if (ctx.out.json) {
      ctx.out.data(result);
      return;
    }
    ctx.out.line(`New secrets are encrypted under ${result.kek_version}.`);
    if (result.rewrapped !== undefined) ctx.out.line(`Re-wrapped ${result.rewrapped} record(s)${result.failed ? `; ${result.failed} did not authenticate and were left` : ''}.`);
    ctx.out.table(['KEK', 'RECORDS'], Object.entries(result.records_by_kek).map(([k, n]) => [k, String(n)]));
  },
};

/** `alter keys …`: the server's signing keys and the vault's key-encryption key. */
export const keyCommands: readonly CommandSpec[] = [list, rotate, rotateKek];
