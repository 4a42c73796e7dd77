/**
 * A keys-only etcd `Range` with our own protobuf codec, for listings of a
 * million keys. npm `etcd3` decodes every key into a `Buffer` and four
 * int64 fields into strings through protobufjs; that was most of a router's
 * cold-load CPU. Here the response bytes are walked once and each key is
 * handed to a visitor as a slice of the message, so the caller makes only
 * the strings it keeps. Private to `shared/registry/`.
 *
 * Wire format (etcd `rpc.proto`): RangeRequest{1 key, 2 range_end, 3 limit,
 * 4 revision, 8 keys_only}; RangeResponse{1 header{3 revision}, 2 kvs
 * {1 key, ...}, 3 more, 4 count}.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { castGrpcError, type Etcd3 } from "etcd3";
import type { CallOptions, Client, Metadata } from "@grpc/grpc-js";

/** One keys-only range request. */
export type RawRangeRequest = {
  key: Uint8Array;
  end: Uint8Array;
  /** Keys at most; 0 for all. */
  limit: number;
  /** Read at this revision; 0 for the current one. */
  revision: number;
};

/** What a range answered, besides the keys given to the visitor. */
export type RawRangeAnswer = {
  /** The store revision the range was read at. */
  revision: number;
  /** More keys in the range past the limit. */
  more: boolean;
  /** Keys in the whole range (etcd counts past the limit). */
  count: number;
  /** Keys handed to the visitor. */
  keys: number;
  /** Copies of the first and last key handed to the visitor. */
  first: Uint8Array | undefined;
  last: Uint8Array | undefined;
};

/** Gets each key as `message[start, end)`; the message is reused after. */
export type KeyVisitor = (
  message: Uint8Array,
  start: number,
  end: number,
) => void;

/** What we need of the etcd client: one connection's gRPC client and metadata. */
type Pooled = {
  withConnection<T>(
    service: "KV",
    fn: (args: { client: Client; metadata: Metadata }) => Promise<T>,
  ): Promise<T>;
};

/**
 * Runs one keys-only range on one of the client's endpoints (its own
 * choice, with its metadata and interceptors).
 *
 * @throws the etcd3 error for a failed call (e.g. `EtcdError` "compacted").
 */
export function rawRange(
  client: Etcd3,
  request: RawRangeRequest,
  visit: KeyVisitor,
  options: CallOptions,
): Promise<RawRangeAnswer> {
  // etcd3 keeps its pool protected; this is the pool every call goes through.
  const pool = (client as unknown as { pool: Pooled }).pool;
  return pool.withConnection(
    "KV",
    ({ client: grpc, metadata }) =>
      new Promise<RawRangeAnswer>((resolve, reject) => {
        grpc.makeUnaryRequest(
          "/etcdserverpb.KV/Range",
          encodeRequest,
          (message: Buffer) => decodeResponse(message, visit),
          request,
          metadata,
          options,
          (error, answer) => {
            if (error) reject(castGrpcError(error));
            else resolve(answer!);
          },
        );
      }),
  );
}

function encodeRequest(request: RawRangeRequest): Buffer {
  const out: number[] = [];
  field(out, 1, request.key);
  field(out, 2, request.end);
  if (request.limit > 0) varintField(out, 3, request.limit);
  if (request.revision > 0) varintField(out, 4, request.revision);
  varintField(out, 8, 1); // keys_only
  return Buffer.from(out);
}

function field(out: number[], tag: number, value: Uint8Array): void {
  out.push((tag << 3) | 2);
  varint(out, value.length);
  for (const byte of value) out.push(byte);
}

function varintField(out: number[], tag: number, value: number): void {
  out.push(tag << 3);
  varint(out, value);
}

function varint(out: number[], value: number): void {
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
}

/** Walks a RangeResponse; throws on a message it cannot read. */
export function decodeResponse(
  message: Uint8Array,
  visit: KeyVisitor,
): RawRangeAnswer {
  const reader = new Reader(message, 0, message.length);
  const answer: RawRangeAnswer = {
    revision: 0,
    more: false,
    count: 0,
    keys: 0,
    first: undefined,
    last: undefined,
  };
  let lastStart = -1;
  let lastEnd = -1;
  while (reader.pos < reader.end) {
    const tag = reader.varint();
    const number = Math.floor(tag / 8);
    if (number === 2 && (tag & 7) === 2) {
      const end = reader.length();
      const kv = new Reader(message, reader.pos, end);
      reader.pos = end;
      while (kv.pos < kv.end) {
        const kvTag = kv.varint();
        if (kvTag === 0x0a) {
          const keyEnd = kv.length();
          visit(message, kv.pos, keyEnd);
          if (answer.keys++ === 0) {
            answer.first = message.slice(kv.pos, keyEnd);
          }
          lastStart = kv.pos;
          lastEnd = keyEnd;
          kv.pos = keyEnd;
        } else kv.skip(kvTag);
      }
    } else if (number === 1 && (tag & 7) === 2) {
      const end = reader.length();
      const header = new Reader(message, reader.pos, end);
      reader.pos = end;
      while (header.pos < header.end) {
        const headerTag = header.varint();
        if (headerTag === 0x18) answer.revision = header.varint();
        else header.skip(headerTag);
      }
    } else if (tag === 0x18) answer.more = reader.varint() !== 0;
    else if (tag === 0x20) answer.count = reader.varint();
    else reader.skip(tag);
  }
  if (lastStart >= 0) answer.last = message.slice(lastStart, lastEnd);
  return answer;
}

/** A cursor over one protobuf message (or sub-message). */
class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}

  /** A varint as a number (exact up to 2^53: revisions and counts fit). */
  varint(): number {
    let value = 0;
    let scale = 1;
    while (true) {
      if (this.pos >= this.end) throw new RangeError("truncated varint");
      const byte = this.bytes[this.pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
  }

  /** Reads a length prefix; returns where the delimited field ends. */
  length(): number {
    const length = this.varint(); // before reading pos: varint() moves it
    const end = this.pos + length;
    if (end > this.end) throw new RangeError("truncated field");
    return end;
  }

  /** Skips the value of a field we do not read. */
  skip(tag: number): void {
    switch (tag & 7) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        return;
      case 2:
        this.pos = this.length();
        return;
      case 5:
        this.pos += 4;
        return;
      default:
        throw new RangeError(`unexpected wire type ${tag & 7}`);
    }
  }
}
