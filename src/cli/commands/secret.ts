import { ADMIN_OPTIONS, requireOption, SERVER_OPTIONS } from '../args.ts';
import type { SecretView } from '../client.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { UsageError } from '../errors.ts';
import type { Output } from '../output.ts';
import { readFileArg } from '../read-file-arg.ts';
import { adminClient } from './agent.ts';

/** The value, from a JSON file or stdin (`-`): never from the command line, where shells keep history. */
function readValue(ctx: CommandContext): unknown {
  const file = requireOption(ctx.values, 'value-file');
  const text = readFileArg(ctx.io, file, { stdin: true });
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`${file} must hold the value as JSON, e.g. {"token": "…"}`);
  }
}

function printSecret(out: Output, s: SecretView): void {
  out.fields([
    ['id', s.id],
    ['name', s.name],
    ['type', s.type],
    ['version', String(s.version)],
    ...Object.entries(s.metadata).map(([k, v]) => [k, Array.isArray(v) ? v.join(' ') : v] as const),
    ['created', s.created_at],
    ['updated', s.updated_at],
  ]);
}

function secretId(ctx: CommandContext): string {
  const id = ctx.positionals[0];
  if (!id) throw new UsageError('the secret ID (sec_…) is required');
  return id;
}

const VALUE_HELP = 'JSON file with the value (or - for stdin): bearer {"token"}, api_key {"key", "header" | "query"}, basic {"username", "password"}, aws_sigv4 {"access_key_id", "secret_access_key", "session_token"?, "region", "service"}';

const create: CommandSpec = {
  path: ['secret', 'create'],
  summary: 'store a managed secret (API key, bearer token, basic auth, AWS SigV4 keys)',
  usage: '--name NAME --type TYPE --value-file FILE [--base-url URL]… [--provider NAME]',
  description: 'Stores the value encrypted in the vault and prints its ID (sec_…), usable wherever a connection ID is. The value is never shown again. The proxy sends it only to its --base-url URLs.',
  options: {
    name: { type: 'string', value: 'NAME', help: 'a-z, 0-9, ".", "_", "-" (unique in the app)' },
    type: { type: 'string', value: 'TYPE', help: 'bearer | api_key | basic | aws_sigv4' },
    'value-file': { type: 'string', value: 'FILE', help: VALUE_HELP },
    'base-url': { type: 'string', multiple: true, value: 'URL', help: 'an API base URL the proxy may send the secret to (repeatable), e.g. https://api.openai.com/v1' },
    provider: { type: 'string', value: 'NAME', help: 'the policy provider name for calls with it (default: the secret name)' },
    ...SERVER_OPTIONS,
    ...ADMIN_OPTIONS,
  },
  examples: ['echo \'{"key":"sk-…","header":"X-Api-Key"}\' | alter secret create --name openai --type api_key --value-file - --base-url https://api.openai.com/v1'],
  async run(ctx) {
    const baseUrls = (ctx.values['base-url'] as string[] | undefined) ?? [];
    const provider = ctx.values.provider as string | undefined;
    const secret = await adminClient(ctx).createSecret({
      name: requireOption(ctx.values, 'name'), type: requireOption(ctx.values, 'type'), value: readValue(ctx),
      ...(baseUrls.length > 0 ? { base_urls: baseUrls } : {}), ...(provider ? { provider } : {}),
    });
    if (ctx.out.json) ctx.out.data(secret);
    else {
      ctx.out.line(`Stored ${secret.id} (${secret.type}, version ${secret.version}).`);
      printSecret(ctx.out, secret);
    }
  },
};

const list: CommandSpec = {
  path: ['secret', 'list'],
  summary: 'list managed secrets (metadata only)',
  usage: '',
  options: { ...SERVER_OPTIONS, ...ADMIN_OPTIONS },
  async run(ctx) {
    const { secrets } = await adminClient(ctx).listSecrets();
    if (ctx.out.json) ctx.out.data({ secrets });
    else ctx.out.table(['ID', 'NAME', 'TYPE', 'VERSION', 'UPDATED'], secrets.map((s) => [s.id, s.name, s.type, String(s.version), s.updated_at]));
  },
};

const show: CommandSpec = {
  path: ['secret', 'show'],
  summary: "show a managed secret's metadata",
  usage: 'ID',
  positionals: ['ID'],
  options: { ...SERVER_OPTIONS, ...ADMIN_OPTIONS },
  async run(ctx) {
    const secret = await adminClient(ctx).getSecret(secretId(ctx));
    if (ctx.out.json) ctx.out.data(secret);
    else printSecret(ctx.out, secret);
  },
};

const rotate: CommandSpec = {
  path: ['secret', 'rotate'],
  summary: 'store a new value (new version) for a managed secret',
  usage: 'ID --value-file FILE',
  positionals: ['ID'],
  options: { 'value-file': { type: 'string', value: 'FILE', help: VALUE_HELP }, ...SERVER_OPTIONS, ...ADMIN_OPTIONS },
  async run(ctx) {
    const secret = await adminClient(ctx).rotateSecret(secretId(ctx), readValue(ctx));
    if (ctx.out.json) ctx.out.data(secret);
    else ctx.out.line(`${secret.id} is now at version ${secret.version}.`);
  },
};

const remove: CommandSpec = {
  path: ['secret', 'delete'],
  summary: 'delete a managed secret and every version of its value',
  usage: 'ID',
  positionals: ['ID'],
  options: { ...SERVER_OPTIONS, ...ADMIN_OPTIONS },
  async run(ctx) {
    const id = secretId(ctx);
    await adminClient(ctx).deleteSecret(id);
    if (ctx.out.json) ctx.out.data({ id, deleted: true });
    else ctx.out.line(`Deleted ${id}.`);
  },
};

/** `alter secret …`: managed secrets. */
export const secretCommands: readonly CommandSpec[] = [create, list, show, rotate, remove];
