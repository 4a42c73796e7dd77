/**
 * The cover filters, each one color matrix in the layout of SVG's
 * `feColorMatrix` (4 rows of 5: R, G, B, A, offset; values 0..1), taken from
 * the Filter Effects spec's `grayscale()`, `sepia()` and `invert()`, applied
 * to decoded pixels (PNG and JPEG alike), so a cover looks as the same CSS
 * filter would show it.
 *
 * @module
 */
import type { Rgba } from "./image.ts";

/** The filters a creator can pick, with their labels. */
export const FILTERS = {
  grayscale: {
    label: "Grayscale",
    matrix: [
      [0.2126, 0.7152, 0.0722, 0, 0],
      [0.2126, 0.7152, 0.0722, 0, 0],
      [0.2126, 0.7152, 0.0722, 0, 0],
      [0, 0, 0, 1, 0],
    ],
  },
  sepia: {
    label: "Sepia",
    matrix: [
      [0.393, 0.769, 0.189, 0, 0],
      [0.349, 0.686, 0.168, 0, 0],
      [0.272, 0.534, 0.131, 0, 0],
      [0, 0, 0, 1, 0],
    ],
  },
  invert: {
    label: "Invert",
    matrix: [
      [-1, 0, 0, 0, 1],
      [0, -1, 0, 0, 1],
      [0, 0, -1, 0, 1],
      [0, 0, 0, 1, 0],
    ],
  },
} as const;

/** A filter name: `grayscale`, `sepia` or `invert`. */
export type FilterName = keyof typeof FILTERS;

/** Every filter name, for schemas. */
export const FILTER_NAMES = Object.keys(FILTERS) as [
  FilterName,
  ...FilterName[],
];

/** Applies a filter to every pixel; returns a new image. */
export function applyFilter(image: Rgba, filter: FilterName): Rgba {
  const m = FILTERS[filter].matrix.flat();
  const src = image.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i += 4) {
    const r = src[i]!, g = src[i + 1]!, b = src[i + 2]!, a = src[i + 3]!;
    // Uint8ClampedArray-style rounding and clamping by hand: Uint8Array wraps.
    for (let row = 0; row < 4; row++) {
      const k = row * 5;
      const v = m[k]! * r + m[k + 1]! * g + m[k + 2]! * b + m[k + 3]! * a +
        m[k + 4]! * 255;
      out[i + row] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
  }
  return { width: image.width, height: image.height, data: out };
}
