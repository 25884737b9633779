import { parseArgs } from 'node:util';
import { UsageError } from './errors.ts';

/** One command-line option: its `parseArgs` shape plus what help shows. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Placeholder shown in help, e.g. `FILE`. */
  value?: string;
  help: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** Parsed option values, keyed by long option name. */
export type OptionValues = Record<string, string | boolean | Array<string | boolean> | undefined>;

/** `--json` and `-h/--help`: accepted by every command. */
export const COMMON_OPTIONS: OptionSpecs = {
  json: { type: 'boolean', help: 'print machine-readable JSON on stdout' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

/** Where the server is. */
export const SERVER_OPTIONS: OptionSpecs = {
  url: { type: 'string', value: 'URL', help: 'Alter server URL (env ALTER_URL, default http://localhost:8080)' },
};

/** How to find the admin key. */
export const ADMIN_OPTIONS: OptionSpecs = {
  'admin-key': { type: 'string', value: 'KEY', help: 'admin API key (env ALTER_ADMIN_KEY, else the admin.key file in the data directory)' },
  'data-dir': { type: 'string', value: 'DIR', help: 'server data directory holding admin.key (env ALTER_DATA_DIR, default ./data)' },
};

/** The result of {@link parseCommandArgs}. */
export interface ParsedArgs {
  values: OptionValues;
  positionals: string[];
}

/** Translates `node:util` parseArgs errors into short {@link UsageError}s. */
function usageErrorOf(err: unknown): UsageError {
  const { code, message } = err as { code?: string; message: string };
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /'([^']+)'/.exec(message)?.[1];
    return new UsageError(option ? `unknown option ${option}` : message);
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const match = /Option '(.+?)(?: <value>)?' argument missing/.exec(message);
    if (match) return new UsageError(`${match[1]} needs a value`);
    const ambiguous = /Option '(.+?)(?: <value>)?' argument is ambiguous/.exec(message);
    if (ambiguous) return new UsageError(`${ambiguous[1]}: a value starting with "-" must be written as --option=value`);
    return new UsageError(message.split('\n')[0] ?? message);
  }
  return new UsageError(message);
}

/** Parses a command's arguments strictly: unknown options are usage errors. */
export function parseCommandArgs(args: readonly string[], options: OptionSpecs): ParsedArgs {
  const config = Object.fromEntries(
    Object.entries(options).map(([name, spec]) => [
      name,
      { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) },
    ]),
  );
  try {
    const { values, positionals } = parseArgs({ args: [...args], options: config, allowPositionals: true, strict: true });
    return { values: values as OptionValues, positionals };
  } catch (err) {
    throw usageErrorOf(err);
  }
}

/**
 * Finds the command words (`agent create`, `token`) among the arguments, which may be preceded
 * by options: returns the first `max` words that are not options or option values, and the
 * remaining arguments in their order. `valueOptions` lists the long options that take a value.
 */
export function takeCommandWords(
  argv: readonly string[],
  valueOptions: ReadonlySet<string>,
  wordsWanted: (words: readonly string[]) => boolean,
): { words: string[]; rest: string[] } {
  const taken = new Set<number>();
  const words: string[] = [];
  for (let i = 0; i < argv.length && wordsWanted(words); i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg.startsWith('--')) {
      if (!arg.includes('=') && valueOptions.has(arg.slice(2))) i++;
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) continue;
    taken.add(i);
    words.push(arg);
  }
  return { words, rest: argv.filter((_, i) => !taken.has(i)) };
}

/** True when `-h` or `--help` appears before any `--`. */
export function wantsHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
    if (/^-[a-zA-Z]+$/.test(arg) && arg.includes('h')) return true;
  }
  return false;
}

/** A single string option (the last one wins when repeated). */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  if (Array.isArray(value)) {
    const last = value.at(-1);
    return typeof last === 'string' ? last : undefined;
  }
  return typeof value === 'string' ? value : undefined;
}

/** A repeatable string option; each value may also hold several space-separated items. */
export function listOption(values: OptionValues, name: string): string[] {
  const value = values[name];
  const all = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return all.filter((v): v is string => typeof v === 'string').flatMap((v) => v.split(/\s+/)).filter(Boolean);
}

export function flagOption(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

/** A required string option: a usage error naming it when absent or empty. */
export function requireOption(values: OptionValues, name: string): string {
  const value = stringOption(values, name);
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}
