/**
 * A forced full GC (and the V8 heap size after it) of a process the bench
 * started with `--inspect`, through the V8 inspector protocol: the
 * `connections` scenario measures RSS per idle socket after a GC without the
 * gateway having a GC endpoint or a bench-only code path. Works for Deno and
 * Node alike (`HeapProfiler.collectGarbage`, `Runtime.getHeapUsage`).
 *
 * @module
 */
import { freePort } from "../cluster/ports.ts";

/** V8 heap of one process, in bytes. */
export type HeapUsage = { usedBytes: number; totalBytes: number };

/**
 * A loopback port for a process's inspector and the flag that opens it
 * (`--inspect=127.0.0.1:<port>`: the same for `deno run` and `node`).
 */
export function inspectorFlag(): { port: number; flag: string } {
  const port = freePort();
  return { port, flag: `--inspect=127.0.0.1:${port}` };
}

/** Connects to the inspector on `port`; the caller closes the session. */
export async function openInspector(port: number): Promise<InspectorSession> {
  const response = await fetch(`http://127.0.0.1:${port}/json/list`, {
    signal: AbortSignal.timeout(10_000),
  });
  const targets = await response.json() as { webSocketDebuggerUrl: string }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`inspector on port ${port} lists no target`);
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () =>
      reject(new Error(`inspector on port ${port}: could not connect`));
  });
  return new InspectorSession(socket);
}

/** One inspector session: protocol calls and their answers. */
export class InspectorSession {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, (answer: Answer) => void>();
  #id = 0;

  constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const answer = JSON.parse(event.data as string) as Answer;
      if (answer.id !== undefined) this.#pending.get(answer.id)?.(answer);
    };
  }

  /** Calls `method`; rejects with the protocol's error message. */
  call<T>(method: string, params: unknown = {}): Promise<T> {
    const id = ++this.#id;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`inspector: no answer to ${method} within 120 s`));
      }, 120_000);
      this.#pending.set(id, (answer) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        if (answer.error) {
          reject(new Error(`inspector ${method}: ${answer.error.message}`));
        } else resolve(answer.result as T);
      });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Two full GCs (the second frees what finalizers of the first let go), then the heap's size. */
  async collectGarbage(): Promise<HeapUsage> {
    await this.call("HeapProfiler.collectGarbage");
    await this.call("HeapProfiler.collectGarbage");
    const usage = await this.call<{ usedSize: number; totalSize: number }>(
      "Runtime.getHeapUsage",
    );
    return { usedBytes: usage.usedSize, totalBytes: usage.totalSize };
  }

  close(): Promise<void> {
    if (this.#socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.#socket.onclose = () => resolve();
      this.#socket.close();
    });
  }
}

type Answer = {
  id?: number;
  result?: unknown;
  error?: { message: string };
};

/** Forces a GC in every process listening on `ports`; the sum of their heaps after it. */
export async function collectGarbage(
  ports: readonly number[],
): Promise<HeapUsage> {
  const usages = await Promise.all(ports.map(async (port) => {
    const session = await openInspector(port);
    try {
      return await session.collectGarbage();
    } finally {
      await session.close();
    }
  }));
  return {
    usedBytes: usages.reduce((sum, u) => sum + u.usedBytes, 0),
    totalBytes: usages.reduce((sum, u) => sum + u.totalBytes, 0),
  };
}
