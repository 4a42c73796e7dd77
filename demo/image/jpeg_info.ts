/**
 * Just enough JPEG parsing to validate an upload: walk the marker segments
 * (ITU T.81, B.1) up to the frame header and read the size from it. The
 * pixels are never decoded here.
 *
 * @module
 */
import { ImageError } from "./image.ts";

/** Frame size and how the JPEG is coded. */
export type JpegInfo = {
  width: number;
  height: number;
  /** 1 (gray), 3 (YCbCr) or 4 (CMYK). */
  components: number;
  progressive: boolean;
};

/** True when `bytes` starts with a JPEG SOI marker and another marker. */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/**
 * Reads the frame header of a JPEG.
 *
 * @throws {ImageError} when it is not a JPEG, is truncated before its frame
 * header, or has no pixels.
 */
export function jpegInfo(bytes: Uint8Array): JpegInfo {
  if (!isJpeg(bytes)) throw new ImageError("not a JPEG (no SOI marker)");
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) {
      throw new ImageError("JPEG is corrupt (expected a marker)");
    }
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) { // fill byte before a marker
      offset++;
      continue;
    }
    offset += 2;
    // Markers without a length: TEM, RST0-7.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xd9 || marker === 0xda) break; // EOI or scan before a frame
    const length = (bytes[offset]! << 8) | bytes[offset + 1]!;
    if (length < 2 || offset + length > bytes.length) break;
    // SOF0-15 except DHT (C4), JPG (C8) and DAC (CC).
    if (
      marker >= 0xc0 && marker <= 0xcf &&
      marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
    ) {
      if (length < 8) break;
      const height = (bytes[offset + 3]! << 8) | bytes[offset + 4]!;
      const width = (bytes[offset + 5]! << 8) | bytes[offset + 6]!;
      const components = bytes[offset + 7]!;
      if (width === 0 || height === 0) {
        throw new ImageError("JPEG has no pixels");
      }
      if (![1, 3, 4].includes(components)) {
        throw new ImageError(`JPEG has ${components} components`);
      }
      return {
        width,
        height,
        components,
        progressive: marker === 0xc2 || marker === 0xc6 || marker === 0xca ||
          marker === 0xce,
      };
    }
    offset += length;
  }
  throw new ImageError("JPEG is truncated or has no frame header");
}
