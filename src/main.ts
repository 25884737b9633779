#!/usr/bin/env node
import { createApp } from './app.ts';
import { loadConfig } from './config/load-config.ts';
import { ConfigError } from './shared/errors.ts';
import { checkNodeVersion } from './shared/node-version.ts';

/** `npm start`: load configuration, build the app, listen, and stop cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`alter: configuration error: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  const warning = checkNodeVersion(process.versions.node);
  if (warning) process.stderr.write(`alter: warning: ${warning}\n`);

  const app = await createApp(config);
  const server = await app.listen();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const where = app.adminKeyFile ? `in ${app.adminKeyFile}` : 'ALTER_ADMIN_KEY (as configured)';
  app.log.info({ profile: app.profile, issuer: config.issuer, port }, 'alter is listening');
  process.stdout.write(
    [
      '',
      `  Alter is running (${app.profile} profile) at http://localhost:${port}`,
      `  issuer:     ${config.issuer}`,
      `  admin key:  ${where}`,
      `  policy:     ${app.policy.current().origin} (revision ${app.policy.current().revision.slice(0, 12)})`,
      '',
      '  Next: register an agent and get a token:',
      '    npx alter agent create --name my-bot --class data-reader --key-out ./my-bot.jwk.json',
      '    npx alter token --key ./my-bot.jwk.json',
      '',
    ].join('\n') + '\n',
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    app.close().then(() => process.exit(0), () => process.exit(1));
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  const cause = (err as Error).cause as Error | undefined;
  // a policy error's message already lists every problem (file:line: what is wrong)
  const withCause = cause?.message && (err as { code?: string }).code !== 'ERR_POLICY_UNAVAILABLE';
  process.stderr.write(`alter: failed to start: ${(err as Error).message}${withCause ? ` (${cause.message})` : ''}\n`);
  process.exit(1);
});
