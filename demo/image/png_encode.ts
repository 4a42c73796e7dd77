/**
 * PNG encoding in plain TypeScript: 8-bit RGB or RGBA, adaptive row filters,
 * zlib from the runtime's `CompressionStream`.
 *
 * @module
 */
import { crc32, paeth, SIGNATURE } from "./_png.ts";
import type { Rgba } from "./image.ts";

/**
 * Encodes 8-bit RGBA as a PNG: RGB when every pixel is opaque, else RGBA;
 * each row with the filter that makes it smallest by the usual heuristic
 * (least sum of absolute values).
 */
export async function encodePng(
  image: Rgba,
): Promise<Uint8Array<ArrayBuffer>> {
  const { width, height, data } = image;
  let opaque = true;
  for (let i = 3; i < data.length; i += 4) {
    if (data[i] !== 255) {
      opaque = false;
      break;
    }
  }
  const channels = opaque ? 3 : 4;
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let p = 0, o = 0; p < data.length; p += 4) {
    pixels[o++] = data[p]!;
    pixels[o++] = data[p + 1]!;
    pixels[o++] = data[p + 2]!;
    if (!opaque) pixels[o++] = data[p + 3]!;
  }
  const raw = new Uint8Array(height * (1 + stride));
  const candidate = new Uint8Array(stride);
  for (let r = 0; r < height; r++) {
    let best = Infinity;
    for (let type = 0; type <= 4; type++) {
      const score = filterRow(pixels, r, stride, channels, type, candidate);
      if (score < best) {
        best = score;
        raw[r * (1 + stride)] = type;
        raw.set(candidate, r * (1 + stride) + 1);
      }
    }
  }
  const compressed = new Uint8Array(
    await new Response(
      new Blob([raw]).stream().pipeThrough(new CompressionStream("deflate")),
    ).arrayBuffer(),
  );
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, opaque ? 2 : 6, 0, 0, 0], 8);
  return concat([
    Uint8Array.from(SIGNATURE),
    chunk("IHDR", ihdr),
    chunk("IDAT", compressed),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

/** Filters row `r` with `type` into `out`; returns the heuristic's score. */
function filterRow(
  pixels: Uint8Array,
  r: number,
  stride: number,
  bpp: number,
  type: number,
  out: Uint8Array,
): number {
  const row = r * stride;
  let score = 0;
  for (let i = 0; i < stride; i++) {
    const x = pixels[row + i]!;
    const a = i >= bpp ? pixels[row + i - bpp]! : 0;
    const b = r > 0 ? pixels[row - stride + i]! : 0;
    const c = r > 0 && i >= bpp ? pixels[row - stride + i - bpp]! : 0;
    const v = type === 0
      ? x
      : type === 1
      ? x - a
      : type === 2
      ? x - b
      : type === 3
      ? x - ((a + b) >> 1)
      : x - paeth(a, b, c);
    out[i] = v;
    const signed = out[i]! < 128 ? out[i]! : 256 - out[i]!;
    score += signed;
  }
  return score;
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
