import { resolve } from 'node:path';
import { ADMIN_OPTIONS, flagOption, listOption, requireOption, SERVER_OPTIONS, stringOption } from '../args.ts';
import { AlterClient, type AgentView } from '../client.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { CliError, UsageError } from '../errors.ts';
import { discardKeyFile, generateAgentKey, readPublicJwks, reserveKeyFile, writeKeyFile } from '../key-file.ts';
import { shellQuote, type Output } from '../output.ts';
import { resolveAdminKey, resolveServerUrl } from '../settings.ts';

/** A client for the admin API, from `--url`/`ALTER_URL` and the admin key. */
export function adminClient(ctx: CommandContext): AlterClient {
  const adminKey = resolveAdminKey(ctx.values, ctx.io);
  return new AlterClient(resolveServerUrl(ctx.values, ctx.io), adminKey);
}

function describeKeys(agent: AgentView): string {
  if (agent.jwks_uri) return `jwks_uri ${agent.jwks_uri}`;
  const keys = agent.jwks?.keys ?? [];
  return keys
    .map((k) => [k.kid, [k.kty, k.crv, k.alg].filter((v) => typeof v === 'string').join(' ')].filter(Boolean).join(' '))
    .join(', ');
}

function printAgent(out: Output, agent: AgentView): void {
  out.fields([
    ['client_id', agent.client_id],
    ['name', agent.name],
    ['class', agent.class],
    ['status', agent.status],
    ['scopes', agent.scopes.length > 0 ? agent.scopes.join(' ') : '(none)'],
    ['auth method', agent.token_endpoint_auth_method],
    [agent.jwks_uri ? 'jwks_uri' : 'keys', agent.jwks_uri ?? describeKeys(agent)],
    ['org_id', agent.org_id],
    ['app_id', agent.app_id],
    ['created', agent.created_at],
    ['updated', agent.updated_at],
  ]);
}

/** The one positional argument of show/disable/enable/delete. */
function agentId(ctx: CommandContext): string {
  const id = ctx.positionals[0];
  if (!id) throw new UsageError('the agent ID (its client_id) is required');
  return id;
}

