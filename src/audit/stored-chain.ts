import type { AuditChainLink, AuditEntry, AuditLogStore } from '../ports/audit.ts';
import { verifyChain, type VerifyReport } from './verify-chain.ts';
import type { KeyObject } from 'node:crypto';

const PAGE = 5000;

/** An org's entries in seq order, read page by page (the next page is fetched while this one is consumed). */
export function storedEntries(store: AuditLogStore, orgId: string, afterSeq = 0): AsyncGenerator<AuditEntry> {
  return pages((after) => store.read(orgId, after, PAGE), afterSeq);
}

/** The chain columns only, for verification. */
export function storedChain(store: AuditLogStore, orgId: string): AsyncGenerator<AuditChainLink> {
  return pages((after) => store.readChain(orgId, after, PAGE), 0);
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
    entries: storedChain(store, orgId),
    checkpoints: checkpoints.map((c) => c.note),
    keys,
    ...(head ? { headSeq: head.seq } : {}),
  });
}
