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

/** `alter keys …`: the server's signing keys. */
export const keyCommands: readonly CommandSpec[] = [list, rotate];