const create: CommandSpec = {
  path: ['agent', 'create'],
  summary: 'register an agent (generates its Ed25519 key pair)',
  usage: '--name NAME --class CLASS [--scope SCOPE]... [--key-out FILE | --jwks-file FILE | --jwks-uri URL]',
  description: [
    'Registers an agent (an OAuth client using private_key_jwt). By default a new Ed25519 key',
    'pair is generated: the public key is registered and the private key is written to',
    '--key-out FILE (default ./NAME.jwk.json, mode 0600; an existing file is never overwritten),',
    'together with the agent\'s client_id and the server\'s issuer, so that',
    '`alter token --key FILE` needs nothing else. With --jwks-file or --jwks-uri you bring your',
    'own public keys instead.',
  ].join('\n'),
  options: {
    name: { type: 'string', value: 'NAME', help: 'agent name: a-z, 0-9, ".", "_", "-" (required)' },
    class: { type: 'string', value: 'CLASS', help: 'agent class, e.g. data-reader (required)' },
    scope: { type: 'string', multiple: true, value: 'SCOPE', help: 'a scope the agent may request (repeat, or give several separated by spaces)' },
    'key-out': { type: 'string', value: 'FILE', help: 'where to write the new private key (default ./NAME.jwk.json)' },
    'jwks-file': { type: 'string', value: 'FILE', help: 'register the public JWKS (or single JWK) in FILE instead' },
    'jwks-uri': { type: 'string', value: 'URL', help: 'register a JWKS URL instead (the server fetches the keys from it)' },
    ...SERVER_OPTIONS,
    ...ADMIN_OPTIONS,
  },
  examples: [
    'alter agent create --name my-bot --class data-reader --scope repo:read',
    'alter agent create --name ci --class deployer --jwks-file ./ci-public.jwks.json',
  ],
  async run(ctx) {
    const { values, io, out } = ctx;
    const name = requireOption(values, 'name');
    const agentClass = requireOption(values, 'class');
    const scopes = listOption(values, 'scope');
    const keyOut = stringOption(values, 'key-out');
    const jwksFile = stringOption(values, 'jwks-file');
    const jwksUri = stringOption(values, 'jwks-uri');
    const sources = [keyOut !== undefined, jwksFile !== undefined, jwksUri !== undefined].filter(Boolean).length;
    if (sources > 1) throw new UsageError('give only one of --key-out, --jwks-file and --jwks-uri');
    if (jwksUri !== undefined && !URL.canParse(jwksUri)) throw new UsageError(`--jwks-uri: not a URL: "${jwksUri}"`);
    if (keyOut === '' || jwksFile === '') throw new UsageError(keyOut === '' ? '--key-out needs a file name' : '--jwks-file needs a file name');
    const client = adminClient(ctx);
    const body = { name, class: agentClass, ...(scopes.length > 0 ? { scopes } : {}) };

    if (jwksFile !== undefined || jwksUri !== undefined) {
      const agent = jwksFile !== undefined
        ? await client.createAgent({ ...body, jwks: await readPublicJwks(resolve(io.cwd, jwksFile)) })
        : await client.createAgent({ ...body, jwks_uri: jwksUri! });
      if (out.json) {
        out.data(agent);
        return;
      }
      out.line(`Registered agent ${agent.name} (class ${agent.class})`);
      out.fields([
        ['client_id', agent.client_id],
        ['scopes', agent.scopes.length > 0 ? agent.scopes.join(' ') : '(none)'],
        [agent.jwks_uri ? 'jwks_uri' : 'keys', agent.jwks_uri ?? describeKeys(agent)],
      ]);
      out.line();
      out.line('Get an access token with your private key:');
      out.line(`  alter token --key PRIVATE_KEY_FILE --client-id ${agent.client_id}`);
      return;
    }

    // Generated key: reserve the file first, so nothing is registered if it cannot be written.
    const shownPath = keyOut ?? `./${name}.jwk.json`;
    if (keyOut === undefined && /[/\\]/.test(name)) throw new UsageError('--name must not contain "/" (it names the default key file)');
    const path = resolve(io.cwd, shownPath);
    const handle = await reserveKeyFile(path);
    let agent: AgentView;
    let issuer: string;
    const key = await generateAgentKey();
    try {
      issuer = (await client.metadata()).issuer;
      agent = await client.createAgent({ ...body, jwks: { keys: [key.publicJwk as Record<string, unknown>] } });
    } catch (err) {
      await discardKeyFile(handle, path);
      throw err;
    }
    try {
      await writeKeyFile(handle, key.privateJwk, { clientId: agent.client_id, issuer });
    } catch (err) {
      await discardKeyFile(handle, path);
      const removed = await client.deleteAgent(agent.client_id).then(() => true, () => false);
      throw new CliError(
        `could not write the private key to ${path}: ${(err as Error).message}; ` +
          (removed ? `the agent ${agent.client_id} was deleted again` : `delete the unusable agent with: alter agent delete ${agent.client_id}`),
      );
    }
    if (out.json) {
      out.data({ ...agent, key_file: path });
      return;
    }
    out.line(`Registered agent ${agent.name} (class ${agent.class})`);
    out.fields([
      ['client_id', agent.client_id],
      ['scopes', agent.scopes.length > 0 ? agent.scopes.join(' ') : '(none)'],
      ['kid', key.kid],
      ['key file', `${shownPath} (private key, mode 0600: keep it secret)`],
    ]);
    out.line();
    out.line('Get an access token:');
    const scopeHint = agent.scopes.length > 0 ? ` --scope ${shellQuote(agent.scopes.join(' '))}` : '';
    out.line(`  alter token --key ${shellQuote(shownPath)}${scopeHint}`);
  },
};

