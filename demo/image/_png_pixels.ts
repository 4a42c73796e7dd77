/**
 * Turning unfiltered PNG rows into 8-bit RGBA: sub-byte, 8- and 16-bit
 * samples, palettes, and `tRNS` transparency (a palette alpha table, or the
 * one gray or RGB value that is transparent).
 *
 * @module
 */
import { CHANNELS } from "./_png.ts";
import { ImageError } from "./image.ts";
import type { Header } from "./png_decode.ts";

/** Reads pixel `column` of an unfiltered row into 8-bit RGBA at `out[at]`. */
export type PixelReader = (
  rows: Uint8Array,
  row: number,
  column: number,
  out: Uint8Array,
  at: number,
) => void;

/** The pixel reader for images with header `h` (palette and `tRNS` applied). */
export function pixelReader(
  h: Header,
  palette: Uint8Array | undefined,
  trns: Uint8Array | undefined,
): PixelReader {
  const { depth, colorType } = h;
  const channels = CHANNELS[colorType]!;
  // Sample `s` of pixel `column`, scaled to 8 bits (or the raw index for palettes).
  const sample = (rows: Uint8Array, row: number, column: number, s: number) => {
    if (depth === 8) return rows[row + column * channels + s]!;
    if (depth === 16) return rows[row + (column * channels + s) * 2]!;
    const bit = column * depth;
    const value = (rows[row + (bit >> 3)]! >> (8 - depth - (bit & 7))) &
      ((1 << depth) - 1);
    return colorType === 3 ? value : value * 255 / ((1 << depth) - 1);
  };
  // 16-bit samples compare against tRNS at full precision.
  const full = (rows: Uint8Array, row: number, column: number, s: number) =>
    depth === 16
      ? (rows[row + (column * channels + s) * 2]! << 8) |
        rows[row + (column * channels + s) * 2 + 1]!
      : depth === 8
      ? rows[row + column * channels + s]!
      : sample(rows, row, column, s) * ((1 << depth) - 1) / 255;
  const key = (i: number) =>
    trns && trns.length >= i * 2 + 2
      ? (trns[i * 2]! << 8) | trns[i * 2 + 1]!
      : -1;

  if (colorType === 3) {
    return (rows, row, column, out, at) => {
      const i = sample(rows, row, column, 0);
      if (i * 3 + 2 >= palette!.length) {
        throw new ImageError("PNG pixel refers past its palette");
      }
      out[at] = palette![i * 3]!;
      out[at + 1] = palette![i * 3 + 1]!;
      out[at + 2] = palette![i * 3 + 2]!;
      out[at + 3] = trns && i < trns.length ? trns[i]! : 255;
    };
  }
  if (colorType === 0 || colorType === 4) {
    const gray = key(0);
    return (rows, row, column, out, at) => {
      const v = sample(rows, row, column, 0);
      out[at] = out[at + 1] = out[at + 2] = v;
      out[at + 3] = colorType === 4
        ? sample(rows, row, column, 1)
        : full(rows, row, column, 0) === gray
        ? 0
        : 255;
    };
  }
  const [kr, kg, kb] = [key(0), key(1), key(2)];
  return (rows, row, column, out, at) => {
    out[at] = sample(rows, row, column, 0);
    out[at + 1] = sample(rows, row, column, 1);
    out[at + 2] = sample(rows, row, column, 2);
    out[at + 3] = colorType === 6
      ? sample(rows, row, column, 3)
      : full(rows, row, column, 0) === kr &&
          full(rows, row, column, 1) === kg &&
          full(rows, row, column, 2) === kb
      ? 0
      : 255;
  };
}
