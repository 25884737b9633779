import type { AuditChainLink, AuditEntry, AuditLogStore } from '../ports/audit.ts';
import { verifyChain, type VerifyReport } from './verify-chain.ts';
import type { KeyObject } from 'node:crypto';

const PAGE = 5000;

/** An org's entries in seq order, read page by page (the next page is fetched while this one is consumed). */
export function storedEntries(store: AuditLogStore, orgId: string, afterSeq = 0): AsyncGenerator<AuditEntry> {
  return pages((after) => store.read(orgId, after, PAGE), afterSeq);
}

/** Windows of the chain read at once while earlier ones are verified (PostgreSQL serves them in parallel). */
const WINDOWS_IN_FLIGHT = 3;

/**
 * The chain columns only, for verification: seq windows up to the head are read several at a
 * time; whatever lies beyond the head (there should be nothing) is read after, page by page.
 */
export async function* storedChain(store: AuditLogStore, orgId: string, headSeq = 0): AsyncGenerator<AuditChainLink> {
  const windows: Array<Promise<AuditChainLink[]>> = [];
  let next = 0;
  const launch = () => {
    if (next >= headSeq) return;
    const from = next;
    next = Math.min(headSeq, next + PAGE);
    const window = store.readChain(orgId, from, Number.MAX_SAFE_INTEGER, next);
    window.catch(() => {}); // awaited in order below; a failure surfaces there
    windows.push(window);
  };
  for (let i = 0; i < WINDOWS_IN_FLIGHT; i++) launch();
  while (windows.length > 0) {
    const rows = await windows.shift()!;
    launch();
    yield* rows;
  }
  yield* pages((after) => store.readChain(orgId, after, PAGE), headSeq);
}

async function* pages<T extends { seq: number }>(read: (after: number) => Promise<T[]>, afterSeq: number): AsyncGenerator<T> {
  let pending = read(afterSeq);
  for (;;) {
    const page = await pending;
    if (page.length === PAGE) {
      pending = read(page.at(-1)!.seq);
      pending.catch(() => {}); // awaited on the next turn; a failure surfaces there
    }
    yield* page;
    if (page.length < PAGE) return;
  }
}

/** Verifies an org's chain as stored, against its stored checkpoints and head. */
export async function verifyStoredChain(store: AuditLogStore, orgId: string, keys: ReadonlyArray<{ name: string; publicKey: KeyObject }>): Promise<VerifyReport> {
  const [head, checkpoints] = await Promise.all([store.head(orgId), store.checkpoints(orgId)]);
  return verifyChain({
    orgId,
    entries: storedChain(store, orgId, head?.seq ?? 0),
    checkpoints: checkpoints.map((c) => c.note),
    keys,
    ...(head ? { headSeq: head.seq } : {}),
  });
}
