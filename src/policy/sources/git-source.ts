import { execFile, type ExecFileException } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PolicySourceError, startChangeLoop, type PolicySource, type PolicyText } from './policy-source.ts';

/** Default delay between two fetches while watching a repository. */
export const GIT_POLL_INTERVAL_MS = 30_000;
/** Default limit on each `git` command. */
export const GIT_TIMEOUT_MS = 30_000;

/** A policy file is a few kilobytes; this only stops a runaway blob from exhausting memory. */
const MAX_POLICY_BYTES = 16 * 1024 * 1024;

/** Settings of a {@link GitPolicySource}. */
export interface GitSourceOptions {
  /** Any URL `git fetch` accepts: https://, ssh://, git@host:repo, file:// or a local path. */
  url: string;
  branch: string;
  /** Path of the policy file inside the repository. */
  path: string;
  /** Directory holding the bare mirrors (one subdirectory per URL and branch). */
  cacheDir: string;
  /** Default {@link GIT_POLL_INTERVAL_MS}. */
  pollIntervalMs?: number;
  /** Limit on each `git` command; default {@link GIT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** The git executable (tests point it elsewhere); default `git` from PATH. */
  gitCommand?: string;
}

/** Replaces the userinfo of a `scheme://user:secret@host/...` URL with `***`, so tokens never reach logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
}

/** Strings of the URL's userinfo that must not appear in a message (git may echo them). */
function secretsOf(url: string): string[] {
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(url)?.[1];
  if (!userinfo) return [];
  const parts = [userinfo, ...userinfo.split(':').slice(1)];
  const decoded = parts.map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  // Short names such as `git` in ssh://git@host are no secret, and scrubbing them would mangle messages.
  return [...new Set([...parts, ...decoded])].filter((s) => s.length >= 4 || s.includes(':')).sort((a, b) => b.length - a.length);
}

/** A git command that did not succeed. */
interface GitFailure {
  kind: 'not-installed' | 'timeout' | 'failed';
  /** What git printed on stderr, without advice lines. */
  detail: string;
}

function failureOf(err: ExecFileException, stderrOut: Buffer): GitFailure {
  if (err.code === 'ENOENT') return { kind: 'not-installed', detail: err.message };
  if (err.killed) return { kind: 'timeout', detail: '' };
  // Everything git said except advice: ssh's own reason ("Connection refused") has no `fatal:` prefix.
  const lines = stderrOut.toString('utf8').split('\n').map((l) => l.trim())
    .filter((l) => l && !/^hint:|^please make sure you have the correct access rights|^and the repository exists/i.test(l));
  const detail = lines.join('; ') || err.message;
  return { kind: 'failed', detail: detail.length > 500 ? `${detail.slice(0, 500)}…` : detail };
}

/** Names no branch `git check-ref-format --branch` would refuse (checked without a process). */
function validBranch(branch: string): boolean {
  const forbiddenChar = [...branch].some((c) => c <= ' ' || c === '\x7f' || '~^:?*[\\'.includes(c));
  return branch.length > 0 && !forbiddenChar && !branch.startsWith('-') && !branch.includes('..') &&
    !branch.includes('@{') && !branch.includes('//') && !/(^|\/)\./.test(branch) &&
    !/(\.lock|\/|\.)$/.test(branch) && branch !== '@';
}

/** Mirrors in use in this process: reads sharing one take turns, so two fetches never race on its refs. */
const mirrorQueues = new Map<string, Promise<unknown>>();

function serialize<T>(key: string, task: () => Promise<T>): Promise<T> {
  const result = (mirrorQueues.get(key) ?? Promise.resolve()).then(task);
  const tail = result.then(() => undefined, () => undefined);
  mirrorQueues.set(key, tail);
  void tail.then(() => {
    if (mirrorQueues.get(key) === tail) mirrorQueues.delete(key);
  });
  return result;
}

/**
 * The policy in a file of a git repository branch. Keeps a shallow bare mirror under
 * `cacheDir`; each read fetches the branch's tip (`--depth 1`) and reads the file from it, so
 * a commit reaches every node within one poll interval. Uses the system `git` without a shell
 * and without prompts (`GIT_TERMINAL_PROMPT=0`); credentials come from the URL or git's own
 * configuration (credential helpers, SSH keys) and never appear in messages or `origin`.
 */
export class GitPolicySource implements PolicySource {
  readonly origin: string;
  readonly #url: string;
  readonly #safeUrl: string;
  readonly #secrets: string[];
  readonly #branch: string;
  readonly #path: string;
  readonly #mirror: string;
  readonly #pollIntervalMs: number;
  readonly #timeoutMs: number;
  readonly #git: string;
  /** Last text read or reported: watching reports only a different one. */
  #last: string | undefined;

