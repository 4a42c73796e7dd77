/**
 * PNG decoding in plain TypeScript: every color type and bit depth of the PNG
 * spec (W3C PNG, 2nd ed.), Adam7 interlacing, `tRNS` transparency, CRCs
 * checked. zlib comes from the runtime's `DecompressionStream` ("deflate" is
 * the zlib format PNG uses). Ancillary chunks (gamma, color profiles, text)
 * are ignored.
 *
 * @module
 */
import { CHANNELS, crc32, paeth, SIGNATURE } from "./_png.ts";
import { ImageError, type Rgba } from "./image.ts";
import { pixelReader } from "./_png_pixels.ts";

const DEPTHS: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};
/** Adam7 passes: first column, first row, column step, row step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** Limits checked before any pixel is inflated (decompression bombs). */
export type PngLimits = { maxPixels: number; maxSide: number };

/** The fields of IHDR the decoder uses. */
export type Header = {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
};

/** True when `bytes` starts with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return SIGNATURE.every((b, i) => bytes[i] === b);
}

/**
 * Reads and checks the IHDR of a PNG without inflating anything: cheap
 * enough for a request handler.
 *
 * @throws {ImageError} for a bad signature, a bad IHDR, or a size over `limits`.
 */
export function pngSize(
  bytes: Uint8Array,
  limits: PngLimits,
): { width: number; height: number } {
  if (!isPng(bytes)) throw new ImageError("not a PNG (bad signature)");
  const at = SIGNATURE.length;
  const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (
    type !== "IHDR" || bytes.length < at + 25 || view.getUint32(at) !== 13
  ) {
    throw new ImageError("PNG does not start with a valid IHDR");
  }
  const body = bytes.subarray(at + 8, at + 21);
  if (crc32(bytes.subarray(at + 4, at + 21)) !== view.getUint32(at + 21)) {
    throw new ImageError("PNG chunk IHDR has a bad CRC");
  }
  const { width, height } = readHeader(body, limits);
  return { width, height };
}

/**
 * Decodes a PNG into 8-bit RGBA (16-bit samples keep their high byte).
 *
 * @throws {ImageError} naming what is wrong: signature, chunk CRC, header,
 * size over `limits`, missing or corrupt image data.
 */
export async function decodePng(
  bytes: Uint8Array,
  limits: PngLimits,
): Promise<Rgba> {
  if (!isPng(bytes)) throw new ImageError("not a PNG (bad signature)");
  let header: Header | undefined;
  let palette: Uint8Array | undefined;
  let transparency: Uint8Array | undefined;
  const data: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = SIGNATURE.length;
  let ended = false;
  while (!ended) {
    if (offset + 12 > bytes.length) throw new ImageError("PNG is truncated");
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const end = offset + 8 + length;
    if (end + 4 > bytes.length) throw new ImageError("PNG is truncated");
    if (crc32(bytes.subarray(offset + 4, end)) !== view.getUint32(end)) {
      throw new ImageError(`PNG chunk ${type} has a bad CRC`);
    }
    const body = bytes.subarray(offset + 8, end);
    offset = end + 4;
    if (header === undefined && type !== "IHDR") {
      throw new ImageError("PNG does not start with IHDR");
    }
    if (type === "IHDR") header = readHeader(body, limits);
    else if (type === "PLTE") palette = body;
    else if (type === "tRNS") transparency = body;
    else if (type === "IDAT") data.push(body);
    else if (type === "IEND") ended = true;
  }
  if (!header) throw new ImageError("PNG has no IHDR");
  if (header.colorType === 3 && !palette) {
    throw new ImageError("palette PNG without PLTE");
  }
  if (data.length === 0) throw new ImageError("PNG has no image data");
  const raw = await inflate(data, rawSize(header));
  return toRgba(header, raw, palette, transparency);
}

