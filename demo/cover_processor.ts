/**
 * The filter job's real work: a PNG is decoded, filtered pixel by pixel and
 * encoded again; a JPEG (no decoder here) becomes an SVG that shows it
 * through the same color matrix. Runs in the filter worker, off the event
 * loop of the process serving WebSockets.
 *
 * @module
 */
import { applyFilter, filteredSvg, type FilterName } from "./image/filters.ts";
import { decodePng } from "./image/png_decode.ts";
import { encodePng } from "./image/png_encode.ts";
import type { PngLimits } from "./image/png_decode.ts";

/** Largest side and pixel count of an upload (checked before decoding). */
export const IMAGE_LIMITS: PngLimits = {
  maxSide: 8192,
  maxPixels: 16_777_216,
};

/** An uploaded cover, already checked by `inspectUpload`. */
export type CoverInput = {
  format: "png" | "jpeg";
  bytes: Uint8Array;
  filter: FilterName;
  width: number;
  height: number;
};

/** The filtered cover. */
export type ProcessedCover = {
  bytes: Uint8Array<ArrayBuffer>;
  type: "image/png" | "image/svg+xml";
  width: number;
  height: number;
};

/**
 * Applies the cover's filter.
 *
 * @throws {ImageError} when a PNG turns out corrupt past its header.
 */
export async function processCover(input: CoverInput): Promise<ProcessedCover> {
  if (input.format === "png") {
    const image = await decodePng(input.bytes, IMAGE_LIMITS);
    const bytes = await encodePng(applyFilter(image, input.filter));
    return {
      bytes,
      type: "image/png",
      width: image.width,
      height: image.height,
    };
  }
  const href = `data:image/jpeg;base64,${base64(input.bytes)}`;
  const svg = filteredSvg({ ...input, href }, input.filter);
  return {
    bytes: new TextEncoder().encode(svg),
    type: "image/svg+xml",
    width: input.width,
    height: input.height,
  };
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  // String.fromCharCode takes its arguments on the stack: go in slices.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