  constructor(options: GitSourceOptions) {
    this.#url = options.url;
    this.#safeUrl = redactUrl(options.url);
    this.#secrets = secretsOf(options.url);
    this.#branch = options.branch;
    this.#path = options.path.replace(/^(\.\/)+/, '');
    this.origin = `${this.#safeUrl}#${this.#branch}:${this.#path}`;
    if (!validBranch(this.#branch)) {
      throw new PolicySourceError(this.origin, `${this.origin}: "${this.#branch}" is not a valid git branch name`);
    }
    if (!this.#path || this.#path.startsWith('/') || this.#path.split('/').includes('..')) {
      throw new PolicySourceError(this.origin, `${this.origin}: "${options.path}" is not a path inside the repository`);
    }
    const key = createHash('sha256').update(`${this.#safeUrl}\n${this.#branch}`).digest('hex').slice(0, 16);
    this.#mirror = join(resolve(options.cacheDir), key);
    this.#pollIntervalMs = options.pollIntervalMs ?? GIT_POLL_INTERVAL_MS;
    this.#timeoutMs = options.timeoutMs ?? GIT_TIMEOUT_MS;
    this.#git = options.gitCommand ?? 'git';
  }

  async read(): Promise<PolicyText> {
    const text = await this.#fetchText();
    this.#last = text;
    return { text, origin: this.origin };
  }

  watch(onChange: (text: PolicyText) => void, onError: (err: PolicySourceError) => void): () => Promise<void> {
    const loop = startChangeLoop({
      intervalMs: this.#pollIntervalMs,
      origin: this.origin,
      onChange,
      onError,
      check: async () => {
        const text = await this.#fetchText();
        if (text === this.#last) return undefined;
        this.#last = text;
        return { text, origin: this.origin };
      },
    });
    return () => loop.stop();
  }

  #fetchText(): Promise<string> {
    return serialize(this.#mirror, async () => {
      await this.#ensureMirror();
      const ref = `refs/heads/${this.#branch}`;
      await this.#run(['fetch', '--quiet', '--no-tags', '--update-head-ok', '--depth', '1', '--', this.#url, `+${ref}:${ref}`], (f) =>
        /couldn't find remote ref/i.test(f.detail)
          ? `branch "${this.#branch}" does not exist in the repository`
          : /authentication failed|could not read (username|password)|terminal prompts disabled|permission denied \(publickey/i.test(f.detail)
            ? `the repository refused access (authentication required or failed): ${f.detail}`
            : `cannot fetch the repository: it is unreachable or not a git repository (${f.detail})`);
      const object = `${ref}:${this.#path}`;
      try {
        return (await this.#run(['cat-file', 'blob', object])).toString('utf8');
      } catch (err) {
        if (!(err instanceof PolicySourceError) || (err.cause as GitFailure | undefined)?.kind !== 'failed') throw err;
        const type = await this.#run(['cat-file', '-t', object]).then((b) => b.toString().trim(), () => undefined);
        throw new PolicySourceError(this.origin, type
          ? `${this.origin}: "${this.#path}" is a ${type === 'tree' ? 'directory' : type}, not a file, in branch "${this.#branch}"`
          : `${this.origin}: path "${this.#path}" does not exist in branch "${this.#branch}"`, { cause: err.cause });
      }
    });
  }

  async #ensureMirror(): Promise<void> {
    if (existsSync(join(this.#mirror, 'HEAD'))) return;
    try {
      await mkdir(this.#mirror, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new PolicySourceError(this.origin, `${this.origin}: cannot create the git cache directory ${this.#mirror}: ${(err as Error).message}`, { cause: err });
    }
    // Re-initialising an existing repository is harmless, so a race with another process is too.
    await this.#run(['init', '--bare', '--quiet'], (f) => `cannot create the git mirror in ${this.#mirror}: ${f.detail}`);
  }

  /** Runs `git --git-dir <mirror> ...args`; failures become PolicySourceErrors whose `cause` is the GitFailure. */
  async #run(args: string[], describe?: (failure: GitFailure) => string): Promise<Buffer> {
    const argv = ['--git-dir', this.#mirror, ...args];
    const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
    return new Promise((done, fail) => {
      execFile(this.#git, argv, { encoding: 'buffer', env, timeout: this.#timeoutMs, maxBuffer: MAX_POLICY_BYTES }, (err, stdout, stderr) => {
        if (!err) return done(stdout);
        const failure = failureOf(err, stderr);
        failure.detail = this.#scrub(failure.detail);
        const message = failure.kind === 'not-installed'
          ? `git is not installed (or "${this.#git}" is not on PATH), so the policy cannot be read from a repository`
          : failure.kind === 'timeout'
            ? `git ${args[0]} did not finish within ${this.#timeoutMs} ms`
            : describe ? describe(failure) : `git ${args[0]} failed: ${failure.detail}`;
        fail(new PolicySourceError(this.origin, `${this.origin}: ${message}`, { cause: failure }));
      });
    });
  }

  #scrub(text: string): string {
    let out = text.split(this.#url).join(this.#safeUrl);
    for (const secret of this.#secrets) out = out.split(secret).join('***');
    return out;
  }
}
