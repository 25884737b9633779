import type { Bus } from '../ports/bus.ts';
import type { RevocationKind, RevocationPredicate, RevocationStore } from '../ports/store.ts';
import type { Logger } from '../shared/logger.ts';

/** The bus channel revocations travel on. */
const CHANNEL = 'revocations';
const KINDS: readonly RevocationKind[] = ['jti', 'agent'];

type TokenRef = { jti: string; clientId: string; iat: number; actors?: readonly string[] };

/** A predicate as it travels on the bus (instants in epoch milliseconds). */
interface Message {
  kind: RevocationKind;
  value: string;
  revokedAt: number;
  expiresAt: number;
}

function parseMessage(message: unknown): Message | undefined {
  const m = message as Partial<Message> | null;
  if (typeof m !== 'object' || m === null) return undefined;
  if (!KINDS.includes(m.kind as RevocationKind) || typeof m.value !== 'string' || m.value === '') return undefined;
  if (!Number.isFinite(m.revokedAt) || !Number.isFinite(m.expiresAt)) return undefined;
  return m as Message;
}

/**
 * Revocation as predicates (DESIGN.md, Tokens): a token is dead when a predicate matches it
 * with `revokedAt ≥ iat`. Predicates are stored, and every node keeps them all in memory, so
 * checking a token costs no database round trip:
 *
 * - at start the node loads every unexpired predicate, after subscribing to the bus, so none
 *   published in between is missed;
 * - a revocation is stored, applied here, and published; every node applies it on receipt;
 * - while the bus subscription is down (messages are being lost), and until the node has
 *   reloaded after it came back, tokens are checked against the store instead: never a stale
 *   "not revoked", and a store that is down then fails the check (503);
 * - a full reload every `resyncMs` also catches anything lost some other way.
 *
 * Without a bus (tests of the parts) every check goes to the store.
 */
export class RevocationService {
  readonly #store: RevocationStore;
  /** How long an agent predicate must outlive the revocation: the longest token lifetime. */
  readonly #maxTokenLifetimeSeconds: number;
  readonly #bus: Bus | undefined;
  readonly #resyncMs: number;
  readonly #log: Logger | undefined;
  /** `${kind}:${value}` → the latest revocation instant and when it may be forgotten (ms). */
  readonly #memory = new Map<string, { revokedAt: number; expiresAt: number }>();
  /** True once the memory holds every stored predicate and the bus is delivering. */
  #current = false;
  /** Bumped when the subscription comes back: a reload started before does not make memory current. */
  #epoch = 0;
  #stops: Array<() => unknown> = [];

  constructor(deps: { store: RevocationStore; maxTokenLifetimeSeconds: number; bus?: Bus; resyncMs?: number; log?: Logger }) {
    this.#store = deps.store;
    this.#maxTokenLifetimeSeconds = deps.maxTokenLifetimeSeconds;
    this.#bus = deps.bus;
    this.#resyncMs = deps.resyncMs ?? 30_000;
    this.#log = deps.log;
  }

  /** Subscribes, loads every unexpired predicate, and keeps them current (needs the bus). */
  async start(): Promise<void> {
    const bus = this.#bus;
    if (!bus) return;
    const unsubscribe = await bus.subscribe(CHANNEL, (message) => {
      const m = parseMessage(message);
      if (m) this.#remember(m);
      else this.#log?.warn({ channel: CHANNEL }, 'ignored a malformed revocation message');
    });
    const offResubscribed = bus.onResubscribed(() => {
      this.#epoch += 1;
      this.#current = false;
      void this.#reload().catch((err: unknown) => this.#log?.warn({ err: { message: (err as Error).message } }, 'revocations could not be reloaded; checking the store meanwhile'));
    });
    await this.#reload();
    const timer = setInterval(() => {
      this.#reload().catch((err: unknown) => this.#log?.warn({ err: { message: (err as Error).message } }, 'periodic reload of revocations failed'));
    }, this.#resyncMs).unref();
    this.#stops = [() => clearInterval(timer), offResubscribed, unsubscribe];
  }

  async stop(): Promise<void> {
    this.#current = false;
    for (const stop of this.#stops) await stop();
    this.#stops = [];
  }

  /** @see RFC 7009 §2.1 — one token, by its `jti`, until it would have expired anyway. */
  async revokeToken(orgId: string, jti: string, exp: number): Promise<void> {
    await this.#add({ orgId, kind: 'jti', value: jti, revokedAt: new Date(), expiresAt: new Date(exp * 1000) });
  }

  /**
   * Every token the agent holds now (disable, delete), and those issued during the next
   * `coverMs` (nodes whose cached view of the agent is not updated yet).
   */
  async revokeAgent(orgId: string, clientId: string, coverMs = 0): Promise<void> {
    const revokedAt = new Date(Date.now() + coverMs);
    const expiresAt = new Date(revokedAt.getTime() + this.#maxTokenLifetimeSeconds * 1000);
    await this.#add({ orgId, kind: 'agent', value: clientId, revokedAt, expiresAt });
  }

  /**
   * True if a predicate matches the token with `revokedAt ≥ iat`: its `jti`, its client, or any
   * agent of its delegation chain (`actors`). From memory when it is current, else the store.
   */
  isRevoked(token: TokenRef): Promise<boolean> {
    if (!this.#current || !this.#bus?.subscribed()) return this.#store.isRevoked(token);
    const iatMs = token.iat * 1000;
    const now = Date.now();
    let dead = this.#matches('jti', token.jti, iatMs, now) || this.#matches('agent', token.clientId, iatMs, now);
    for (const actor of token.actors ?? []) dead ||= this.#matches('agent', actor, iatMs, now);
    return Promise.resolve(dead);
  }

  /** A remembered predicate on `kind:value` revoking what was issued at `iatMs`, still in force. */
  #matches(kind: RevocationKind, value: string, iatMs: number, now: number): boolean {
    const p = this.#memory.get(`${kind}:${value}`);
    return p !== undefined && p.revokedAt >= iatMs && p.expiresAt > now;
  }

  purgeExpired(): Promise<number> {
    return this.#store.purgeExpired();
  }

  /** Stored first (the source of truth), applied here, then sent to every other node. */
  async #add(predicate: RevocationPredicate): Promise<void> {
    await this.#store.add(predicate);
    const message: Message = { kind: predicate.kind, value: predicate.value, revokedAt: predicate.revokedAt.getTime(), expiresAt: predicate.expiresAt.getTime() };
    this.#remember(message);
    await this.#bus?.publish(CHANNEL, message);
  }

  /** Merges a predicate the way the store does: the latest `revokedAt` and `expiresAt` win. */
  #remember(m: Message): void {
    const key = `${m.kind}:${m.value}`;
    const known = this.#memory.get(key);
    this.#memory.set(key, known
      ? { revokedAt: Math.max(known.revokedAt, m.revokedAt), expiresAt: Math.max(known.expiresAt, m.expiresAt) }
      : { revokedAt: m.revokedAt, expiresAt: m.expiresAt });
  }

  /** Merges every unexpired stored predicate in, forgets expired ones; memory is current after. */
  async #reload(): Promise<void> {
    const epoch = this.#epoch;
    const rows = await this.#store.listActive();
    for (const p of rows) this.#remember({ kind: p.kind, value: p.value, revokedAt: p.revokedAt.getTime(), expiresAt: p.expiresAt.getTime() });
    const now = Date.now();
    for (const [key, p] of this.#memory) if (p.expiresAt <= now) this.#memory.delete(key);
    if (epoch === this.#epoch) this.#current = true;
  }
}
