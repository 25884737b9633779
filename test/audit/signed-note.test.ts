import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { checkpointText, parseCheckpointText } from '../../src/audit/checkpoint-text.ts';
import { keyHash, openNote, parseVerifierKey, signNote, verifierKey } from '../../src/audit/signed-note.ts';

describe('signed notes (c2sp.org/signed-note, Ed25519)', () => {
  const text = checkpointText({ origin: 'https://alter.test', orgId: 'org_default', seq: 42, headHash: 'ab'.repeat(32) });

  test('sign, open, and parse a checkpoint', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const note = signNote(text, 'alter-audit', privateKey);
    expect(note.startsWith(`${text}\n\u2014 alter-audit `)).toBe(true);
    const sig = Buffer.from(note.trim().split(' ').at(-1)!, 'base64');
    expect(sig).toHaveLength(68);
    expect(sig.subarray(0, 4)).toEqual(keyHash('alter-audit', publicKey));
    expect(openNote(note, [{ name: 'alter-audit', publicKey }])).toBe(text);
    expect(parseCheckpointText(text)).toEqual({ origin: 'https://alter.test', orgId: 'org_default', seq: 42, headHash: 'ab'.repeat(32) });
  });

  test('a changed text, another key or another name does not open', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519').publicKey;
    const note = signNote(text, 'alter-audit', privateKey);
    expect(openNote(note.replace('seq 42', 'seq 43'), [{ name: 'alter-audit', publicKey }])).toBeUndefined();
    expect(openNote(note, [{ name: 'alter-audit', publicKey: other }])).toBeUndefined();
    expect(openNote(note, [{ name: 'someone-else', publicKey }])).toBeUndefined();
    expect(openNote('garbage', [{ name: 'alter-audit', publicKey }])).toBeUndefined();
  });

  test('verifier keys round-trip, whatever characters their base64 holds', () => {
    for (let i = 0; i < 200; i++) {
      const { publicKey } = generateKeyPairSync('ed25519');
      const vkey = verifierKey('alter-audit', publicKey);
      const parsed = parseVerifierKey(vkey);
      expect(parsed.name).toBe('alter-audit');
      expect(parsed.publicKey.equals(publicKey)).toBe(true);
    }
    expect(() => parseVerifierKey('nope')).toThrow(/verifier key/);
    const { publicKey } = generateKeyPairSync('ed25519');
    const vkey = verifierKey('alter-audit', publicKey);
    expect(() => parseVerifierKey(vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'))).toThrow(/hash/);
  });
});
