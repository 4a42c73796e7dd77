// deno-lint-ignore-file no-console
/**
 * One load process of the `storm` scenario: opens `count` wsgw sockets (one
 * device per user) over raw TCP and, when a socket drops, reconnects it like
 * a well-behaved client: a jittered first delay, exponential backoff, a 503's
 * `Retry-After` honoured, another node picked at random, and `since`/`epoch`
 * sent so the node replays what the socket missed. Every socket checks its
 * seqs: one below or equal to the last seen is a duplicate, one skipping
 * ahead a gap. Used by `storm` and `hold`. Commands on stdin: `stats`
 * (counters), `downs` (ms each reconnect took), `seqs`, `close`; reports on
 * stdout (JSON lines): `progress` each second while opening, then `ready`.
 *
 * @module
 */
import { signToken } from "../../shared/token.ts";
import { otherTarget } from "./other_target.ts";
import {
  concat,
  encodeClientFrame,
  FrameReader,
  headerEnd,
  OPCODE,
} from "./ws_frames.ts";

/** What the coordinator tells one storm client. */
export type StormClientConfig = {
  id: number;
  targets: { hostname: string; port: number }[];
  /** Global index of this client's first socket (user `u<index>`). */
  start: number;
  count: number;
  jwtSecret: string;
  /** Handshakes in flight at once while opening. */
  concurrency: number;
  /** `{"type":"ping"}` every this many ms per socket, as `/client.js` does; 0 for none. */
  heartbeatMs: number;
};

type Socket = {
  user: string;
  target: number;
  lastSeq: number;
  epoch: string;
  /** Its token, signed on the first connect. */
  token?: string;
  /** `Date.now()` it dropped, while it is down. */
  droppedAt: number | undefined;
};

const config = JSON.parse(Deno.args[0]!) as StormClientConfig;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const stats = {
  open: 0,
  dropped: 0,
  reconnected: 0,
  attempts: 0,
  overloaded: 0,
  duplicates: 0,
  gaps: 0,
  /** Messages with a seq received (replays included). */
  received: 0,
  /** `Date.now()` of the first and the last drop this process noticed; 0 before any. */
  firstDropAt: 0,
  lastDropAt: 0,
  /** Longest delay of a 100 ms timer since the last `stats`: how long the event loop was held up. */
  maxLagMs: 0,
  errors: {} as Record<string, number>,
  /** ms from drop to back, one entry per reconnect. */
  downMs: [] as number[],
};
let stopping = false;
const conns = new Set<Deno.TcpConn>();
const emit = (line: Record<string, unknown>) =>
  console.log(JSON.stringify(line));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function count(reason: string): void {
  const key = reason.slice(0, 80);
  stats.errors[key] = (stats.errors[key] ?? 0) + 1;
}

class Refused extends Error {
  constructor(readonly status: number, readonly retryAfter: number) {
    super(`upgrade refused: ${status}`);
  }
}

/** How long a connect may wait for the welcome frame. */
const HANDSHAKE_TIMEOUT_MS = 30_000;

/** Connects `socket` once; resolves once welcomed, rejects otherwise. */
async function connect(socket: Socket): Promise<void> {
  const target = config.targets[socket.target]!;
  // Signed once per socket and kept, as a real client keeps its token:
  // the storm measures the nodes, not the clients' HMAC.
  socket.token ??= await signToken(
    config.jwtSecret,
    { sub: socket.user },
    "6h",
  );
  const token = socket.token;
  const resume = socket.epoch
    ? `&since=${socket.lastSeq}&epoch=${encodeURIComponent(socket.epoch)}`
    : "";
  const conn = await Deno.connect(target);
  conns.add(conn);
  const live = Promise.withResolvers<void>();
  let isLive = false;
  await conn.write(encoder.encode(
    `GET /ws?token=${token}${resume} HTTP/1.1\r\nHost: ${target.hostname}\r\n` +
      "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  ));
  const onText = (text: string) => {
    const frame = JSON.parse(text) as {
      type: string;
      seq?: number;
      epoch?: string;
    };
    if (frame.type === "welcome") {
      if (frame.epoch !== socket.epoch) socket.lastSeq = 0;
      socket.epoch = frame.epoch ?? "";
      isLive = true;
      live.resolve();
    } else if (frame.type === "message" && frame.seq) {
      stats.received++;
      if (frame.seq <= socket.lastSeq) stats.duplicates++;
      else {
        if (frame.seq > socket.lastSeq + 1) {
          stats.gaps += frame.seq - socket.lastSeq - 1;
        }
        socket.lastSeq = frame.seq;
      }
    }
  };
  (async () => {
    const buf = new Uint8Array(16384);
    const reader = new FrameReader();
    let head: Uint8Array | undefined = new Uint8Array(0);
    try {
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        let chunk: Uint8Array = buf.subarray(0, n);
        if (head) {
          head = concat(head, chunk);
          const end = headerEnd(head);
          if (end === -1) continue;
          const status = decoder.decode(head.subarray(0, end));
          if (!status.startsWith("HTTP/1.1 101")) {
            const code = Number(status.slice(9, 12));
            const after = /retry-after: *(\d+)/i.exec(status)?.[1];
            throw new Refused(code, Number(after ?? 0));
          }
          chunk = head.subarray(end);
          head = undefined;
        }
        for (const frame of reader.push(chunk)) {
          if (frame.opcode === OPCODE.text) {
            onText(decoder.decode(frame.payload));
          } else if (frame.opcode === OPCODE.ping) {
            conn.write(encodeClientFrame(OPCODE.pong, frame.payload)).catch(
              () => {},
            );
          } else if (frame.opcode === OPCODE.close) {
            const code = frame.payload.length >= 2
              ? (frame.payload[0]! << 8) | frame.payload[1]!
              : 1005;
            throw new Error(`closed by server: ${code}`);
          }
        }
      }
      throw new Error("connection ended");
    } catch (error) {
      if (!isLive) live.reject(error);
      else if (!stopping) {
        stats.open--;
        stats.dropped++;
        socket.droppedAt = Date.now();
        stats.firstDropAt ||= socket.droppedAt;
        stats.lastDropAt = socket.droppedAt;
        count(`dropped: ${error instanceof Error ? error.message : error}`);
        void reconnect(socket);
      }
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* closed already */ }
    }
  })();
  // A handshake the node never answers (its accept queue overflowed, it
  // hung) must not hold an opening worker forever: give up and retry.
  const timer = setTimeout(() => {
    if (isLive) return;
    live.reject(new Error(`no welcome within ${HANDSHAKE_TIMEOUT_MS} ms`));
    try {
      conn.close();
    } catch { /* closed already */ }
  }, HANDSHAKE_TIMEOUT_MS);
  try {
    await live.promise;
  } finally {
    clearTimeout(timer);
  }
  stats.open++;
  if (config.heartbeatMs > 0) heartbeat(conn);
}

