import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_OPTIONS, flagOption, listOption, requireOption, SERVER_OPTIONS, stringOption } from '../args.ts';
import { AlterClient } from '../client.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { CliError, UsageError } from '../errors.ts';
import { readFileArg } from '../read-file-arg.ts';
import { DEFAULT_DATA_DIR, resolveServerUrl } from '../settings.ts';
import { builtInProvidersDir, CatalogInvalid, loadCatalog, type ProviderCatalog } from '../../providers/catalog.ts';
import { adminClient } from './agent.ts';

const list: CommandSpec = {
  path: ['providers', 'list'],
  summary: 'list the provider catalog (built in and custom); with --configured, what this app has configured',
  usage: '[--configured] [--providers-dir DIR]',
  options: {
    configured: { type: 'boolean', help: "ask the server which providers the app has configured (needs the admin key)" },
    'providers-dir': { type: 'string', value: 'DIR', help: 'custom providers (env ALTER_PROVIDERS_DIR, default ./data/providers)' },
    ...SERVER_OPTIONS,
    ...ADMIN_OPTIONS,
  },
  examples: ['alter providers list', 'alter providers list --configured'],
  async run(ctx) {
    type Row = { name: string; display_name: string; categories: string[]; refresh: boolean; pkce: boolean; verified: boolean; configured?: boolean };
    let rows: Row[];
    if (flagOption(ctx.values, 'configured')) {
      const body = (await adminClient(ctx).call('GET', '/v1/admin/providers?configured=true', { admin: true })) as { providers: Row[] };
      rows = body.providers;
    } else {
      const dir = stringOption(ctx.values, 'providers-dir') ?? ctx.io.env.ALTER_PROVIDERS_DIR ?? join(ctx.io.env.ALTER_DATA_DIR ?? DEFAULT_DATA_DIR, 'providers');
      let catalog: ProviderCatalog;
      try {
        catalog = loadCatalog({ builtInDir: builtInProvidersDir(), customDir: resolve(ctx.io.cwd, dir), allowInsecureUrls: true });
      } catch (err) {
        // A bad provider file is the operator's to fix: its problems, not an "unexpected failure".
        if (err instanceof CatalogInvalid) throw new CliError(err.message, { cause: err });
        throw err;
      }
      rows = catalog.list().map((e) => ({ name: e.name, display_name: e.display_name, categories: e.categories, refresh: e.refresh.supported, pkce: e.oauth.pkce, verified: e.verified }));
    }
    if (ctx.out.json) {
      ctx.out.data({ providers: rows });
      return;
    }
    ctx.out.table(['NAME', 'PROVIDER', 'CATEGORIES', 'REFRESH', 'PKCE', 'VERIFIED'],
      rows.map((r) => [r.name, r.display_name, r.categories.join(','), r.refresh ? 'yes' : 'no', r.pkce ? 'yes' : 'no', r.verified ? 'yes' : 'no']));
  },
};

const configure: CommandSpec = {
  path: ['providers', 'configure'],
  summary: "configure a provider for the app: its OAuth client ID and secret (the secret goes to the vault)",
  usage: 'NAME --client-id ID [--client-secret-file FILE] [--scope PERMISSION]… [--param NAME=VALUE]…',
  positionals: ['NAME'],
  options: {
    'client-id': { type: 'string', value: 'ID', help: "the OAuth client ID registered at the provider" },
    'client-secret-file': { type: 'string', value: 'FILE', help: 'file holding the client secret (or - for stdin)' },
    scope: { type: 'string', multiple: true, value: 'PERMISSION', help: 'permission Connect asks for by default (repeatable), e.g. repo:read' },
    param: { type: 'string', multiple: true, value: 'NAME=VALUE', help: 'template value, e.g. subdomain=acme (repeatable)' },
    ...SERVER_OPTIONS,
    ...ADMIN_OPTIONS,
  },
  examples: ['alter providers configure github --client-id Iv1.abc --client-secret-file ./github.secret --scope repo:read'],
  async run(ctx) {
    const name = ctx.positionals[0];
    if (!name) throw new UsageError('the provider name is required (see alter providers list)');
    const secretFile = stringOption(ctx.values, 'client-secret-file');
    const secret = secretFile ? readFileArg(ctx.io, secretFile, { stdin: true }).trim() : undefined;
    const params = Object.fromEntries(listOption(ctx.values, 'param').map((p) => {
      const at = p.indexOf('=');
      if (at <= 0) throw new UsageError(`--param ${p}: expected NAME=VALUE`);
      return [p.slice(0, at), p.slice(at + 1)];
    }));
    const scopes = listOption(ctx.values, 'scope');
    const body = (await adminClient(ctx).call('PUT', `/v1/admin/providers/${encodeURIComponent(name)}`, {
      admin: true,
      json: { client_id: requireOption(ctx.values, 'client-id'), ...(secret ? { client_secret: secret } : {}), ...(scopes.length ? { scopes } : {}), ...(Object.keys(params).length ? { params } : {}) },
    })) as { provider: string; redirect_uri: string };
    if (ctx.out.json) ctx.out.data(body);
    else ctx.out.line(`Configured ${body.provider}. Register this redirect URI at the provider: ${body.redirect_uri}`);
  },
};

