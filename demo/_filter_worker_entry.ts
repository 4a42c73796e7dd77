/**
 * The script of the filter worker: runs {@link processCover} for each
 * request and posts the result back (its bytes transferred, not copied).
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type CoverInput, processCover } from "./cover_processor.ts";
import { ImageError } from "./image/image.ts";

/** What the worker receives. */
export type FilterRequest = { id: number; input: CoverInput };
/** What the worker answers. */
export type FilterAnswer =
  | { id: number; ok: true; cover: Awaited<ReturnType<typeof processCover>> }
  | { id: number; ok: false; message: string; image: boolean };

self.onmessage = async (event: MessageEvent<FilterRequest>) => {
  const { id, input } = event.data;
  let answer: FilterAnswer;
  try {
    const cover = await processCover(input);
    answer = { id, ok: true, cover };
    self.postMessage(answer, [cover.bytes.buffer]);
  } catch (error) {
    answer = {
      id,
      ok: false,
      message: error instanceof Error ? error.message : String(error),
      image: error instanceof ImageError,
    };
    self.postMessage(answer);
  }
};
