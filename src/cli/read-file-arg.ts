import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError } from './errors.ts';
import type { CliIo } from './io.ts';

/** Why a file could not be read, in words (`no such file`, `permission denied`, …). */
export function unreadableReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return (err as Error).message;
}

/**
 * The text of a file named on the command line, relative to `io.cwd`. With `stdin`, `-` reads
 * standard input instead (for values that must stay out of the shell's history).
 *
 * @throws CliError `cannot read FILE: reason` when the file cannot be read.
 */
export function readFileArg(io: CliIo, file: string, options: { stdin?: boolean } = {}): string {
  try {
    return options.stdin && file === '-' ? readFileSync(0, 'utf8') : readFileSync(resolve(io.cwd, file), 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${unreadableReason(err)}`, { cause: err });
  }
}
