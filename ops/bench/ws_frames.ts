/**
 * The client side of RFC 6455 framing, as little as a load generator needs:
 * masked frames out (with a zero mask key, which is valid and costs no XOR),
 * unmasked server frames in, fragments not supported (servers here send none).
 *
 * @module
 */

/** Frame opcodes used here. */
export const OPCODE = { text: 1, close: 8, ping: 9, pong: 10 } as const;

/** One frame from the server. */
export type Frame = { opcode: number; payload: Uint8Array };

/** Encodes one masked client frame with a zero mask key. */
export function encodeClientFrame(
  opcode: number,
  payload: Uint8Array,
): Uint8Array {
  const n = payload.length;
  const headerLength = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const frame = new Uint8Array(headerLength + 4 + n);
  frame[0] = 0x80 | opcode;
  if (n < 126) frame[1] = 0x80 | n;
  else if (n < 65536) {
    frame[1] = 0x80 | 126;
    frame[2] = n >> 8;
    frame[3] = n & 0xff;
  } else {
    frame[1] = 0x80 | 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(n));
  }
  // Mask key bytes stay 0: payload XOR 0 is the payload.
  frame.set(payload, headerLength + 4);
  return frame;
}

/** Splits a byte stream into server frames, keeping a partial frame between pushes. */
export class FrameReader {
  #rest: Uint8Array | null = null;

  /** Frames completed by `chunk` (the chunk may be reused by the caller afterwards). */
  push(chunk: Uint8Array): Frame[] {
    let b = chunk;
    if (this.#rest) {
      const joined = new Uint8Array(this.#rest.length + chunk.length);
      joined.set(this.#rest);
      joined.set(chunk, this.#rest.length);
      b = joined;
      this.#rest = null;
    }
    const frames: Frame[] = [];
    let at = 0;
    while (b.length - at >= 2) {
      const opcode = b[at]! & 0x0f;
      let length = b[at + 1]! & 0x7f;
      let offset = at + 2;
      if (length === 126) {
        if (b.length - at < 4) break;
        length = (b[at + 2]! << 8) | b[at + 3]!;
        offset = at + 4;
      } else if (length === 127) {
        if (b.length - at < 10) break;
        length = Number(
          new DataView(b.buffer, b.byteOffset + at + 2, 8).getBigUint64(0),
        );
        offset = at + 10;
      }
      if (b.length < offset + length) break;
      frames.push({ opcode, payload: b.subarray(offset, offset + length) });
      at = offset + length;
    }
    if (at < b.length) this.#rest = b.slice(at);
    return frames;
  }
}

/** `a` and `b` in one new array. */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/** Offset just past the blank line ending an HTTP head; -1 when not there yet. */
export function headerEnd(b: Uint8Array, from = 0): number {
  for (let i = from + 3; i < b.length; i++) {
    if (b[i] === 10 && b[i - 1] === 13 && b[i - 2] === 10 && b[i - 3] === 13) {
      return i + 1;
    }
  }
  return -1;
}
