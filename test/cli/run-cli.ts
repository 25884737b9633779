import { run } from '../../src/cli/run.ts';

/** What one CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the `alter` CLI in-process with a controlled environment: only the variables given (no
 * inherited ALTER_*), and `cwd` for relative paths. `onStderr` sees stderr as it is written (a
 * command that prints a link and then waits).
 */
export async function runCli(argv: string[], options: { env?: Record<string, string>; cwd?: string; onStderr?: (chunk: string) => void } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: {
      write: (s: string) => {
        stderr += s;
        options.onStderr?.(s);
      },
    },
    env: { ...options.env },
    cwd: options.cwd ?? process.cwd(),
  });
  return { code, stdout, stderr };
}

/** Parses the `--json` output of a successful run, failing with its stderr otherwise. */
export function jsonOf<T = Record<string, unknown>>(result: CliResult): T {
  if (result.code !== 0) throw new Error(`alter exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
