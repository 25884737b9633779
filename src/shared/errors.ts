/**
 * Typed errors named after the RFC error codes (RFC 6749 §5.2, RFC 6750 §3.1, RFC 8693 §2.2.2).
 * Handlers throw; one middleware (`src/http/error-handler.ts`) turns them into JSON responses.
 * `detail` is logged, never sent.
 */
export class AlterError extends Error {
  readonly status: number;
  readonly error: string;
  readonly detail?: string;
  constructor(status: number, error: string, description: string, options?: { detail?: string; cause?: unknown }) {
    super(description, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.error = error;
    if (options?.detail !== undefined) this.detail = options.detail;
  }
  /** The RFC 6749 JSON body. */
  toJSON(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.message };
  }
}

export class InvalidRequest extends AlterError {
  override readonly name = 'InvalidRequest';
  constructor(description: string, options?: { detail?: string; cause?: unknown }) {
    super(400, 'invalid_request', description, options);
  }
}

/** RFC 6749 §5.2: the grant (here: the subject token or connection) is invalid, expired or revoked. */
export class InvalidGrant extends AlterError {
  override readonly name = 'InvalidGrant';
  constructor(description: string, options?: { detail?: string; cause?: unknown }) {
    super(400, 'invalid_grant', description, options);
  }
}

/** RFC 8707 §2 / RFC 8693 §2.2.2: the resource or audience is unknown or not allowed. */
export class InvalidTarget extends AlterError {
  override readonly name = 'InvalidTarget';
  constructor(description: string) {
    super(400, 'invalid_target', description);
  }
}

/** RFC 6749 §5.2: the requested scope is invalid, unknown, or exceeds what may be granted. */
export class InvalidScope extends AlterError {
  override readonly name = 'InvalidScope';
  constructor(description: string) {
    super(400, 'invalid_scope', description);
  }
}

/** RFC 6749 §4.1.2.1: refused by policy (Alter uses it at the token endpoint for policy denials). */
export class AccessDenied extends AlterError {
  override readonly name = 'AccessDenied';
  constructor(description: string) {
    super(400, 'access_denied', description);
  }
}

/** RFC 6750 §3.1: missing, malformed or wrong bearer credentials. */
export class InvalidToken extends AlterError {
  override readonly name = 'InvalidToken';
  constructor(description: string) {
    super(401, 'invalid_token', description);
  }
}

export class NotFound extends AlterError {
  override readonly name = 'NotFound';
  constructor(description: string) {
    super(404, 'not_found', description);
  }
}

export class ConflictError extends AlterError {
  override readonly name = 'ConflictError';
  constructor(description: string) {
    super(409, 'conflict', description);
  }
}

export class PayloadTooLarge extends AlterError {
  override readonly name = 'PayloadTooLarge';
  constructor(limitBytes: number) {
    super(413, 'invalid_request', `request body is larger than ${limitBytes} bytes`);
  }
}

/** A dependency (store, Redis) is not answering: fail closed with 503. */
export class ServiceUnavailable extends AlterError {
  override readonly name: string = 'ServiceUnavailable';
  readonly code: string;
  constructor(code: string, description: string, options?: { cause?: unknown }) {
    super(503, 'temporarily_unavailable', description, options);
    this.code = code;
  }
}

/** Bad configuration: stops start-up with the setting's name. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly setting: string;
  constructor(setting: string, message: string) {
    super(`${setting}: ${message}`);
    this.setting = setting;
  }
}

/** A secret store (built-in or external) is down, timed out or refused access: 503 naming the adapter. */
export class VaultUnavailable extends ServiceUnavailable {
  override readonly name = 'VaultUnavailable';
  readonly adapter: string;
  constructor(adapter: string, description: string, options?: { cause?: unknown }) {
    super('ERR_VAULT_UNAVAILABLE', `secret store ${adapter}: ${description}`, options);
    this.adapter = adapter;
  }
}

/** No such secret (or version) in the store. */
export class SecretNotFound extends Error {
  override readonly name = 'SecretNotFound';
  readonly code = 'ERR_SECRET_NOT_FOUND';
}

/** A stored value that does not authenticate: tampered, moved to another record, or the wrong key. */
export class SecretIntegrityError extends Error {
  override readonly name = 'SecretIntegrityError';
  readonly code = 'ERR_SECRET_INTEGRITY';
}
