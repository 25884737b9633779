import { createHash } from 'node:crypto';

/** The hash a new chain starts from (defined with the port: the store starts new heads from it). */
export { GENESIS_HASH } from '../ports/audit.ts';

/** SHA-256 (hex) of the canonical event text: the leaf. */
export function leafHash(canonicalEvent: string): string {
  return createHash('sha256').update(canonicalEvent, 'utf8').digest('hex');
}

/**
 * `entry_hash = SHA-256(prev_hash ‖ seq ‖ leaf_hash)` (DESIGN.md, Audit log): the previous entry
 * hash (32 bytes), the sequence number as an unsigned 64-bit big-endian integer, the leaf hash
 * (32 bytes). Hashes are hex strings.
 */
export function entryHash(prevHash: string, seq: number, leaf: string): string {
  return entryHashBytes(Buffer.from(prevHash, 'hex'), seq, Buffer.from(leaf, 'hex')).toString('hex');
}

const seqBytes = Buffer.alloc(8);

/** {@link entryHash} on raw bytes (verification hashes hundreds of thousands of entries). */
export function entryHashBytes(prev: Buffer, seq: number, leaf: Buffer): Buffer {
  seqBytes.writeBigUInt64BE(BigInt(seq));
  return createHash('sha256').update(prev).update(seqBytes).update(leaf).digest();
}