const PING = encodeClientFrame(
  OPCODE.text,
  encoder.encode('{"type":"ping"}'),
);

/** Pings `conn` every `heartbeatMs` while it is open, the first at a random offset. */
function heartbeat(conn: Deno.TcpConn): void {
  const beat = () => {
    if (stopping || !conns.has(conn)) return;
    conn.write(PING).catch(() => {});
    Deno.unrefTimer(setTimeout(beat, config.heartbeatMs));
  };
  // Spread over the interval so the heartbeats do not come in waves.
  Deno.unrefTimer(setTimeout(beat, Math.random() * config.heartbeatMs));
}

/** Brings `socket` back: jitter, backoff, Retry-After, the next node. */
async function reconnect(socket: Socket): Promise<void> {
  // Spread the first attempts of everyone who dropped at once over 1 s.
  let delay = Math.random() * 1000;
  for (let attempt = 0; !stopping; attempt++) {
    await sleep(delay);
    if (stopping) return;
    socket.target = otherTarget(socket.target, config.targets.length);
    stats.attempts++;
    try {
      await connect(socket);
      stats.reconnected++;
      stats.downMs.push(Date.now() - socket.droppedAt!);
      socket.droppedAt = undefined;
      return;
    } catch (error) {
      count(`reconnect: ${error instanceof Error ? error.message : error}`);
      const base = Math.min(3000, 100 * 2 ** attempt);
      delay = base / 2 + Math.random() * base / 2;
      if (error instanceof Refused && error.retryAfter > 0) {
        stats.overloaded++;
        delay = error.retryAfter * 1000 * (1 + Math.random() * 0.5);
      }
    }
  }
}

async function openAll(sockets: Socket[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < sockets.length && !stopping; i = next++) {
      try {
        await connect(sockets[i]!);
      } catch (error) {
        count(`open: ${error instanceof Error ? error.message : error}`);
        sockets[i]!.droppedAt = Date.now();
        void reconnect(sockets[i]!);
      }
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, worker));
}

const sockets: Socket[] = Array.from({ length: config.count }, (_, i) => ({
  user: `u${config.start + i}`,
  target: (config.start + i) % config.targets.length,
  lastSeq: 0,
  epoch: "",
  droppedAt: undefined,
}));
let tick = performance.now();
Deno.unrefTimer(setInterval(() => {
  const now = performance.now();
  stats.maxLagMs = Math.max(stats.maxLagMs, Math.round(now - tick - 100));
  tick = now;
}, 100));
const began = performance.now();
const progress = setInterval(
  () =>
    emit({
      type: "progress",
      id: config.id,
      open: stats.open,
      dropped: stats.dropped,
      errors: stats.errors,
    }),
  1000,
);
await openAll(sockets);
clearInterval(progress);
emit({
  type: "ready",
  id: config.id,
  open: stats.open,
  ms: Math.round(performance.now() - began),
});

let rest = "";
for await (const chunk of Deno.stdin.readable) {
  rest += decoder.decode(chunk);
  let nl;
  while ((nl = rest.indexOf("\n")) !== -1) {
    const command = rest.slice(0, nl).trim();
    rest = rest.slice(nl + 1);
    if (command === "stats") {
      const { downMs: _, ...counters } = stats;
      emit({ type: "stats", id: config.id, ...counters });
      stats.maxLagMs = 0;
    } else if (command === "downs") {
      emit({ type: "downs", id: config.id, downMs: stats.downMs });
    } else if (command === "seqs") {
      const seqs = Object.fromEntries(sockets.map((s) => [s.user, s.lastSeq]));
      emit({ type: "seqs", id: config.id, seqs });
    } else if (command === "close") {
      stopping = true;
    }
  }
  if (stopping) break;
}
stopping = true;
for (const conn of conns) {
  try {
    conn.close();
  } catch { /* closed already */ }
}
emit({ type: "closed", id: config.id });
Deno.exit(0);
