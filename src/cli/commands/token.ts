import { resolve } from 'node:path';
import { flagOption, listOption, requireOption, SERVER_OPTIONS, stringOption, type OptionSpecs } from '../args.ts';
import { DEFAULT_ASSERTION_LIFETIME, MAX_ASSERTION_LIFETIME, signClientAssertion } from '../assertion.ts';
import { AlterClient } from '../client.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { ApiError, CliError, UsageError } from '../errors.ts';
import { CLIENT_ASSERTION_TYPE } from '../../exchange/token-types.ts';
import { readKeyFile, type KeyFile } from '../key-file.ts';
import { resolveServerUrl } from '../settings.ts';

const KEY_OPTIONS: OptionSpecs = {
  key: { type: 'string', value: 'FILE', help: 'private key file (as written by `alter agent create`) (required)' },
  'client-id': { type: 'string', value: 'ID', help: "the agent's client_id (default: client_id in the key file)" },
};

async function loadKey(ctx: CommandContext): Promise<{ key: KeyFile; clientId: string }> {
  const path = resolve(ctx.io.cwd, requireOption(ctx.values, 'key'));
  const key = await readKeyFile(path);
  const clientId = stringOption(ctx.values, 'client-id') ?? key.clientId;
  if (!clientId) throw new UsageError(`the key file ${path} has no client_id: pass --client-id ID`);
  return { key, clientId };
}

function lifetimeOf(ctx: CommandContext): number {
  const raw = stringOption(ctx.values, 'lifetime');
  if (raw === undefined) return DEFAULT_ASSERTION_LIFETIME;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_ASSERTION_LIFETIME) {
    throw new UsageError(`--lifetime must be a whole number of seconds from 1 to ${MAX_ASSERTION_LIFETIME}, got "${raw}"`);
  }
  return n;
}

function formatDuration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

const assertion: CommandSpec = {
  path: ['assertion'],
  summary: 'print a signed client assertion (RFC 7523) for curl',
  usage: '--key FILE [--client-id ID] [--audience URL] [--lifetime SECONDS]',
  description: [
    'Prints a fresh client assertion JWT signed with the private key: iss = sub = the client_id,',
    'aud = the issuer (from the key file, else from the server\'s discovery document), a unique',
    'jti, and a short lifetime. Each assertion can be used once.',
  ].join('\n'),
  options: {
    ...KEY_OPTIONS,
    audience: { type: 'string', value: 'URL', help: 'aud claim (default: issuer in the key file, else discovery)' },
    lifetime: { type: 'string', value: 'SECONDS', help: `seconds until exp (default ${DEFAULT_ASSERTION_LIFETIME}, at most ${MAX_ASSERTION_LIFETIME})` },
    ...SERVER_OPTIONS,
  },
  examples: [
    'curl -s http://localhost:8080/v1/token \\\n      -d grant_type=client_credentials \\\n' +
      `      -d client_assertion_type=${CLIENT_ASSERTION_TYPE} \\\n` +
      '      -d client_assertion="$(alter assertion --key ./my-bot.jwk.json)"',
  ],
  async run(ctx) {
    const { key, clientId } = await loadKey(ctx);
    const lifetimeSeconds = lifetimeOf(ctx);
    const audience = stringOption(ctx.values, 'audience')
      ?? key.issuer
      ?? (await new AlterClient(resolveServerUrl(ctx.values, ctx.io)).metadata()).issuer;
    const { jwt, expiresAt } = await signClientAssertion(key, { clientId, audience, lifetimeSeconds });
    if (ctx.out.json) {
      ctx.out.data({
        client_assertion: jwt,
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_id: clientId,
        audience,
        expires_at: new Date(expiresAt * 1000).toISOString(),
      });
    } else {
      ctx.out.line(jwt);
    }
  },
};

const token: CommandSpec = {
  path: ['token'],
  summary: 'get an access token (client_credentials with private_key_jwt)',
  usage: '--key FILE [--client-id ID] [--scope "A B"] [--resource URL]',
  description: [
    'Requests an access token from the token endpoint found by discovery, authenticating with a',
    'fresh client assertion signed by the private key. The server is --url / ALTER_URL, else the',
    'issuer stored in the key file, else http://localhost:8080.',
  ].join('\n'),
  options: {
    ...KEY_OPTIONS,
    scope: { type: 'string', multiple: true, value: 'SCOPES', help: 'scopes to request, separated by spaces (may be repeated)' },
    resource: { type: 'string', value: 'URL', help: 'the API the token is for (RFC 8707 resource indicator)' },
    quiet: { type: 'boolean', short: 'q', help: 'print only the access token' },
    ...SERVER_OPTIONS,
  },
  examples: [
    'alter token --key ./my-bot.jwk.json --scope "repo:read"',
    'curl -H "Authorization: Bearer $(alter token -q --key ./my-bot.jwk.json)" https://api.example.com/',
  ],
  async run(ctx) {
    const { key, clientId } = await loadKey(ctx);
    const scope = listOption(ctx.values, 'scope').join(' ');
    const resource = stringOption(ctx.values, 'resource');
    if (resource !== undefined && !URL.canParse(resource)) throw new UsageError(`--resource: not a URL: "${resource}"`);
    const client = new AlterClient(resolveServerUrl(ctx.values, ctx.io, key.issuer));
    const meta = await client.metadata();
    const { jwt } = await signClientAssertion(key, { clientId, audience: meta.issuer });
    let response;
    try {
      response = await client.clientCredentials(meta.token_endpoint, { assertion: jwt, ...(scope ? { scope } : {}), ...(resource ? { resource } : {}) });
    } catch (err) {
      if (err instanceof ApiError && err.error === 'invalid_client') {
        const elsewhere = key.issuer && key.issuer !== meta.issuer
          ? `the key file was made for ${key.issuer} but ${client.baseUrl} is ${meta.issuer}; `
          : '';
        throw new CliError(err.message, {
          hint: `${elsewhere}check that agent ${clientId} exists and is enabled (alter agent show ${clientId}) and that ${key.path} holds its private key`,
        });
      }
      throw err;
    }
    if (ctx.out.json) {
      ctx.out.data(response);
      return;
    }
    if (flagOption(ctx.values, 'quiet')) {
      ctx.out.line(response.access_token);
      return;
    }
    ctx.out.fields([
      ['access_token', response.access_token],
      ['token_type', response.token_type],
      ['expires_in', typeof response.expires_in === 'number' ? `${response.expires_in} (${formatDuration(response.expires_in)})` : undefined],
      ['scope', response.scope ?? '(none)'],
    ], '');
  },
};

/** `alter assertion` and `alter token`: act as an agent. */
export const tokenCommands: readonly CommandSpec[] = [assertion, token];
