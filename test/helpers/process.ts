import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

/** The repository root: `node src/main.ts` runs from here, as `npm start` would. */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** The server entry point, run directly by Node (type stripping). */
export const MAIN = resolve(REPO_ROOT, 'src/main.ts');

/** How a process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A `node src/main.ts` child process and what it printed so far. */
export interface ServerProcess {
  child: ChildProcess;
  port: number;
  /** `http://127.0.0.1:<port>`: where to send requests (not necessarily the issuer). */
  url: string;
  /** Everything written to stdout so far. */
  readonly stdout: string;
  /** Everything written to stderr so far. */
  readonly stderr: string;
  /** Settles when the process has exited. */
  readonly exited: Promise<ProcessExit>;
  /** The exit, once it happened. */
  readonly exit: ProcessExit | undefined;
  /** stdout/stderr tails, for assertion messages. */
  diagnostics(): string;
  /** SIGTERM, wait up to `graceMs` for the exit, then SIGKILL. Idempotent. */
  stop(graceMs?: number): Promise<ProcessExit>;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done());
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/**
 * The environment a child gets: only PATH/HOME/TMPDIR from this process (no inherited ALTER_*,
 * DATABASE_URL, REDIS_URL or NODE_OPTIONS from the test runner), plus the given variables.
 */
function childEnv(env: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[name];
    if (value !== undefined) base[name] = value;
  }
  return { ...base, ...env };
}

function tail(text: string, max = 4000): string {
  return text.length > max ? `…${text.slice(-max)}` : text;
}

/**
 * Spawns `node src/main.ts` (cwd: the repository root) with exactly `env` (plus PATH/HOME) and
 * captures its output. Does not wait for anything; see {@link waitHealthy}.
 * `PORT` defaults to the given port.
 */
export function spawnServer(env: Record<string, string>, port: number = Number(env.PORT ?? 0)): ServerProcess {
  const child = spawn(process.execPath, [MAIN], {
    cwd: REPO_ROOT,
    env: childEnv({ ...(port ? { PORT: String(port) } : {}), ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let exit: ProcessExit | undefined;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<ProcessExit>((done) => {
    child.once('error', (err) => {
      stderr += `\n[spawn error] ${err.message}`;
      exit ??= { code: null, signal: null };
      done(exit);
    });
    // 'close' (not 'exit'): both pipes are drained, so stdout/stderr are complete.
    child.once('close', (code, signal) => {
      exit ??= { code, signal };
      done(exit);
    });
  });
  let stopping: Promise<ProcessExit> | undefined;

  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    get exit() {
      return exit;
    },
    diagnostics() {
      return `pid ${child.pid}, port ${port}, exit ${JSON.stringify(exit ?? null)}\n--- stdout ---\n${tail(stdout)}\n--- stderr ---\n${tail(stderr)}`;
    },
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        if (exit) return exit;
        child.kill('SIGTERM');
        const timer = new Promise<'timeout'>((done) => setTimeout(() => done('timeout'), graceMs).unref());
        if ((await Promise.race([exited, timer])) === 'timeout' && !exit) child.kill('SIGKILL');
        return exited;
      })();
      return stopping;
    },
  };
}

/**
 * Polls `GET /healthz` until it answers 200; throws (with the process output) when the process
 * exits first or `timeoutMs` passes.
 */
export async function waitHealthy(proc: ServerProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (proc.exit) throw new Error(`the server exited before it was healthy\n${proc.diagnostics()}`);
    try {
      const res = await fetch(`${proc.url}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the server was not healthy within ${timeoutMs} ms (${last})\n${proc.diagnostics()}`);
}

/**
 * Waits until the process has printed `text` on stdout (the banner is written right after the
 * socket listens, but may reach this process after a first `/healthz` answer).
 */
export async function waitForStdout(proc: ServerProcess, text: string, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!proc.stdout.includes(text)) {
    if (proc.exit || Date.now() > deadline) {
      throw new Error(`the server did not print ${JSON.stringify(text)}\n${proc.diagnostics()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return proc.stdout;
}

/**
 * Spawns a server on `port` (a free one by default) and waits until it is healthy. On failure
 * the process is stopped before the error is thrown.
 */
export async function startServerProcess(
  env: Record<string, string>,
  options: { port?: number; timeoutMs?: number } = {},
): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const proc = spawnServer(env, port);
  try {
    await waitHealthy(proc, options.timeoutMs);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return proc;
}

/** Runs `node src/main.ts` until it exits on its own (killed after `timeoutMs`). */
export async function runServerToExit(
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<ProcessExit & { stdout: string; stderr: string }> {
  const proc = spawnServer(env);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  try {
    const exit = await proc.exited;
    return { ...exit, stdout: proc.stdout, stderr: proc.stderr };
  } finally {
    clearTimeout(timer);
  }
}
