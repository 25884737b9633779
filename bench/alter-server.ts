/**
 * Starts one Alter node for the token benchmark, in its own process, through the real
 * composition root: `loadConfig(env)` + `createApp(config)` + `app.listen(PORT, '127.0.0.1')`.
 * The profile follows the environment like in production: DATABASE_URL (+ REDIS_URL) selects
 * the production profile, otherwise embedded PGlite in ALTER_DATA_DIR.
 *
 * Run as a child process by bench/token.ts, which sets PORT, ALTER_ISSUER, ALTER_DATA_DIR,
 * ALTER_ADMIN_KEY, ALTER_LOG_LEVEL=silent (and DATABASE_URL, REDIS_URL, ALTER_REDIS_PREFIX).
 * Prints `BENCH_READY {...}` on stdout once listening; stops on SIGTERM/SIGINT or stdin EOF.
 */
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { onShutdown, requireEnv } from './child-runtime.ts';

const port = Number(requireEnv('PORT'));
const config = loadConfig(process.env);
const app = await createApp(config);
let stopping: Promise<void> | undefined;
onShutdown(() => (stopping ??= app.close()));
await app.listen(port, '127.0.0.1');
process.stdout.write(`BENCH_READY ${JSON.stringify({ target: `alter-${app.profile}`, profile: app.profile, issuer: config.issuer, pid: process.pid })}\n`);
