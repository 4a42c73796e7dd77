/**
 * The replies and errors of RedisHistory's calls, as history types.
 * Private to `history/`.
 *
 * @module
 */
import { HistoryFullError, UnavailableError } from "../errors.ts";
import type { HistoryEntry } from "./history.ts";

/** A stream entry as ioredis hands it over: its id and its field list. */
export type StreamEntry = [id: string, fields: string[]];
/** The append script's reply. */
export type AppendReply = [seq: number, epoch: string];
/** The read script's reply. */
export type ReadReply = [epoch: string, seq: string, entries: StreamEntry[]];
/** The reserve script's reply. */
export type ReserveReply = [reserved: 1] | [reserved: 0, value: string | null];

/** A stream entry as a {@link HistoryEntry}; its id is `<seq>-0`. */
export function toEntry([id, fields]: StreamEntry): HistoryEntry {
  const entry: HistoryEntry = {
    seq: Number(id.slice(0, id.indexOf("-"))),
    id: "",
    ts: 0,
    dataJson: "",
  };
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1] as string;
    switch (fields[i]) {
      case "id":
        entry.id = value;
        break;
      case "ts":
        entry.ts = Number(value);
        break;
      case "data":
        entry.dataJson = value;
        break;
      case "device":
        entry.device = value;
        break;
    }
  }
  return entry;
}

/**
 * Any failure of a call as an {@link UnavailableError}; a Redis out of memory
 * (`OOM`) as a {@link HistoryFullError}.
 */
export function unavailable(what: string, error: unknown): UnavailableError {
  if (error instanceof UnavailableError) return error;
  if (describe(error).startsWith("OOM ")) {
    return new HistoryFullError(
      `history ${what} failed: Redis is full (maxmemory reached, nothing can be stored)`,
      { cause: error },
    );
  }
  return new UnavailableError(`history ${what} failed: ${describe(error)}`, {
    cause: error,
  });
}

/**
 * A failed call of a client whose status is `status` as an
 * {@link UnavailableError} that says why: a client that is not connected
 * is named by `where` (its URL without credentials).
 */
export function failure(
  what: string,
  error: unknown,
  status: string,
  where: string,
): UnavailableError {
  if (status !== "ready" && !(error instanceof UnavailableError)) {
    // ioredis' own words here are "Stream isn't writeable and
    // enableOfflineQueue options is false".
    return new UnavailableError(
      `history ${what} failed: Redis at ${where} is not connected (${status})`,
      { cause: error },
    );
  }
  return unavailable(what, error);
}

/** The message of an error, or the thrown value as text. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
