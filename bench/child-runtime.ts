/** Shared start/stop plumbing of the benchmark's server child processes. */

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    process.stderr.write(`bench child: missing environment variable ${name}\n`);
    process.exit(2);
  }
  return value;
}

/**
 * Runs `stop` then exits on SIGTERM, SIGINT, or when stdin closes (the parent died: its end of
 * the pipe is gone), so a crashed or killed benchmark leaves no server behind.
 */
export function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(1), 10_000).unref();
    stop().then(() => process.exit(0), (err: unknown) => {
      process.stderr.write(`bench child: error while stopping: ${(err as Error).message}\n`);
      process.exit(1);
    });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}
