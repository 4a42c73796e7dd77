// deno-lint-ignore-file no-console
/**
 * One load-generator process: opens many WebSocket connections over raw
 * `Deno.connect` (a minimal handshake and frame parser, far cheaper than
 * `WebSocket`), records receipt times, and talks to the coordinator in JSON
 * lines: its config as `Deno.args[0]`, commands on stdin (`stats`, `reset`,
 * `close`), reports on stdout.
 *
 * Dialects: `wsgw` (`/ws?token=`, welcome frame), `raw` (`/ws?user=`,
 * welcome frame), `sio` (Engine.IO v4 over WebSocket: `0{…}` open, `40`
 * connect with `{"user"}` auth, `42[…]` events, `2` ping → `3` pong).
 *
 * @module
 */
import { signToken } from "../../shared/token.ts";
import { LatencyHistogram } from "./histogram.ts";
import {
  concat,
  encodeClientFrame,
  FrameReader,
  headerEnd,
  OPCODE,
} from "./ws_frames.ts";

/** What the coordinator tells one load client. */
export type LoadClientConfig = {
  id: number;
  dialect: "wsgw" | "raw" | "sio";
  /** Gateway addresses; a socket picks one by placement. */
  targets: { hostname: string; port: number }[];
  /** Global index of this client's first socket. */
  start: number;
  count: number;
  /** Devices per user: socket i belongs to user `u<floor(i / devices)>`. */
  devices: number;
  /** `spread`: socket i → target i % K (an L4 balancer); `user`: all devices of a user on one target. */
  placement: "spread" | "user";
  /** Handshakes in flight at once. */
  concurrency: number;
  /** Connects per second from this process; 0 for as fast as possible. */
  rate: number;
  /** HS256 secret for wsgw tokens. */
  jwtSecret?: string;
  /** Application-level ping every this many ms per socket (wsgw, raw); 0 for none. */
  heartbeatMs: number;
};

/** A user's id from a global socket index. */
export const userOf = (index: number, devices: number): string =>
  `u${Math.floor(index / devices)}`;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PING_WSGW = encodeClientFrame(
  OPCODE.text,
  encoder.encode('{"type":"ping"}'),
);
const SIO_PONG = encodeClientFrame(OPCODE.text, encoder.encode("3"));

const config = JSON.parse(Deno.args[0]!) as LoadClientConfig;
const stats = {
  open: 0,
  failed: 0,
  closed: 0,
  received: 0,
  firstReceipt: 0,
  lastReceipt: 0,
  errors: {} as Record<string, number>,
};
let latency = new LatencyHistogram();
const conns = new Set<Deno.TcpConn>();
let stopping = false;

function emit(line: Record<string, unknown>): void {
  console.log(JSON.stringify(line));
}

function fail(reason: string): void {
  stats.failed++;
  const key = reason.slice(0, 80);
  stats.errors[key] = (stats.errors[key] ?? 0) + 1;
}

/**
 * When a message started, in epoch ms: the loader's `"sent":<ms>` in the
 * payload (when the push was due), else the frame's `"ts":<ms>` (the
 * server's accept time, which leaves out the time before the API took it).
 */
function startOf(text: string): number {
  const sent = text.indexOf('"sent":');
  if (sent !== -1) return Number.parseFloat(text.slice(sent + 7, sent + 30));
  const at = text.lastIndexOf('"ts":');
  if (at === -1) return 0;
  let value = 0;
  for (let i = at + 5; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    value = value * 10 + c - 48;
  }
  return value;
}

function onMessage(text: string): void {
  const now = performance.timeOrigin + performance.now();
  stats.received++;
  if (stats.firstReceipt === 0) stats.firstReceipt = now;
  stats.lastReceipt = now;
  const start = startOf(text);
  if (start > 0) latency.record(now - start);
}

const tokens = new Map<string, Promise<string>>();
function pathFor(user: string): Promise<string> {
  if (config.dialect === "sio") {
    return Promise.resolve("/socket.io/?EIO=4&transport=websocket");
  }
  if (config.dialect === "raw") {
    return Promise.resolve(`/ws?user=${encodeURIComponent(user)}`);
  }
  let token = tokens.get(user);
  if (!token) {
    token = signToken(config.jwtSecret!, { sub: user }, "6h");
    tokens.set(user, token);
  }
  return token.then((t) => `/ws?token=${t}`);
}

