/**
 * What the image modules share: the decoded pixel type, the size limits and
 * the error they throw for an image they cannot use.
 *
 * @module
 */

/** Decoded pixels: 8-bit RGBA, row by row, no padding. */
export type Rgba = { width: number; height: number; data: Uint8Array };

/** The formats a cover may have; a cover keeps its format through a filter. */
export type ImageFormat = "png" | "jpeg";

/** Largest side and pixel count of an image, checked before decoding. */
export type ImageLimits = { maxSide: number; maxPixels: number };

/** The bytes are not a usable image; the message says why (safe to show). */
export class ImageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ImageError";
  }
}
