/** One read of the policy text. */
export interface PolicyText {
  text: string;
  /** Human-readable location used in messages: the file path, or `git URL#branch:path`. */
  origin: string;
}

/**
 * Where the YAML policy text comes from (a file, a git repository). Sources deal in raw text
 * only: compiling and validating it is the policy service's job.
 */
export interface PolicySource {
  readonly origin: string;
  /** Reads the current text now (git: fetches first). Throws {@link PolicySourceError} with a clear message. */
  read(): Promise<PolicyText>;
  /**
   * Calls `onChange` with the new text whenever it differs from the last text read or reported
   * (content, not mtimes), at most one poll interval after the change. Errors while watching go
   * to `onError` and watching continues; the next successful read reports the text if it
   * changed. Returns an async stop function that clears every timer and watcher and waits for
   * a read in flight, after which neither callback is called again.
   */
  watch(onChange: (text: PolicyText) => void, onError: (err: PolicySourceError) => void): () => Promise<void>;
}

/** The policy text cannot be read: the message names the origin and the reason. */
export class PolicySourceError extends Error {
  override readonly name = 'PolicySourceError';
  readonly code = 'ERR_POLICY_SOURCE';
  /** The source's origin (credentials redacted). */
  readonly origin: string;
  constructor(origin: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.origin = origin;
  }
}

/** What {@link startChangeLoop} needs from a source. */
export interface ChangeLoopOptions {
  /** Delay between the end of one check and the start of the next. */
  intervalMs: number;
  /** Reads the text; resolves with it when it differs from the last one read or reported, else `undefined`. */
  check: () => Promise<PolicyText | undefined>;
  origin: string;
  onChange: (text: PolicyText) => void;
  onError: (err: PolicySourceError) => void;
}

/** A running change loop. */
export interface ChangeLoop {
  /** Checks as soon as the current check (if any) ends: for watcher events. */
  trigger(): void;
  /** Clears the timer and waits for a check in flight; no callback is called afterwards. */
  stop(): Promise<void>;
}

function asSourceError(err: unknown, origin: string): PolicySourceError {
  if (err instanceof PolicySourceError) return err;
  return new PolicySourceError(origin, `${origin}: ${(err as Error).message ?? String(err)}`, { cause: err });
}

/**
 * The polling half of {@link PolicySource.watch}, shared by every source: checks once at start
 * (an edit made between `read()` and `watch()` is not lost), then `intervalMs` after each check
 * ends. Checks never overlap (a slow `git fetch` does not pile up); a trigger during a check
 * runs one more check right after it. Timers are unref'd so they never keep a process alive.
 */
export function startChangeLoop(options: ChangeLoopOptions): ChangeLoop {
  const { intervalMs, check, origin, onChange, onError } = options;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(run, intervalMs);
    timer.unref();
  };

  const once = async (): Promise<void> => {
    let changed: PolicyText | undefined;
    try {
      changed = await check();
    } catch (err) {
      if (!stopped) onError(asSourceError(err, origin));
      return;
    }
    if (!changed || stopped) return;
    try {
      onChange(changed);
    } catch (err) {
      // A throwing handler must not crash the process from a timer callback, nor stop the loop.
      onError(new PolicySourceError(origin, `${origin}: the change handler failed: ${(err as Error).message}`, { cause: err }));
    }
  };

  function run(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    clearTimeout(timer);
    running = once().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        run();
      } else {
        schedule();
      }
    });
  }

  run();
  return {
    trigger: run,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      // `running` may be replaced by the `again` re-run; that one returns at once (stopped).
      while (running) await running;
    },
  };
}
