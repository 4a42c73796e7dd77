/**
 * Lists every user key under the prefix at one revision, fast: keys only,
 * in bounded sub-ranges read in parallel. Private to `shared/registry/`.
 *
 * etcd 3.4 walks the whole rest of a range for every page of a paged
 * `Range` (to count it), so paging 1M keys 10k at a time walked ~50M index
 * entries (49.9 s). Here a range that answers "more" is not paged on: the
 * rest of it is cut at the first byte where its first and last keys differ
 * (one sub-range per URI-safe character from there on), and the pieces are
 * read concurrently, each walking only itself. Keys are decoded from the
 * message bytes (`_raw_range.ts`), node ids interned: one string per user.
 *
 * @module
 */
import type { Etcd3 } from "etcd3";
import type { RegistryKeys } from "./keys.ts";
import { prefixEnd } from "./keys.ts";
import { rawRange } from "./_raw_range.ts";

/** Options of {@link listUsers}. */
export type UserListingOptions = {
  /** Keys per request. */
  pageSize: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** Deadline of each request, in ms. */
  callTimeout: number;
};

type Range = { lo: Uint8Array; hi: Uint8Array };

/**
 * Calls `sink(user, nodeId)` for every user key at `revision`; resolves with
 * the number of requests made.
 *
 * @throws the etcd error of a failed request (e.g. "compacted": list again).
 */
export async function listUsers(
  client: Etcd3,
  keys: RegistryKeys,
  revision: number,
  options: UserListingOptions,
  sink: (user: string, nodeId: string) => void,
): Promise<number> {
  const decode = userKeyDecoder(keys, sink);
  const root = encoder.encode(keys.usersRoot);
  const queue: Range[] = [{ lo: root, hi: prefixEnd(keys.usersRoot) }];
  let requests = 0;
  let active = 0;
  let failure: unknown;
  const done = Promise.withResolvers<void>();
  const pump = () => {
    while (failure === undefined && active < options.concurrency) {
      const range = queue.pop();
      if (!range) break;
      active++;
      requests++;
      rawRange(
        client,
        {
          key: range.lo,
          end: range.hi,
          limit: options.pageSize,
          revision,
        },
        decode,
        { deadline: Date.now() + options.callTimeout },
      ).then(
        (answer) => {
          active--;
          if (answer.more && answer.first && answer.last) {
            queue.push(...splitRest(answer.first, answer.last, range.hi));
          }
          pump();
        },
        (error) => {
          active--;
          failure ??= error;
          pump();
        },
      );
    }
    if (active === 0 && (failure !== undefined || queue.length === 0)) {
      done.resolve();
    }
  };
  pump();
  await done.promise;
  if (failure !== undefined) throw failure;
  return requests;
}

/**
 * Bytes at which a sub-range may start: 16 cuts over the characters
 * `encodeURIComponent` leaves (plus `%`, and `/`, the end of the user
 * part), so one split costs at most 17 requests, empty ones included. Keys
 * with other bytes there still fall into one of the contiguous pieces, and a
 * piece that is still big is split again.
 */
const BOUNDARIES = [..."!%-/0369AIR_air~"].map((c) => c.charCodeAt(0));

/**
 * The rest of a range after a page, `(last, hi)`, as contiguous pieces:
 * what is left under `last`'s branch at the first byte where the page's
 * first and last keys differ, one piece per boundary byte after it, and
 * whatever lies past that prefix.
 */
export function splitRest(
  first: Uint8Array,
  last: Uint8Array,
  hi: Uint8Array,
): Range[] {
  const lo = new Uint8Array(last.length + 1); // the key right after `last`
  lo.set(last);
  let d = 0;
  while (d < first.length && d < last.length && first[d] === last[d]) d++;
  if (d >= last.length) return clip([{ lo, hi }], lo, hi);
  const prefix = last.subarray(0, d);
  const pieces: Range[] = [];
  let start = lo;
  for (const byte of BOUNDARIES) {
    if (byte <= last[d]!) continue;
    const bound = new Uint8Array(d + 1);
    bound.set(prefix);
    bound[d] = byte;
    pieces.push({ lo: start, hi: bound });
    start = bound;
  }
  const prefixDone = d === 0 ? hi : prefixEndBytes(prefix);
  pieces.push({ lo: start, hi: prefixDone });
  if (compare(prefixDone, hi) < 0) pieces.push({ lo: prefixDone, hi });
  return clip(pieces, lo, hi);
}

