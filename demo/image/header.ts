/**
 * What an upload is, read from its first bytes and header only (no pixel is
 * decoded): its format by signature, and its size by image-size, a demo-only
 * dependency. Cheap enough for the request path.
 *
 * @module
 */
import { imageSize } from "image-size";
import { ImageError, type ImageFormat, type ImageLimits } from "./image.ts";

/** The format the bytes say they are, by their signature; undefined for others. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (
    bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e &&
    bytes[3] === 0x47
  ) return "png";
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return "jpeg";
  }
  return undefined;
}

/**
 * The size in the image's header, within `limits`.
 *
 * @throws {ImageError} when the header cannot be read, or is over a limit.
 */
export function imageHeader(
  bytes: Uint8Array,
  limits: ImageLimits,
): { width: number; height: number } {
  let size;
  try {
    size = imageSize(bytes);
  } catch (error) {
    throw new ImageError(
      `the image header cannot be read (${(error as Error).message})`,
    );
  }
  const { width, height } = size;
  if (!width || !height) throw new ImageError("the image has no pixels");
  checkLimits(width, height, limits);
  return { width, height };
}

function checkLimits(width: number, height: number, limits: ImageLimits) {
  const { maxSide, maxPixels } = limits;
  if (width > maxSide || height > maxSide || width * height > maxPixels) {
    throw new ImageError(
      `image is ${width}×${height}: at most ${maxSide} pixels a side and ${maxPixels} pixels in all`,
    );
  }
}
