/**
 * The filter job's real work: the cover is decoded (PNG or JPEG), filtered
 * pixel by pixel and encoded again in its own format. Runs in the filter
 * worker, off the event loop of the process serving WebSockets.
 *
 * @module
 */
import { decodeImage, encodeImage } from "./image/codec.ts";
import { applyFilter, type FilterName } from "./image/filters.ts";
import type { ImageFormat, ImageLimits } from "./image/image.ts";

/** Largest side and pixel count of an upload (checked before decoding). */
export const IMAGE_LIMITS: ImageLimits = {
  maxSide: 8192,
  maxPixels: 16_777_216,
};

/** An uploaded cover, already checked by `checkUpload`. */
export type CoverInput = {
  format: ImageFormat;
  bytes: Uint8Array;
  filter: FilterName;
  width: number;
  height: number;
};

/** The filtered cover, in the format of the upload. */
export type ProcessedCover = {
  bytes: Uint8Array<ArrayBuffer>;
  type: "image/png" | "image/jpeg";
  width: number;
  height: number;
};

/**
 * Applies the cover's filter.
 *
 * @throws {ImageError} when the image turns out corrupt past its header.
 */
export function processCover(input: CoverInput): Promise<ProcessedCover> {
  // Synchronous work inside a promise: callers (the worker, tests) await it.
  return Promise.resolve().then(() => {
    const image = decodeImage(input.format, input.bytes, IMAGE_LIMITS);
    const bytes = encodeImage(input.format, applyFilter(image, input.filter));
    return {
      bytes,
      type: input.format === "png" ? "image/png" : "image/jpeg",
      width: image.width,
      height: image.height,
    };
  });
}
