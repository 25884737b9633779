#!/usr/bin/env node
/** The `alter` command (package.json `bin`): runs the CLI with the real process I/O. */
import { run } from './run.ts';

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
