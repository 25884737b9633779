/** Where the CLI reads its environment and writes its output; tests pass their own. */
export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  env: Record<string, string | undefined>;
  /** Directory relative paths (key files, the data directory) are resolved against. */
  cwd: string;
}
