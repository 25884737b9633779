/**
 * Errors the CLI reports to the user. {@link run} prints `error: <message>` (and a `hint:` line
 * when there is one) on stderr and exits with the error's exit code.
 */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  /** 1 for failures, 2 for usage errors. */
  readonly exitCode: number;
  /** An optional second line telling the user what to try. */
  readonly hint?: string;
  constructor(message: string, options: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? 1;
    if (options.hint !== undefined) this.hint = options.hint;
  }
}

/** Bad command line (unknown option, missing argument, ...): exit code 2. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  constructor(message: string, options: { hint?: string } = {}) {
    super(message, { exitCode: 2, ...options });
  }
}

/** An RFC 6749-style error answered by the server (`{error, error_description}`). */
export class ApiError extends CliError {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly error: string;
  readonly description: string;
  constructor(status: number, error: string, description: string | undefined, options: { hint?: string } = {}) {
    super(description ? `${description} (${error})` : `${error} (HTTP ${status})`, options);
    this.status = status;
    this.error = error;
    this.description = description ?? '';
  }
}