/** Keeps the pieces inside `[lo, hi)`, without empty ones. */
function clip(pieces: Range[], lo: Uint8Array, hi: Uint8Array): Range[] {
  return pieces.flatMap((piece) => {
    const start = compare(piece.lo, lo) < 0 ? lo : piece.lo;
    const end = isOpenEnd(piece.hi) || compare(piece.hi, hi) > 0
      ? hi
      : piece.hi;
    return compare(start, end) < 0 ? [{ lo: start, hi: end }] : [];
  });
}

/** etcd reads a `range_end` of one zero byte as "to the end". */
function isOpenEnd(bytes: Uint8Array): boolean {
  return bytes.length === 1 && bytes[0] === 0;
}

function prefixEndBytes(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i]!++;
      return end;
    }
  }
  return new Uint8Array([0]);
}

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

const encoder = new TextEncoder();
const utf8 = new TextDecoder();

/**
 * A string of ASCII bytes. grpc hands us a `Buffer`, whose `latin1Slice`
 * makes the string without a view object per key: twice as fast as
 * `String.fromCharCode.apply(null, subarray)`, and ~100 MB less garbage
 * per million keys.
 */
function ascii(message: Uint8Array, start: number, end: number): string {
  const buffer = message as Uint8Array & {
    latin1Slice?: (start: number, end: number) => string;
  };
  return buffer.latin1Slice
    ? buffer.latin1Slice(start, end)
    : String.fromCharCode(...message.subarray(start, end));
}
/** More distinct node ids than this are decoded, not interned. */
const MAX_INTERNED = 4096;

/**
 * A visitor that turns `<usersRoot><enc(user)>/<nodeId>` into
 * `sink(user, nodeId)` with one new string per key (the user id); anything
 * unusual (non-ASCII bytes, `%`-escapes) takes {@link RegistryKeys.parse}.
 */
export function userKeyDecoder(
  keys: RegistryKeys,
  sink: (user: string, nodeId: string) => void,
): (message: Uint8Array, start: number, end: number) => void {
  const rootLength = encoder.encode(keys.usersRoot).length;
  const nodes: { bytes: Uint8Array; id: string }[] = [];
  const nodeId = (message: Uint8Array, start: number, end: number) => {
    const length = end - start;
    search: for (const node of nodes) {
      if (node.bytes.length !== length) continue;
      for (let i = 0; i < length; i++) {
        if (node.bytes[i] !== message[start + i]) continue search;
      }
      return node.id;
    }
    const id = utf8.decode(message.subarray(start, end));
    if (nodes.length < MAX_INTERNED) {
      nodes.push({ bytes: message.slice(start, end), id });
    }
    return id;
  };
  return (message, start, end) => {
    let slash = -1;
    let plain = true;
    for (let i = start + rootLength; i < end; i++) {
      const byte = message[i]!;
      if (byte >= 0x80) plain = false;
      else if (byte === 0x2f) {
        if (slash >= 0) plain = false; // a second "/": not our layout
        slash = i;
      } else if (byte === 0x25 && slash < 0) plain = false;
    }
    if (plain && slash > start + rootLength && slash < end - 1) {
      const user = ascii(message, start + rootLength, slash);
      sink(user, nodeId(message, slash + 1, end));
      return;
    }
    const parsed = keys.parse(utf8.decode(message.subarray(start, end)));
    if (parsed?.kind === "user") sink(parsed.user, parsed.nodeId);
  };
}
