/**
 * What the image modules share: the decoded pixel type and the error they
 * throw for an image they cannot use.
 *
 * @module
 */

/** Decoded pixels: 8-bit RGBA, row by row, no padding. */
export type Rgba = { width: number; height: number; data: Uint8Array };

/** The bytes are not a usable image; the message says why (safe to show). */
export class ImageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ImageError";
  }
}
