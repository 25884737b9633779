import type { AuditEntry, AuditLogStore } from '../ports/audit.ts';
import { verifyChain, type VerifyReport } from './verify-chain.ts';
import type { KeyObject } from 'node:crypto';

const PAGE = 5000;

/** An org's entries in seq order, read page by page. */
export async function* storedEntries(store: AuditLogStore, orgId: string, afterSeq = 0): AsyncGenerator<AuditEntry> {
  let after = afterSeq;
  for (;;) {
    const page = await store.read(orgId, after, PAGE);
    yield* page;
    if (page.length < PAGE) return;
    after = page.at(-1)!.seq;
  }
}

/** Verifies an org's chain as stored, against its stored checkpoints and head. */
export async function verifyStoredChain(store: AuditLogStore, orgId: string, keys: ReadonlyArray<{ name: string; publicKey: KeyObject }>): Promise<VerifyReport> {
  const [head, checkpoints] = await Promise.all([store.head(orgId), store.checkpoints(orgId)]);
  return verifyChain({
    orgId,
    entries: storedEntries(store, orgId),
    checkpoints: checkpoints.map((c) => c.note),
    keys,
    ...(head ? { headSeq: head.seq } : {}),
  });
}