/** Opens one socket; resolves once it is live (welcome / sio connect), rejects otherwise. */
async function open(index: number): Promise<void> {
  const userIndex = Math.floor(index / config.devices);
  const user = `u${userIndex}`;
  const k = config.targets.length;
  const target = config.targets[
    config.placement === "user" ? userIndex % k : index % k
  ]!;
  const path = await pathFor(user);
  const conn = await Deno.connect({
    hostname: target.hostname,
    port: target.port,
  });
  conns.add(conn);
  conn.setNoDelay(true);
  const live = Promise.withResolvers<void>();
  let isLive = false;
  const goLive = () => {
    if (isLive) return;
    isLive = true;
    live.resolve();
  };
  const send = (bytes: Uint8Array) => {
    conn.write(bytes).catch(() => {});
  };
  await conn.write(encoder.encode(
    `GET ${path} HTTP/1.1\r\nHost: ${target.hostname}:${target.port}\r\n` +
      "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  ));
  const reader = new FrameReader();
  const onText = (text: string) => {
    if (config.dialect === "sio") {
      if (text.startsWith("42")) onMessage(text);
      else if (text === "2") send(SIO_PONG);
      else if (text.startsWith("0{")) {
        send(encodeClientFrame(
          OPCODE.text,
          encoder.encode(`40${JSON.stringify({ user })}`),
        ));
      } else if (text.startsWith("40")) goLive();
      return;
    }
    if (!isLive) {
      if (text.includes('"welcome"')) goLive();
      else live.reject(new Error(`first frame: ${text.slice(0, 60)}`));
      return;
    }
    if (text.charCodeAt(9) === 109 /* {"type":"m */) onMessage(text);
  };
  (async () => {
    const buf = new Uint8Array(16384);
    let handshook = false;
    let head: Uint8Array = new Uint8Array(0);
    try {
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        let chunk: Uint8Array = buf.subarray(0, n);
        if (!handshook) {
          head = concat(head, chunk);
          const end = headerEnd(head);
          if (end === -1) continue;
          const status = decoder.decode(head.subarray(0, Math.min(end, 40)));
          if (!status.startsWith("HTTP/1.1 101")) {
            throw new Error(`upgrade refused: ${status.split("\r\n")[0]}`);
          }
          handshook = true;
          chunk = head.subarray(end);
          head = new Uint8Array(0);
        }
        for (const frame of reader.push(chunk)) {
          if (frame.opcode === OPCODE.text) {
            onText(decoder.decode(frame.payload));
          } else if (frame.opcode === OPCODE.ping) {
            send(encodeClientFrame(OPCODE.pong, frame.payload));
          } else if (frame.opcode === OPCODE.close) {
            throw new Error(
              `closed by server: ${
                frame.payload.length >= 2
                  ? (frame.payload[0]! << 8) | frame.payload[1]!
                  : 1005
              }`,
            );
          }
        }
      }
      throw new Error("connection ended");
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (isLive) {
        stats.open--;
        if (!stopping) {
          stats.closed++;
          const key = `after open: ${message}`.slice(0, 80);
          stats.errors[key] = (stats.errors[key] ?? 0) + 1;
        }
      } else live.reject(new Error(message));
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* closed already */ }
    }
  })();
  await live.promise;
  stats.open++;
  if (config.heartbeatMs > 0 && config.dialect !== "sio") {
    // Spread over the interval so the heartbeats do not come in waves.
    const timer = setTimeout(function beat() {
      if (stopping || !conns.has(conn)) return;
      send(PING_WSGW);
      setTimeout(beat, config.heartbeatMs);
    }, Math.random() * config.heartbeatMs);
    Deno.unrefTimer(timer);
  }
}

async function openAll(): Promise<void> {
  const began = performance.now();
  let next = 0;
  const interval = config.rate > 0 ? 1000 / config.rate : 0;
  const worker = async () => {
    while (!stopping) {
      const i = next++;
      if (i >= config.count) return;
      if (interval > 0) {
        const due = began + i * interval;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      try {
        await open(config.start + i);
      } catch (error) {
        fail(error instanceof Error ? error.message : String(error));
      }
    }
  };
  const progress = setInterval(
    () =>
      emit({
        type: "progress",
        id: config.id,
        open: stats.open,
        failed: stats.failed,
      }),
    1000,
  );
  await Promise.all(
    Array.from({ length: Math.min(config.concurrency, config.count) }, worker),
  );
  clearInterval(progress);
  emit({
    type: "ready",
    id: config.id,
    open: stats.open,
    failed: stats.failed,
    errors: stats.errors,
    ms: Math.round(performance.now() - began),
  });
}

async function commands(): Promise<void> {
  let rest = "";
  for await (const chunk of Deno.stdin.readable) {
    rest += decoder.decode(chunk);
    let nl;
    while ((nl = rest.indexOf("\n")) !== -1) {
      const command = rest.slice(0, nl).trim();
      rest = rest.slice(nl + 1);
      if (command === "reset") {
        stats.received = 0;
        stats.firstReceipt = 0;
        stats.lastReceipt = 0;
        latency = new LatencyHistogram();
        emit({ type: "reset", id: config.id });
      } else if (command === "stats") {
        emit({
          type: "stats",
          id: config.id,
          open: stats.open,
          failed: stats.failed,
          closed: stats.closed,
          received: stats.received,
          firstReceipt: stats.firstReceipt,
          lastReceipt: stats.lastReceipt,
          latency: latency.toJSON(),
          errors: stats.errors,
        });
      } else if (command === "close") {
        return;
      }
    }
  }
}

// A coordinator that dies must not leave us holding sockets: stdin ends, we exit.
const opening = openAll();
await commands();
stopping = true;
for (const conn of conns) {
  try {
    conn.close();
  } catch { /* closed already */ }
}
await Promise.race([opening, new Promise((r) => setTimeout(r, 1000))]);
emit({ type: "closed", id: config.id });
Deno.exit(0);
