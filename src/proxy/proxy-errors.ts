import { AlterError } from '../shared/errors.ts';

/*
 * The proxy's own refusals (docs/proxy.md, "Alter's own errors"): a resource server's error
 * codes (RFC 6750 §3.1) plus the few the proxy needs besides.
 */

/** RFC 6750 §3.1: the permissions held do not allow this request. */
export class InsufficientScope extends AlterError {
  override readonly name = 'InsufficientScope';
  /** Permissions any one of which would allow the request (empty: none would). */
  readonly required: string[];
  constructor(description: string, required: string[]) {
    super(403, 'insufficient_scope', description);
    this.required = required;
  }
  override toJSON() {
    return { ...super.toJSON(), ...(this.required.length > 0 ? { scope: this.required.join(' ') } : {}) };
  }
}

/** The policy (or the app's agent registry) refuses the caller. */
export class Forbidden extends AlterError {
  override readonly name = 'Forbidden';
  constructor(description: string) {
    super(403, 'access_denied', description);
  }
}

/** The connection's grant no longer works upstream: the end user must reconnect. */
export class NeedsReauth extends AlterError {
  override readonly name = 'NeedsReauth';
  readonly connectionId: string;
  constructor(connectionId: string) {
    super(403, 'needs_reauth', `connection ${connectionId} needs re-authorization: the provider no longer accepts its grant; have the end user reconnect (POST /v1/connections/${connectionId}/reconnect)`);
    this.connectionId = connectionId;
  }
  override toJSON() {
    return { ...super.toJSON(), connection_id: this.connectionId };
  }
}

/** The upstream could not be reached (after retries). */
export class UpstreamUnreachable extends AlterError {
  override readonly name = 'UpstreamUnreachable';
  constructor(description: string) {
    super(502, 'upstream_unreachable', description);
  }
}

/** The upstream did not answer in time. */
export class UpstreamTimeout extends AlterError {
  override readonly name = 'UpstreamTimeout';
  constructor(description: string) {
    super(504, 'upstream_timeout', description);
  }
}

