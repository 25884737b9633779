import type { CliIo } from './io.ts';

/**
 * Command output: with `--json`, exactly one JSON document on stdout; otherwise plain lines for
 * humans (aligned fields and tables). Diagnostics never go here: errors are written to stderr.
 */
export class Output {
  readonly json: boolean;
  readonly #io: CliIo;

  constructor(io: CliIo, json: boolean) {
    this.#io = io;
    this.json = json;
  }

  /** Writes `value` as pretty-printed JSON (the `--json` result). */
  data(value: unknown): void {
    this.#io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  line(text = ''): void {
    this.#io.stdout.write(`${text}\n`);
  }

  /** `label  value` lines with the values aligned; rows with an undefined value are skipped. */
  fields(rows: ReadonlyArray<readonly [string, string | undefined]>, indent = '  '): void {
    const shown = rows.filter((row): row is readonly [string, string] => row[1] !== undefined);
    const width = Math.max(0, ...shown.map(([label]) => label.length));
    for (const [label, value] of shown) this.line(`${indent}${label.padEnd(width)}  ${value}`);
  }

  /** A table with a header row; columns are as wide as their widest cell. */
  table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): void {
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const format = (cells: readonly string[]) =>
      cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
    this.line(format(headers));
    for (const row of rows) this.line(format(row));
  }
}

/** Quotes a word for a POSIX shell when it needs it (for the "next command" hints). */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
