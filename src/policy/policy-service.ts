import type { AuditSink } from '../ports/audit.ts';
import type { Bus } from '../ports/bus.ts';
import type { PolicyRevisionStore } from '../ports/store.ts';
import type { Logger } from '../shared/logger.ts';
import { PolicyInvalid } from './policy-error.ts';
import type { PolicySource, PolicyText } from './sources/policy-source.ts';
import type { CompiledPolicy } from './types.ts';

const CHANNEL = 'policy';

/** Start-up without a valid policy: `main` prints this and exits (fail closed). */
export class PolicyUnavailable extends Error {
  override readonly name = 'PolicyUnavailable';
  readonly code = 'ERR_POLICY_UNAVAILABLE';
}

export interface PolicyServiceDeps {
  source: PolicySource;
  compile: (text: string, options: { origin: string }) => CompiledPolicy;
  store: PolicyRevisionStore;
  bus: Bus;
  audit: AuditSink;
  /** Org that policy events are recorded under. */
  orgId: string;
  log: Logger;
  /** How often to re-read the active revision from the store (bus messages can be lost). */
  syncIntervalMs: number;
}

/**
 * The policy in force on this node (DESIGN.md, Policy). At start the source must yield a valid
 * policy, else start-up fails. Afterwards edits are picked up (watch + poll), validated, and
 * either activated everywhere (stored as the active revision, announced on the bus, other nodes
 * load the same text and converge on its revision hash) or rejected: the last good version stays
 * in force and the rejection is logged and audited.
 */
export class PolicyService {
  readonly #deps: PolicyServiceDeps;
  #current: CompiledPolicy | undefined;
  #stopWatch: (() => Promise<void>) | undefined;
  #unsubscribe: (() => Promise<void>) | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Serialises activations so concurrent watch, bus and sync events apply in order. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Last text seen from the source that failed, so an unchanged broken file is audited once. */
  #lastRejected: string | undefined;

  constructor(deps: PolicyServiceDeps) {
    this.#deps = deps;
  }

  /** The compiled policy in force. */
  current(): CompiledPolicy {
    if (!this.#current) throw new PolicyUnavailable('the policy service has not started');
    return this.#current;
  }

  async start(): Promise<void> {
    const { source, log } = this.#deps;
    let text: PolicyText;
    try {
      text = await source.read();
    } catch (err) {
      throw new PolicyUnavailable(`no policy: ${(err as Error).message}`, { cause: err });
    }
    try {
      this.#current = this.#deps.compile(text.text, { origin: text.origin });
    } catch (err) {
      if (err instanceof PolicyInvalid) throw new PolicyUnavailable(`no valid policy, refusing to start.\n${err.message}`, { cause: err });
      throw err;
    }
    await this.#publish(text);
    log.info({ revision: this.#current.revision, origin: text.origin }, 'policy loaded');

    this.#unsubscribe = await this.#deps.bus.subscribe(CHANNEL, (message) => {
      const revision = (message as { revision?: unknown }).revision;
      if (typeof revision === 'string' && revision !== this.#current?.revision) this.#enqueue(() => this.sync());
    });
    let lastError: string | undefined;
    this.#stopWatch = source.watch(
      (changed) => {
        lastError = undefined;
        this.#enqueue(() => this.#onSourceChange(changed));
      },
      (err) => {
        // the source reports every failed poll: log a problem once, until it changes
        if (err.message === lastError) return;
        lastError = err.message;
        log.warn({ origin: source.origin, err: { message: err.message } }, 'policy source unreadable; the current policy stays in force');
      },
    );
    this.#timer = setInterval(() => this.#enqueue(() => this.sync()), this.#deps.syncIntervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#stopWatch?.();
    await this.#unsubscribe?.();
    await this.#queue.catch(() => {});
  }

  /** Loads the store's active revision if it differs from ours (other nodes' activations). */
  async sync(): Promise<void> {
    const active = await this.#deps.store.active();
    if (!active || active.revision === this.#current?.revision) return;
    try {
      this.#current = this.#deps.compile(active.body, { origin: active.origin });
      this.#deps.log.info({ revision: active.revision, origin: active.origin }, 'policy updated from another node');
    } catch (err) {
      // Another node accepted it, this one cannot (a different Alter version?): keep ours, say so.
      this.#deps.log.error({ revision: active.revision, err: { message: (err as Error).message } }, 'active policy revision does not compile on this node; keeping the current one');
    }
  }

  /** Waits until every queued activation has run (tests, shutdown). */
  async settled(): Promise<void> {
    await this.#queue.catch(() => {});
  }

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(task).catch((err: unknown) => {
      this.#deps.log.error({ err: { message: (err as Error).message } }, 'policy update failed; the current policy stays in force');
    });
  }

  async #onSourceChange(text: PolicyText): Promise<void> {
    const { log, audit, orgId } = this.#deps;
    let compiled: CompiledPolicy;
    try {
      compiled = this.#deps.compile(text.text, { origin: text.origin });
    } catch (err) {
      if (!(err instanceof PolicyInvalid)) throw err;
      if (this.#lastRejected === text.text) return;
      this.#lastRejected = text.text;
      log.error({ origin: text.origin, problems: err.issues.length }, `${err.message}\nthe last good policy (${this.#current?.revision.slice(0, 12)}) stays in force`);
      await audit.record({
        orgId,
        type: 'policy.rejected',
        data: { origin: text.origin, issues: err.issues.map((i) => ({ ...i })), kept_revision: this.#current?.revision },
      });
      return;
    }
    this.#lastRejected = undefined;
    if (compiled.revision === this.#current?.revision) return;
    const previous = this.#current?.revision;
    this.#current = compiled;
    await this.#publish(text);
    log.info({ revision: compiled.revision, previous, origin: text.origin }, 'policy updated');
    await audit.record({ orgId, type: 'policy.activated', data: { origin: text.origin, revision: compiled.revision, previous } });
  }

  async #publish(text: PolicyText): Promise<void> {
    const revision = this.#current!.revision;
    await this.#deps.store.activate({ revision, origin: text.origin, body: text.text });
    await this.#deps.bus.publish(CHANNEL, { revision });
  }
}