function readHeader(body: Uint8Array, limits: PngLimits): Header {
  if (body.length !== 13) throw new ImageError("PNG IHDR has a bad length");
  const view = new DataView(body.buffer, body.byteOffset, 13);
  const header = {
    width: view.getUint32(0),
    height: view.getUint32(4),
    depth: body[8]!,
    colorType: body[9]!,
    interlaced: body[12] === 1,
  };
  if (!DEPTHS[header.colorType]?.includes(header.depth)) {
    throw new ImageError(
      `PNG color type ${header.colorType} with bit depth ${header.depth} is not valid`,
    );
  }
  if (body[10] !== 0 || body[11] !== 0 || body[12]! > 1) {
    throw new ImageError(
      "PNG uses an unknown compression, filter or interlace method",
    );
  }
  const { width, height } = header;
  if (width === 0 || height === 0) throw new ImageError("PNG has no pixels");
  if (
    width > limits.maxSide || height > limits.maxSide ||
    width * height > limits.maxPixels
  ) {
    throw new ImageError(
      `image is ${width}×${height}: at most ${limits.maxSide} pixels a side and ${limits.maxPixels} pixels in all`,
    );
  }
  return header;
}

/** The passes of an image: full size, or the seven Adam7 sub-images. */
function passes(
  h: Header,
): {
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  w: number;
  rows: number;
}[] {
  const all = h.interlaced ? ADAM7 : [[0, 0, 1, 1] as const];
  return all.map(([x0, y0, dx, dy]) => ({
    x0,
    y0,
    dx,
    dy,
    w: Math.ceil((h.width - x0) / dx),
    rows: Math.ceil((h.height - y0) / dy),
  })).filter((p) => p.w > 0 && p.rows > 0);
}

function rowBytes(h: Header, width: number): number {
  return Math.ceil(width * CHANNELS[h.colorType]! * h.depth / 8);
}

/** Bytes of the filtered image data: a filter byte plus a row per row. */
function rawSize(h: Header): number {
  return passes(h).reduce((n, p) => n + p.rows * (1 + rowBytes(h, p.w)), 0);
}

/** Inflates the IDAT stream, refusing to produce more than `expected` bytes. */
async function inflate(
  parts: Uint8Array[],
  expected: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(expected);
  let filled = 0;
  const stream = new Blob(parts as BlobPart[]).stream()
    .pipeThrough(new DecompressionStream("deflate"));
  try {
    for await (const chunk of stream) {
      if (filled + chunk.length > expected) {
        throw new ImageError("PNG image data is larger than its header says");
      }
      out.set(chunk, filled);
      filled += chunk.length;
    }
  } catch (error) {
    if (error instanceof ImageError) throw error;
    throw new ImageError("PNG image data is corrupt", { cause: error });
  }
  if (filled !== expected) throw new ImageError("PNG image data is truncated");
  return out;
}

function toRgba(
  h: Header,
  raw: Uint8Array,
  palette: Uint8Array | undefined,
  trns: Uint8Array | undefined,
): Rgba {
  const out = new Uint8Array(h.width * h.height * 4);
  const channels = CHANNELS[h.colorType]!;
  const bpp = Math.max(1, channels * h.depth / 8);
  const pixel = pixelReader(h, palette, trns);
  let offset = 0;
  for (const p of passes(h)) {
    const stride = rowBytes(h, p.w);
    const rows = unfilter(raw, offset, p.rows, stride, bpp);
    offset += p.rows * (1 + stride);
    for (let r = 0; r < p.rows; r++) {
      const y = p.y0 + r * p.dy;
      for (let c = 0; c < p.w; c++) {
        pixel(rows, r * stride, c, out, ((y * h.width) + p.x0 + c * p.dx) * 4);
      }
    }
  }
  return { width: h.width, height: h.height, data: out };
}

/** Undoes the per-row filters of one pass; returns the rows without filter bytes. */
function unfilter(
  raw: Uint8Array,
  offset: number,
  rows: number,
  stride: number,
  bpp: number,
): Uint8Array {
  const out = new Uint8Array(rows * stride);
  for (let r = 0; r < rows; r++) {
    const type = raw[offset + r * (1 + stride)]!;
    const src = offset + r * (1 + stride) + 1;
    const row = r * stride;
    const prev = row - stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? out[row + i - bpp]! : 0;
      const b = r > 0 ? out[prev + i]! : 0;
      const c = r > 0 && i >= bpp ? out[prev + i - bpp]! : 0;
      const x = raw[src + i]!;
      if (type === 0) out[row + i] = x;
      else if (type === 1) out[row + i] = x + a;
      else if (type === 2) out[row + i] = x + b;
      else if (type === 3) out[row + i] = x + ((a + b) >> 1);
      else if (type === 4) out[row + i] = x + paeth(a, b, c);
      else throw new ImageError(`PNG row filter ${type} is not valid`);
    }
  }
  return out;
}
