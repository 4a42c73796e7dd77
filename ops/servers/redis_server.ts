/**
 * A throwaway redis-server for integration tests: a free port on 127.0.0.1,
 * a temp dir, no persistence. Hold it with `await using`.
 *
 * @module
 */
import { freePort } from "../cluster/ports.ts";

/** A running redis-server started by {@link startRedis}. */
export type RedisServer = AsyncDisposable & {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The server's process id while it runs. */
  readonly pid: number | undefined;
  /** SIGTERM, and waits until the process has exited. */
  stop(): Promise<void>;
  /** SIGKILL (a crash), and waits until the process has exited. */
  kill(): Promise<void>;
  /** Starts a fresh, empty server on the same port (stopping it first if running). */
  restart(): Promise<void>;
  /** SIGSTOP: connections stay open and nothing answers, like a hung host. */
  pause(): void;
  /** SIGCONT after {@link pause}. */
  resume(): void;
};

/** Starts redis-server and resolves once it answers PING. */
export async function startRedis(): Promise<RedisServer> {
  const dir = await Deno.makeTempDir({ prefix: "wsgw-redis-" });
  let port = 0;
  let child: Deno.ChildProcess | undefined;
  // The port freePort() hands out may be taken before redis binds it: retry.
  for (let attempt = 1; child === undefined; attempt++) {
    port = freePort();
    try {
      child = await spawnRedis(port, dir);
    } catch (error) {
      if (attempt === 3) {
        await Deno.remove(dir, { recursive: true });
        throw error;
      }
    }
  }

  const halt = async (signal: Deno.Signal) => {
    if (child === undefined) return;
    const running = child;
    child = undefined;
    try {
      running.kill(signal);
      // A paused server would not act on SIGTERM until continued.
      if (signal !== "SIGKILL") running.kill("SIGCONT");
    } catch (error) {
      // Already exited on its own: its status below is all we need.
      if (!(error instanceof TypeError)) throw error;
    }
    await running.status;
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid;
    },
    stop: () => halt("SIGTERM"),
    kill: () => halt("SIGKILL"),
    async restart() {
      await halt("SIGTERM");
      child = await spawnRedis(port, dir);
    },
    pause: () => child?.kill("SIGSTOP"),
    resume: () => child?.kill("SIGCONT"),
    async [Symbol.asyncDispose]() {
      await halt("SIGTERM");
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/**
 * Starts one redis-server on `port` with its files in `dir` (no persistence)
 * and `extra` arguments, resolving once it answers PING.
 */
export async function spawnRedis(
  port: number,
  dir: string,
  extra: readonly string[] = [],
): Promise<Deno.ChildProcess> {
  const child = new Deno.Command("redis-server", {
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--logfile",
      `${dir}/redis.log`,
      ...extra,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  child.status.then(() => exited = true);
  try {
    const deadline = Date.now() + 5000;
    while (!exited && !await answersPing(port)) {
      if (Date.now() > deadline) {
        throw new Error(`redis-server on port ${port} did not answer PING`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (exited) throw new Error("redis-server exited");
  } catch (error) {
    if (!exited) child.kill("SIGKILL");
    await child.status;
    const log = await Deno.readTextFile(`${dir}/redis.log`).catch(() => "");
    throw new Error(`redis-server did not start on port ${port}\n${log}`, {
      cause: error,
    });
  }
  return child;
}

async function answersPing(port: number): Promise<boolean> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch {
    return false; // not listening yet
  }
  try {
    await conn.write(new TextEncoder().encode("PING\r\n"));
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    return n !== null &&
      new TextDecoder().decode(buf.subarray(0, n)).startsWith("+PONG");
  } finally {
    conn.close();
  }
}
