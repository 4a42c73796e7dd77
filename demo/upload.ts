/**
 * Checks an uploaded cover before any job starts: at most 2 MB, a PNG or a
 * JPEG by its bytes (the declared type must agree), a sane size read from
 * its header. Cheap: nothing is decoded here.
 *
 * @module
 */
import { HttpError, PayloadTooLargeError } from "../shared/errors.ts";
import { type CoverInput, IMAGE_LIMITS } from "./cover_processor.ts";
import type { FilterName } from "./image/filters.ts";
import { imageHeader, sniffFormat } from "./image/header.ts";
import { ImageError } from "./image/image.ts";

/** Largest upload, in bytes. */
export const MAX_UPLOAD_BYTES = 2 * 1024 * 1024;

const DECLARED: Record<string, "png" | "jpeg" | undefined> = {
  "image/png": "png",
  "image/jpeg": "jpeg",
  "image/pjpeg": "jpeg",
};

/** An upload that passed the checks, with a display name. */
export type CheckedUpload = CoverInput & { name: string };

/**
 * Checks `file` and returns what the filter job needs.
 *
 * @throws {PayloadTooLargeError} over {@link MAX_UPLOAD_BYTES}.
 * @throws {HttpError} `unsupported_media_type` (415) for anything but PNG or
 * JPEG, or when the declared type disagrees with the bytes.
 * @throws {HttpError} `invalid_image` (422) for a broken or oversized image.
 */
export async function checkUpload(
  file: File,
  filter: FilterName,
): Promise<CheckedUpload> {
  if (file.size > MAX_UPLOAD_BYTES) {
    throw new PayloadTooLargeError(
      `file: ${file.size} bytes, at most ${MAX_UPLOAD_BYTES} (2 MB)`,
    );
  }
  if (file.size === 0) throw invalid("file: is empty");
  const bytes = new Uint8Array(await file.arrayBuffer());
  const format = sniffFormat(bytes);
  const declared = file.type ? DECLARED[file.type.toLowerCase()] : format;
  if (format === undefined || declared !== format) {
    throw new HttpError(
      "unsupported_media_type",
      415,
      format === undefined
        ? "file: only PNG and JPEG images are accepted"
        : `file: declared ${file.type} but its bytes are a ${format.toUpperCase()}`,
    );
  }
  try {
    const { width, height } = imageHeader(bytes, IMAGE_LIMITS);
    return { format, bytes, filter, width, height, name: displayName(file) };
  } catch (error) {
    if (error instanceof ImageError) throw invalid(`file: ${error.message}`);
    throw error;
  }
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** The file name without a path or control characters, at most 80 characters. */
function displayName(file: File): string {
  const base = file.name.split(/[\\/]/).pop()!.replace(CONTROL, "");
  return [...base].slice(0, 80).join("") || "cover";
}

function invalid(message: string): HttpError {
  return new HttpError("invalid_image", 422, message);
}
