/**
 * A real, throwaway etcd for integration tests: `etcd` spawned in a temp dir
 * on free loopback ports, the way nats.js's `nst` runs `nats-server`. Tests
 * hold it with `await using`; `stop()`/`restart()` keep the data dir and the
 * ports, so clients see the same endpoint come back with the same data.
 *
 * @example
 * ```ts
 * await using etcd = await startEtcd();
 * const registry = await EtcdRegistry.connect({ endpoints: [etcd.endpoint], … });
 * ```
 *
 * @module
 */
import { freePort } from "../cluster/ports.ts";

/** A running (or stopped) etcd started by {@link startEtcd}. */
export type EtcdServer = AsyncDisposable & {
  /** Client URL, e.g. `http://127.0.0.1:23790`. */
  readonly endpoint: string;
  /** Data directory; kept across `stop()`/`restart()`, removed on dispose. */
  readonly dataDir: string;
  /** True between a start and a stop/kill. */
  readonly running: boolean;
  /** SIGTERM, then waits for the exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open, nothing answers. */
  pause(): void;
  /** Thaws a paused process (SIGCONT). */
  resume(): void;
  /** Starts again on the same data dir and ports (stops it first if running). */
  restart(): Promise<void>;
  /** Runs `etcdctl` against this server; resolves with its stdout. */
  etcdctl(...args: string[]): Promise<string>;
  /** The current store revision. */
  revision(): Promise<number>;
  /** Compacts the store up to `revision` (default: the current one). */
  compact(revision?: number): Promise<number>;
};

/** Options of {@link startEtcd}. */
export type EtcdServerOptions = {
  /** Milliseconds to wait for the first answer. @default 15000 */
  startTimeout?: number;
  /** Extra `etcd` flags, e.g. `["--experimental-watch-progress-notify-interval=1s"]`. */
  args?: string[];
  /** Print etcd's own log on stderr (otherwise only its tail on failure). */
  verbose?: boolean;
};

/** The last lines of etcd's log we keep to explain a failed start. */
const LOG_TAIL = 40;

/**
 * Spawns etcd on free 127.0.0.1 client and peer ports in a fresh temp dir and
 * resolves once it answers `/health`.
 *
 * @throws {Error} with the tail of etcd's log when it exits or stays silent.
 */
export async function startEtcd(
  options: EtcdServerOptions = {},
): Promise<EtcdServer> {
  const dataDir = await Deno.makeTempDir({ prefix: "wsgw-etcd-" });
  // A free port can be taken between freePort() and etcd's bind: try again
  // with new ports a couple of times before giving up.
  for (let attempt = 1;; attempt++) {
    const client = `http://127.0.0.1:${freePort()}`;
    const peer = `http://127.0.0.1:${freePort()}`;
    const server = new EtcdProcess({
      name: "wsgw-test",
      dataDir,
      clientUrl: client,
      peerUrl: peer,
      initialCluster: `wsgw-test=${peer}`,
      // One member on loopback: elect it in ~100 ms instead of ~1 s.
      timing: ["--heartbeat-interval=10", "--election-timeout=100"],
    }, options);
    try {
      await server.start();
      return server;
    } catch (error) {
      await server.kill();
      if (attempt >= 3 || !/address already in use/.test(server.tail())) {
        await removeAll(dataDir);
        throw error;
      }
      await removeAll(`${dataDir}/member`);
    }
  }
}

/** Where and how one etcd member runs (see {@link EtcdProcess}). */
export type EtcdMemberSpec = {
  name: string;
  dataDir: string;
  clientUrl: string;
  peerUrl: string;
  /** `--initial-cluster`, e.g. `a=http://10.0.0.2:2380,b=…`. */
  initialCluster: string;
  /** Raft timing flags (`--heartbeat-interval`, `--election-timeout`). */
  timing: string[];
  /** Network namespace to run in (`ip netns exec`), if any. */
  netns?: string;
};

/** One etcd process; {@link startEtcd} and `startEtcdCluster` build on it. */
export class EtcdProcess implements EtcdServer {
  readonly endpoint: string;
  readonly dataDir: string;
  readonly #args: string[];
  readonly #netns: string | undefined;
  readonly #options: EtcdServerOptions;
  #child: Deno.ChildProcess | undefined;
  #logPump: Promise<void> | undefined;
  #log: string[] = [];

