// deno-lint-ignore-file no-console
/**
 * The HTTP push load loop, a process of its own: `concurrency` keep-alive
 * connections (raw HTTP/1.1 over `Deno.connect`, cheaper than `fetch`), each
 * POSTing `{"users": ["u<random>"], "data": {"n":…,"sent":…}}`. Closed loop
 * (`rate` 0): each connection sends its next push when the last is answered.
 * Open loop (`rate` R): pushes are due at a fixed R per second whatever the
 * answers; a due push waits for a free connection, and its latency (API and
 * end-to-end, through `sent` in the payload) counts from when it was due, so
 * an overloaded system shows queueing instead of a slower offered rate.
 * Config as `Deno.args[0]`; JSON lines on stdout: `progress` each second,
 * `measuring` when the warm-up ends, `done` with counts and the latency
 * histogram of the measured window.
 *
 * @module
 */
import { LatencyHistogram } from "./histogram.ts";
import { concat, headerEnd } from "./ws_frames.ts";

/** What the coordinator tells the loader. */
export type HttpLoadConfig = {
  /** e.g. `http://127.0.0.1:8080/v1/push` */
  url: string;
  /** `Authorization` header value, if any. */
  authorization?: string;
  /** Users `u0`…`u<users-1>`; each request picks one at random. */
  users: number;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Pushes per second offered in total (open loop); 0 for a closed loop. */
  rate?: number;
};

const config = JSON.parse(Deno.args[0]!) as HttpLoadConfig;
const url = new URL(config.url);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const head = `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n` +
  (config.authorization ? `Authorization: ${config.authorization}\r\n` : "") +
  "Content-Type: application/json\r\n";

const latency = new LatencyHistogram();
const statuses: Record<string, number> = {};
const errors: Record<string, number> = {};
let measuring = false;
let stopping = false;
let requests = 0;
let total = 0;
let seq = 0;
/** Open loop: due times (performance.now() ms) not yet sent; waiting workers. */
const due: number[] = [];
let dueHead = 0;
const idle: ((at: number | undefined) => void)[] = [];
let offered = 0;

function emit(line: Record<string, unknown>): void {
  console.log(JSON.stringify(line));
}

/** The next push's due time: now (closed loop), or the oldest due one (open loop). */
function nextDue(): Promise<number | undefined> | number | undefined {
  if (stopping) return undefined;
  if (!config.rate) return performance.now();
  if (dueHead < due.length) return due[dueHead++];
  return new Promise((resolve) => idle.push(resolve));
}

async function worker(): Promise<void> {
  let conn: Deno.TcpConn | undefined;
  const buf = new Uint8Array(65536);
  let rest: Uint8Array = new Uint8Array(0);
  while (!stopping) {
    const began = await nextDue();
    if (began === undefined) break;
    try {
      conn ??= await Deno.connect({
        hostname: url.hostname,
        port: Number(url.port),
      });
      const user = `u${Math.floor(Math.random() * config.users)}`;
      // `sent`: when the push was due, in epoch ms; clients measure from it.
      const sent = (performance.timeOrigin + began).toFixed(2);
      const body = `{"users":["${user}"],"data":{"n":${seq++},"sent":${sent}}}`;
      const request = encoder.encode(
        `${head}Content-Length: ${body.length}\r\n\r\n${body}`,
      );
      await conn.write(request);
      // Read one response: head, then Content-Length bytes (or a chunked body).
      let end = -1;
      while ((end = headerEnd(rest)) === -1) {
        const n = await conn.read(buf);
        if (n === null) throw new Error("connection closed");
        rest = concat(rest, buf.subarray(0, n));
      }
      const headText = decoder.decode(rest.subarray(0, end)).toLowerCase();
      const status = headText.slice(9, 12);
      const lengthMatch = /content-length: *(\d+)/.exec(headText);
      let bodyEnd: number;
      if (lengthMatch) {
        bodyEnd = end + Number(lengthMatch[1]);
        while (rest.length < bodyEnd) {
          const n = await conn.read(buf);
          if (n === null) throw new Error("connection closed");
          rest = concat(rest, buf.subarray(0, n));
        }
      } else {
        // chunked: read until the terminating zero-length chunk
        while ((bodyEnd = lastChunk(rest, end)) === -1) {
          const n = await conn.read(buf);
          if (n === null) throw new Error("connection closed");
          rest = concat(rest, buf.subarray(0, n));
        }
      }
      rest = rest.slice(bodyEnd);
      total++;
      if (measuring) {
        requests++;
        latency.record(performance.now() - began);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
      if (headText.includes("connection: close")) {
        conn.close();
        conn = undefined;
      }
    } catch (error) {
      const key = (error instanceof Error ? error.message : String(error))
        .slice(0, 80);
      errors[key] = (errors[key] ?? 0) + 1;
      try {
        conn?.close();
      } catch { /* closed already */ }
      conn = undefined;
      rest = new Uint8Array(0);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    conn?.close();
  } catch { /* closed already */ }
}

/** End of a chunked body starting at `from`; -1 when incomplete. */
function lastChunk(b: Uint8Array, from: number): number {
  const text = decoder.decode(b.subarray(from));
  const at = text.indexOf("\r\n0\r\n\r\n");
  if (at !== -1) return from + encoder.encode(text.slice(0, at + 7)).length;
  return text.startsWith("0\r\n\r\n") ? from + 5 : -1;
}

/** Open loop: every few ms, the pushes that fell due since, to waiting workers first. */
function offer(start: number): ReturnType<typeof setInterval> {
  return setInterval(() => {
    const now = performance.now();
    const target = Math.floor((now - start) / 1000 * config.rate!);
    for (; offered < target; offered++) {
      const at = start + offered * 1000 / config.rate!;
      const waiting = idle.shift();
      if (waiting) waiting(at);
      else due.push(at);
    }
    // Drop what was handed out, now and then.
    if (dueHead > 4096) {
      due.splice(0, dueHead);
      dueHead = 0;
    }
  }, 2);
}

let last = 0;
const progress = setInterval(() => {
  emit({ type: "progress", rps: total - last, measuring });
  last = total;
}, 1000);
const workers = Array.from({ length: config.concurrency }, worker);
const offering = config.rate ? offer(performance.now()) : undefined;
await new Promise((r) => setTimeout(r, config.warmupMs));
measuring = true;
const offeredAtStart = offered;
const began = performance.now();
const startedAt = Date.now();
emit({ type: "measuring", at: startedAt });
await new Promise((r) => setTimeout(r, config.durationMs));
measuring = false;
const measuredMs = performance.now() - began;
emit({
  type: "done",
  requests,
  // Open loop: pushes due in the window, and those still waiting at its end.
  offered: offered - offeredAtStart,
  backlog: due.length - dueHead,
  measuredMs: Math.round(measuredMs),
  startedAt,
  endedAt: Date.now(),
  statuses,
  errors,
  latency: latency.toJSON(),
});
stopping = true;
clearInterval(progress);
clearInterval(offering);
for (const waiting of idle.splice(0)) waiting(undefined);
await Promise.race([
  Promise.all(workers),
  new Promise((r) => setTimeout(r, 2000)),
]);
Deno.exit(0);