const appKey: CommandSpec = {
  path: ['app-key', 'create'],
  summary: "create an app API key (alter_key_…) for the app's backend and the SDKs; shown once",
  usage: '--name NAME',
  options: { name: { type: 'string', value: 'NAME', help: 'a label for the key' }, ...SERVER_OPTIONS, ...ADMIN_OPTIONS },
  async run(ctx) {
    const body = (await adminClient(ctx).call('POST', '/v1/admin/app-keys', { admin: true, json: { name: requireOption(ctx.values, 'name') } })) as { id: string; key: string };
    if (ctx.out.json) ctx.out.data(body);
    else ctx.out.line(body.key);
  },
};

/** Opens a URL in the user's browser where the platform has a way to (best effort). */
function openBrowser(url: string): Promise<boolean> {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  return new Promise((done) => {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.once('error', () => done(false));
    child.once('spawn', () => {
      child.unref();
      done(true);
    });
  });
}

const connectCommand: CommandSpec = {
  path: ['connect'],
  summary: 'connect an end user\'s account (headless Connect): opens the browser, waits until it completes, prints the connection ID',
  usage: '--end-user ID [--provider NAME]… [--app-key KEY] [--no-browser] [--timeout SECONDS]',
  options: {
    'end-user': { type: 'string', value: 'ID', help: "the end user's ID in your app" },
    provider: { type: 'string', multiple: true, value: 'NAME', help: 'offer only this provider (repeatable)' },
    'app-key': { type: 'string', value: 'KEY', help: 'app API key (env ALTER_APP_KEY)' },
    'no-browser': { type: 'boolean', help: 'print the link instead of opening a browser' },
    timeout: { type: 'string', value: 'SECONDS', help: 'how long to wait (default 900)' },
    ...SERVER_OPTIONS,
  },
  examples: ['alter connect --end-user alice --provider github'],
  async run(ctx: CommandContext) {
    const key = stringOption(ctx.values, 'app-key') ?? ctx.io.env.ALTER_APP_KEY;
    if (!key) throw new UsageError('an app API key is required: --app-key or ALTER_APP_KEY (create one with alter app-key create)');
    const timeout = stringOption(ctx.values, 'timeout') ?? '900';
    // Checked before the session exists: a deadline that is not a number would never pass.
    if (!/^\d+$/.test(timeout)) throw new UsageError(`--timeout: expected a whole number of seconds, got "${timeout}"`);
    const client = new AlterClient(resolveServerUrl(ctx.values, ctx.io));
    const providers = listOption(ctx.values, 'provider');
    const session = (await client.call('POST', '/v1/connect/sessions', {
      bearer: key, json: { end_user_id: requireOption(ctx.values, 'end-user'), ...(providers.length ? { providers } : {}) },
    })) as { id: string; token: string; connect_url: string; expires_at: string };
    const url = `${session.connect_url}&mode=headless`;
    const opened = !flagOption(ctx.values, 'no-browser') && (await openBrowser(url));
    ctx.io.stderr.write(opened ? `Opened your browser. If nothing happened, open:\n  ${url}\n` : `Open this link to connect:\n  ${url}\n`);
    const deadline = Date.now() + Number(timeout) * 1000;
    for (;;) {
      const status = (await client.call('GET', '/v1/connect/session', { bearer: session.token })) as { status: string; connection_id?: string; provider?: string; error?: string; error_description?: string };
      if (status.status === 'completed') {
        if (ctx.out.json) ctx.out.data(status);
        else ctx.out.line(status.connection_id!);
        return;
      }
      if (status.status === 'failed') throw new CliError(`Connect failed: ${status.error}: ${status.error_description}`);
      if (Date.now() > deadline) throw new CliError('timed out waiting for the end user to connect');
      await sleep(1000);
    }
  },
};

/** `alter providers …`, `alter app-key create`, `alter connect`. */
export const providerCommands: readonly CommandSpec[] = [list, configure, appKey, connectCommand];