  constructor(spec: EtcdMemberSpec, options: EtcdServerOptions) {
    this.dataDir = spec.dataDir;
    this.endpoint = spec.clientUrl;
    this.#netns = spec.netns;
    this.#options = options;
    this.#args = [
      `--name=${spec.name}`,
      `--data-dir=${spec.dataDir}`,
      `--listen-client-urls=${spec.clientUrl}`,
      `--advertise-client-urls=${spec.clientUrl}`,
      `--listen-peer-urls=${spec.peerUrl}`,
      `--initial-advertise-peer-urls=${spec.peerUrl}`,
      `--initial-cluster=${spec.initialCluster}`,
      "--initial-cluster-state=new",
      "--log-level=warn",
      ...spec.timing,
      ...(options.args ?? []),
    ];
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  tail(): string {
    return this.#log.join("\n");
  }

  async start(): Promise<void> {
    if (this.#child) return;
    // `ip netns exec` execs etcd in place: the child's pid is etcd's.
    const [command, args] = this.#netns
      ? ["ip", ["netns", "exec", this.#netns, "etcd", ...this.#args]]
      : ["etcd", this.#args];
    const child = new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#log = [];
    this.#logPump = this.#pump(child.stderr);
    let exited = false;
    child.status.then(() => exited = true);
    const timeout = this.#options.startTimeout ?? 15000;
    const deadline = Date.now() + timeout;
    while (true) {
      if (exited) {
        throw new Error(`etcd exited during start:\n${this.tail()}`);
      }
      if (await this.#healthy()) return;
      if (Date.now() >= deadline) {
        throw new Error(
          `etcd did not answer within ${timeout} ms:\n${this.tail()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async #healthy(): Promise<boolean> {
    try {
      const response = await fetch(`${this.endpoint}/health`, {
        signal: AbortSignal.timeout(1000),
      });
      const body = await response.json() as { health?: string };
      return response.ok && body.health === "true";
    } catch {
      return false; // not listening yet: the caller polls again
    }
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const lines = stream.pipeThrough(new TextDecoderStream());
    let rest = "";
    for await (const chunk of lines) {
      if (this.#options.verbose) {
        await Deno.stderr.write(new TextEncoder().encode(chunk));
      }
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      this.#log.push(...parts);
      if (this.#log.length > LOG_TAIL) {
        this.#log.splice(0, this.#log.length - LOG_TAIL);
      }
    }
    if (rest) this.#log.push(rest);
  }

  async #signal(signal: Deno.Signal, graceMs: number): Promise<void> {
    const child = this.#child;
    if (!child) return;
    signalChild(child, signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        signalChild(child, "SIGKILL");
        resolve();
      }, graceMs);
    });
    await Promise.race([child.status, killed]);
    clearTimeout(timer);
    await child.status;
    await this.#logPump;
    this.#child = undefined;
  }

  stop(): Promise<void> {
    this.resume(); // a frozen process cannot act on SIGTERM
    return this.#signal("SIGTERM", 5000);
  }

  kill(): Promise<void> {
    return this.#signal("SIGKILL", 5000);
  }

  pause(): void {
    this.#child?.kill("SIGSTOP");
  }

  resume(): void {
    this.#child?.kill("SIGCONT");
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async etcdctl(...args: string[]): Promise<string> {
    const output = await new Deno.Command("etcdctl", {
      args: [`--endpoints=${this.endpoint}`, "--command-timeout=5s", ...args],
      env: { ETCDCTL_API: "3" },
      stdin: "null",
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    if (!output.success) {
      const stderr = new TextDecoder().decode(output.stderr);
      throw new Error(`etcdctl ${args.join(" ")} failed: ${stderr.trim()}`);
    }
    return stdout;
  }

  async revision(): Promise<number> {
    const status = JSON.parse(
      await this.etcdctl("endpoint", "status", "--write-out=json"),
    ) as { Status: { header: { revision: number } } }[];
    const revision = status[0]?.Status.header.revision;
    if (revision === undefined) throw new Error("etcd reported no revision");
    return revision;
  }

  async compact(revision?: number): Promise<number> {
    const target = revision ?? await this.revision();
    await this.etcdctl("compact", String(target), "--physical");
    return target;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    await removeAll(this.dataDir);
  }
}

/** Sends `signal` unless the child has exited (Deno throws a TypeError then). */
function signalChild(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
}

/** Removes a directory tree; one already gone is fine. */
export async function removeAll(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
