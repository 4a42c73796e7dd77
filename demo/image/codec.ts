/**
 * PNG and JPEG pixels in and out, through npm libraries rather than code of
 * our own: pngjs and jpeg-js decode to RGBA and encode back. Loaded by the
 * filter worker only; both are demo-only dependencies (the gateway and router
 * never import the demo).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { imageHeader, sniffFormat } from "./header.ts";
import {
  ImageError,
  type ImageFormat,
  type ImageLimits,
  type Rgba,
} from "./image.ts";

/** JPEG quality of a filtered cover (jpeg-js scale, 1-100). */
const JPEG_QUALITY = 90;

/**
 * Decodes a PNG (any color type and bit depth, interlaced or not) or a JPEG
 * (baseline or progressive) to 8-bit RGBA.
 *
 * @throws {ImageError} when the file is corrupt or over `limits`.
 */
export function decodeImage(
  format: ImageFormat,
  bytes: Uint8Array,
  limits: ImageLimits,
): Rgba {
  if (sniffFormat(bytes) !== format) {
    throw new ImageError(`not a ${format.toUpperCase()} (bad signature)`);
  }
  const { width, height } = imageHeader(bytes, limits);
  try {
    if (format === "png") {
      // pngjs expands palettes, tRNS and gray to RGBA and scales 16 bits to 8.
      const png = PNG.sync.read(Buffer.from(bytes));
      return { width: png.width, height: png.height, data: png.data };
    }
    const image = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      // jpeg-js bounds its own allocations too; the header was checked above.
      maxResolutionInMP: Math.ceil(limits.maxPixels / 1e6),
      maxMemoryUsageInMB: Math.ceil((limits.maxPixels * 4 * 2) / 2 ** 20) +
        64,
    });
    if (image.width !== width || image.height !== height) {
      throw new Error(`decoded ${image.width}×${image.height}`);
    }
    return { width: image.width, height: image.height, data: image.data };
  } catch (error) {
    throw new ImageError(
      `${format.toUpperCase()} is corrupt: ${(error as Error).message}`,
    );
  }
}

/** Encodes RGBA pixels as a PNG (RGB when fully opaque) or a JPEG. */
export function encodeImage(
  format: ImageFormat,
  image: Rgba,
): Uint8Array<ArrayBuffer> {
  if (format === "jpeg") {
    const { data } = jpeg.encode(
      { data: image.data, width: image.width, height: image.height },
      JPEG_QUALITY,
    );
    return new Uint8Array(data);
  }
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(
    image.data.buffer,
    image.data.byteOffset,
    image.data.byteLength,
  );
  const written = PNG.sync.write(png, {
    colorType: opaque(image.data) ? 2 : 6,
  });
  return new Uint8Array(written);
}

function opaque(data: Uint8Array): boolean {
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) return false;
  return true;
}
