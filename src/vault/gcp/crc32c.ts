/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) lookup table. */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32C of `data` as an unsigned 32-bit integer: the checksum GCP Secret Manager carries in
 * `payload.dataCrc32c`. (`zlib.crc32` is the IEEE polynomial, not this one.)
 * @see https://cloud.google.com/secret-manager/docs/data-integrity
 */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