const list: CommandSpec = {
  path: ['agent', 'list'],
  summary: 'list agents',
  usage: '[--limit N] [--cursor CURSOR | --all]',
  description: 'Lists the registered agents, oldest first, one page at a time (or every page with --all).',
  options: {
    limit: { type: 'string', value: 'N', help: 'page size, 1-500 (default 50)' },
    cursor: { type: 'string', value: 'CURSOR', help: 'continue after a previous page (its next_cursor)' },
    all: { type: 'boolean', help: 'fetch every page' },
    ...SERVER_OPTIONS,
    ...ADMIN_OPTIONS,
  },
  async run(ctx) {
    const { values, out } = ctx;
    const limitRaw = stringOption(values, 'limit');
    const limit = limitRaw === undefined ? undefined : Number(limitRaw);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 500)) {
      throw new UsageError(`--limit must be an integer from 1 to 500, got "${limitRaw}"`);
    }
    const all = flagOption(values, 'all');
    let cursor = stringOption(values, 'cursor');
    if (all && cursor !== undefined) throw new UsageError('give --cursor or --all, not both');
    const client = adminClient(ctx);
    const agents: AgentView[] = [];
    let next: string | undefined;
    do {
      const page = await client.listAgents({ ...(limit !== undefined ? { limit } : all ? { limit: 500 } : {}), ...(cursor ? { cursor } : {}) });
      agents.push(...page.agents);
      next = page.next_cursor;
      cursor = next;
    } while (all && next);

    if (out.json) {
      out.data({ agents, ...(next ? { next_cursor: next } : {}) });
      return;
    }
    if (agents.length === 0) {
      out.line('No agents. Register one with: alter agent create --name NAME --class CLASS');
      return;
    }
    out.table(
      ['CLIENT_ID', 'NAME', 'CLASS', 'STATUS', 'SCOPES', 'CREATED'],
      agents.map((a) => [a.client_id, a.name, a.class, a.status, a.scopes.join(' ') || '-', a.created_at]),
    );
    if (next) out.line(`\nMore agents: alter agent list --cursor ${shellQuote(next)}  (or --all)`);
  },
};

const show: CommandSpec = {
  path: ['agent', 'show'],
  summary: 'show one agent',
  usage: 'ID',
  positionals: ['ID'],
  options: { ...SERVER_OPTIONS, ...ADMIN_OPTIONS },
  async run(ctx) {
    const agent = await adminClient(ctx).getAgent(agentId(ctx));
    if (ctx.out.json) ctx.out.data(agent);
    else printAgent(ctx.out, agent);
  },
};

const disable: CommandSpec = {
  path: ['agent', 'disable'],
  summary: 'disable an agent and revoke its tokens',
  usage: 'ID',
  positionals: ['ID'],
  description: 'The agent can no longer get tokens, and every token it holds is revoked. `alter agent enable` undoes the first part.',
  options: { ...SERVER_OPTIONS, ...ADMIN_OPTIONS },
  async run(ctx) {
    const agent = await adminClient(ctx).disableAgent(agentId(ctx));
    if (ctx.out.json) ctx.out.data(agent);
    else ctx.out.line(`Disabled agent ${agent.client_id} (${agent.name}); its tokens are revoked.`);
  },
};

const enable: CommandSpec = {
  path: ['agent', 'enable'],
  summary: 'enable a disabled agent',
  usage: 'ID',
  positionals: ['ID'],
  description: 'The agent can get tokens again (tokens revoked when it was disabled stay revoked).',
  options: { ...SERVER_OPTIONS, ...ADMIN_OPTIONS },
  async run(ctx) {
    const agent = await adminClient(ctx).enableAgent(agentId(ctx));
    if (ctx.out.json) ctx.out.data(agent);
    else ctx.out.line(`Enabled agent ${agent.client_id} (${agent.name}).`);
  },
};

const remove: CommandSpec = {
  path: ['agent', 'delete'],
  summary: 'delete an agent and revoke its tokens',
  usage: 'ID',
  positionals: ['ID'],
  description: 'Deletes the agent for good and revokes every token it holds. Its key file, if any, is left alone.',
  options: { ...SERVER_OPTIONS, ...ADMIN_OPTIONS },
  async run(ctx) {
    const id = agentId(ctx);
    await adminClient(ctx).deleteAgent(id);
    if (ctx.out.json) ctx.out.data({ client_id: id, deleted: true });
    else ctx.out.line(`Deleted agent ${id}; its tokens are revoked.`);
  },
};

/** `alter agent …`: register and manage agents through the admin API. */
export const agentCommands: readonly CommandSpec[] = [create, list, show, disable, enable, remove];
