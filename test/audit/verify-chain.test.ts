import { describe, expect, test } from 'vitest';
import { parseBundle } from '../../src/audit/audit-bundle.ts';
import { chainEntries } from '../../src/audit/audit-log.ts';
import { GENESIS_HASH } from '../../src/audit/chain-hash.ts';
import { verifyChain } from '../../src/audit/verify-chain.ts';
import type { AuditEntry } from '../../src/ports/audit.ts';

/** Verification of entries in memory (no store): the problems chain-tamper.test.ts does not provoke. */
const orgId = 'org_mem';
const chain = (): AuditEntry[] =>
  chainEntries({ orgId, seq: 0, entryHash: GENESIS_HASH }, Array.from({ length: 5 }, (_, n) => ({ orgId, type: 'token.issued', data: { n } })));
const verify = (entries: AuditEntry[]) => verifyChain({ orgId, entries, checkpoints: [], keys: [] });

describe('verifyChain', () => {
  test('an intact chain verifies', async () => {
    expect(await verify(chain())).toMatchObject({ ok: true, entries: 5, lastSeq: 5, problems: [] });
  });

  test('a prev_hash that does not link is a link problem at that entry', async () => {
    const entries = chain();
    entries[2] = { ...entries[2]!, prevHash: 'ab'.repeat(32) };
    const report = await verify(entries);
    expect(report).toMatchObject({ ok: false, firstBrokenSeq: 3 });
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'link', seq: 3 })]);
  });

  test('an entry_hash that was replaced is a hash problem at that entry only (the next one links to the recomputed hash)', async () => {
    const entries = chain();
    entries[2] = { ...entries[2]!, entryHash: 'cd'.repeat(32) };
    const report = await verify(entries);
    expect(report.firstBrokenSeq).toBe(3);
    expect(report.problems.map((p) => [p.kind, p.seq])).toEqual([['hash', 3]]);
  });

  test('entries out of order are reported', async () => {
    const entries = chain();
    [entries[1], entries[2]] = [entries[2]!, entries[1]!];
    const report = await verify(entries);
    expect(report.ok).toBe(false);
    expect(report.firstBrokenSeq).toBe(2);
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'gap', message: 'entry 2 is out of order (expected 4)' }));
  });
});

describe('parseBundle', () => {
  test('a line that is not JSON, or not a bundle line, is refused with its number', () => {
    expect(() => parseBundle('{"kind":"key","verifier_key":"k"}\nnot json\n')).toThrow('line 2: not JSON');
    expect(() => parseBundle('\n{"kind":"entry","org":"o","seq":"1"}\n')).toThrow('line 2: not an entry, checkpoint or key line');
  });
});
