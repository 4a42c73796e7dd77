/**
 * What the PNG modules share: the signature, channels per color type, the
 * Paeth predictor and the chunk CRC (CRC-32, ISO 3309, as the PNG spec gives it).
 *
 * @module
 */

/** The eight bytes every PNG starts with. */
export const SIGNATURE: readonly number[] = [137, 80, 78, 71, 13, 10, 26, 10];

/** Channels per color type: gray, -, RGB, palette, gray+alpha, -, RGBA. */
export const CHANNELS: Readonly<Record<number, number>> = {
  0: 1,
  2: 3,
  3: 1,
  4: 2,
  6: 4,
};

/** The Paeth predictor of filter type 4. */
export function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 of `bytes`, as stored after each chunk (over type and data). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}
