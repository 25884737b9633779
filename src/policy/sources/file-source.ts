import { watch as watchFs, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { PolicySourceError, startChangeLoop, type PolicySource, type PolicyText } from './policy-source.ts';

/** Default delay between two reads while watching a file. */
export const FILE_POLL_INTERVAL_MS = 5_000;

/** Collects a burst of watcher events (an editor's write, rename, chmod) into one read. */
const DEBOUNCE_MS = 100;
/** A changed text is re-read after this delay and reported once two reads agree. */
const SETTLE_MS = 100;
/** Reads before a text that keeps changing is reported anyway. */
const SETTLE_ATTEMPTS = 5;

/** Settings of a {@link FilePolicySource}. */
export interface FileSourceOptions {
  path: string;
  /** Default {@link FILE_POLL_INTERVAL_MS}. */
  pollIntervalMs?: number;
}

function reason(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT': return 'does not exist';
    case 'EACCES':
    case 'EPERM': return 'is not readable (permission denied)';
    case 'EISDIR': return 'is a directory, not a file';
    case 'ENOTDIR': return 'does not exist (a parent is not a directory)';
    default: return `cannot be read: ${err.message}`;
  }
}

/**
 * The policy in a local UTF-8 file. Watching combines an `fs.watch` on the containing
 * directory (near-immediate pickup; the directory, not the file, because editors and
 * Kubernetes ConfigMaps replace files by rename) with polling, which covers filesystems where
 * watch events never arrive (network mounts, some containers).
 */
export class FilePolicySource implements PolicySource {
  readonly origin: string;
  readonly #path: string;
  readonly #pollIntervalMs: number;
  /** Last text read or reported: watching reports only a different one. */
  #last: string | undefined;

  constructor(options: FileSourceOptions) {
    this.origin = options.path;
    this.#path = resolve(options.path);
    this.#pollIntervalMs = options.pollIntervalMs ?? FILE_POLL_INTERVAL_MS;
  }

  async read(): Promise<PolicyText> {
    const text = await this.#readText();
    this.#last = text;
    return { text, origin: this.origin };
  }

  watch(onChange: (text: PolicyText) => void, onError: (err: PolicySourceError) => void): () => Promise<void> {
    const directory = dirname(this.#path);
    let watcher: FSWatcher | undefined;
    let debounce: NodeJS.Timeout | undefined;
    let stopped = false;

    const onEvent = (): void => {
      // Not reset by later events: a directory that never goes quiet still gets read.
      if (stopped || debounce) return;
      debounce = setTimeout(() => {
        debounce = undefined;
        loop.trigger(); // events arrive after `loop` is set
      }, DEBOUNCE_MS);
      debounce.unref();
    };
    const closeWatcher = (): void => {
      watcher?.close();
      watcher = undefined;
    };
    const ensureWatcher = (): void => {
      if (stopped || watcher) return;
      try {
        // Any entry of the directory counts: a ConfigMap swaps a `..data` symlink, not the file.
        watcher = watchFs(directory, { persistent: false }, onEvent);
        watcher.on('error', closeWatcher);
      } catch {
        // Directory missing or watch unsupported: polling covers it, and retries the watcher.
        watcher = undefined;
      }
    };

    const loop = startChangeLoop({
      intervalMs: this.#pollIntervalMs,
      origin: this.origin,
      onChange,
      onError,
      check: async () => {
        // A directory that was missing (or removed and recreated) gets its watcher back here.
        ensureWatcher();
        let text: string;
        try {
          text = await this.#readText();
        } catch (err) {
          // The directory may have gone too, leaving a dead watcher: recreate it next time.
          closeWatcher();
          throw err;
        }
        if (text === this.#last) return undefined;
        // An in-place save truncates then writes: a read in between sees an empty or partial
        // file. Report only text that holds still, so the compiler never sees a torn write.
        for (let attempt = 1; attempt < SETTLE_ATTEMPTS && !stopped; attempt++) {
          await delay(SETTLE_MS, undefined, { ref: false });
          const again = await this.#readText();
          if (again === text) break;
          text = again;
        }
        if (text === this.#last) return undefined;
        this.#last = text;
        return { text, origin: this.origin };
      },
    });

    return async () => {
      stopped = true;
      clearTimeout(debounce);
      closeWatcher();
      await loop.stop();
    };
  }

  async #readText(): Promise<string> {
    try {
      return await readFile(this.#path, 'utf8');
    } catch (err) {
      throw new PolicySourceError(this.origin, `policy file ${this.origin} ${reason(err as NodeJS.ErrnoException)}`, { cause: err });
    }
  }
}
